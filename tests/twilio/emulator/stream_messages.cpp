#include "stream_messages.h"

#include <json-glib/json-glib.h>

#include <cstring>
#include <set>

namespace clawvoice::test::twilio_emu {

namespace {

std::string to_json(JsonBuilder *builder)
{
  JsonNode *root = json_builder_get_root(builder);
  JsonGenerator *gen = json_generator_new();
  json_generator_set_root(gen, root);
  gchar *text = json_generator_to_data(gen, nullptr);
  std::string out = text;
  g_free(text);
  g_object_unref(gen);
  json_node_unref(root);
  g_object_unref(builder);
  return out;
}

void add_string(JsonBuilder *b, const char *key, const std::string &value)
{
  json_builder_set_member_name(b, key);
  json_builder_add_string_value(b, value.c_str());
}

std::string base64(const guint8 *data, size_t len)
{
  gchar *text = g_base64_encode(data, len);
  std::string out = text;
  g_free(text);
  return out;
}

int b64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

BridgeMessage invalid(int code, std::string why)
{
  BridgeMessage m;
  m.kind = BridgeMessage::Kind::Invalid;
  m.error_code = code;
  m.error = std::move(why);
  return m;
}

/* Empty when @object has exactly the @expected members; otherwise what is wrong. */
std::string check_members(JsonObject *object, const std::set<std::string> &expected,
                          const std::string &where)
{
  std::string problems;
  GList *members = json_object_get_members(object);
  for (GList *l = members; l; l = l->next)
    if (!expected.count(static_cast<const char *>(l->data)))
      problems += (problems.empty() ? "" : ", ") + std::string("unknown field '") +
                  static_cast<const char *>(l->data) + "' in " + where;
  g_list_free(members);
  for (const auto &name : expected)
    if (!json_object_has_member(object, name.c_str()))
      problems += (problems.empty() ? "" : ", ") + std::string("missing field '") + name + "' in " + where;
  return problems;
}

bool is_string(JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member(object, member);
  return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

}  // namespace

std::string connected_message()
{
  return R"({"event":"connected","protocol":"Call","version":"1.0.0"})";
}

std::string start_message(guint64 sequence, const StreamIds &ids, const FormParams &custom)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "event", "start");
  add_string(b, "sequenceNumber", std::to_string(sequence));
  json_builder_set_member_name(b, "start");
  json_builder_begin_object(b);
  add_string(b, "accountSid", ids.account_sid);
  add_string(b, "streamSid", ids.stream_sid);
  add_string(b, "callSid", ids.call_sid);
  json_builder_set_member_name(b, "tracks");
  json_builder_begin_array(b);
  json_builder_add_string_value(b, "inbound");
  json_builder_end_array(b);
  json_builder_set_member_name(b, "mediaFormat");
  json_builder_begin_object(b);
  add_string(b, "encoding", "audio/x-mulaw");
  json_builder_set_member_name(b, "sampleRate");
  json_builder_add_int_value(b, 8000);
  json_builder_set_member_name(b, "channels");
  json_builder_add_int_value(b, 1);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "customParameters");
  json_builder_begin_object(b);
  for (const auto &[name, value] : custom)
    add_string(b, name.c_str(), value);
  json_builder_end_object(b);
  json_builder_end_object(b);
  add_string(b, "streamSid", ids.stream_sid);
  json_builder_end_object(b);
  return to_json(b);
}

std::string media_message(guint64 sequence, guint64 chunk, guint64 timestamp_ms,
                          const guint8 *mulaw, size_t len, const std::string &stream_sid)
{
  /* Built by hand: sids, numbers and base64 need no escaping, and this runs 50 times a second
   * per call. */
  std::string out;
  out.reserve(300);
  out += R"({"event":"media","sequenceNumber":")";
  out += std::to_string(sequence);
  out += R"(","media":{"track":"inbound","chunk":")";
  out += std::to_string(chunk);
  out += R"(","timestamp":")";
  out += std::to_string(timestamp_ms);
  out += R"(","payload":")";
  out += base64(mulaw, len);
  out += R"("},"streamSid":")";
  out += stream_sid;
  out += R"("})";
  return out;
}

std::string dtmf_message(guint64 sequence, char digit, const std::string &stream_sid)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "event", "dtmf");
  add_string(b, "streamSid", stream_sid);
  add_string(b, "sequenceNumber", std::to_string(sequence));
  json_builder_set_member_name(b, "dtmf");
  json_builder_begin_object(b);
  add_string(b, "track", "inbound_track");
  add_string(b, "digit", std::string(1, digit));
  json_builder_end_object(b);
  json_builder_end_object(b);
  return to_json(b);
}

std::string mark_echo_message(guint64 sequence, const std::string &name,
                              const std::string &stream_sid)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "event", "mark");
  add_string(b, "sequenceNumber", std::to_string(sequence));
  add_string(b, "streamSid", stream_sid);
  json_builder_set_member_name(b, "mark");
  json_builder_begin_object(b);
  add_string(b, "name", name);
  json_builder_end_object(b);
  json_builder_end_object(b);
  return to_json(b);
}

std::string stop_message(guint64 sequence, const StreamIds &ids)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "event", "stop");
  add_string(b, "sequenceNumber", std::to_string(sequence));
  json_builder_set_member_name(b, "stop");
  json_builder_begin_object(b);
  add_string(b, "accountSid", ids.account_sid);
  add_string(b, "callSid", ids.call_sid);
  json_builder_end_object(b);
  add_string(b, "streamSid", ids.stream_sid);
  json_builder_end_object(b);
  return to_json(b);
}

bool strict_base64_decode(const char *text, size_t len, std::vector<guint8> *out)
{
  out->clear();
  if (len % 4 != 0)
    return false;
  out->reserve(len / 4 * 3);
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      char c = text[i + k];
      if (c == '=') {
        /* Padding only in the last quantum's last one or two places. */
        if (i + 4 != len || k < 2)
          return false;
        pad++;
        v[k] = 0;
      } else {
        if (pad)
          return false;
        v[k] = b64_value(c);
        if (v[k] < 0)
          return false;
      }
    }
    guint32 bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back((bits >> 16) & 0xFF);
    if (pad < 2)
      out->push_back((bits >> 8) & 0xFF);
    if (pad < 1)
      out->push_back(bits & 0xFF);
  }
  return true;
}

const char *file_header_name(const guint8 *data, size_t len)
{
  struct Magic {
    const char *bytes;
    size_t len;
    const char *name;
  };
  /* Distinctive ASCII signatures only: raw μ-law may hold any byte pair (0xFF is silence), so
   * MP3 frame sync words cannot be told from audio. */
  static const Magic magics[] = {
      {"RIFF", 4, "RIFF/WAV"}, {"OggS", 4, "Ogg"},  {"ID3", 3, "MP3 (ID3)"},
      {"fLaC", 4, "FLAC"},     {"#!AMR", 5, "AMR"}, {".snd", 4, "Sun/NeXT AU"},
      {"FORM", 4, "AIFF"},
  };
  for (const auto &m : magics)
    if (len >= m.len && memcmp(data, m.bytes, m.len) == 0)
      return m.name;
  return nullptr;
}

BridgeMessage parse_bridge_message(const char *text, size_t len, const std::string &stream_sid)
{
  JsonParser *parser = json_parser_new_immutable();
  GError *error = nullptr;
  if (!json_parser_load_from_data(parser, text, len, &error)) {
    BridgeMessage m = invalid(kErrorInvalidMessage, std::string("not JSON: ") + error->message);
    g_error_free(error);
    g_object_unref(parser);
    return m;
  }
  JsonNode *root = json_parser_get_root(parser);
  BridgeMessage result;
  do {
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
      result = invalid(kErrorInvalidMessage, "not a JSON object");
      break;
    }
    JsonObject *object = json_node_get_object(root);
    if (!is_string(object, "event")) {
      result = invalid(kErrorInvalidMessage, "no string 'event'");
      break;
    }
    const std::string event = json_object_get_string_member(object, "event");
    std::set<std::string> expected;
    if (event == "media")
      expected = {"event", "streamSid", "media"};
    else if (event == "mark")
      expected = {"event", "streamSid", "mark"};
    else if (event == "clear")
      expected = {"event", "streamSid"};
    else {
      result = invalid(kErrorInvalidMessage, "unknown event '" + event + "'");
      break;
    }
    std::string problems = check_members(object, expected, event);
    if (!problems.empty()) {
      result = invalid(kErrorInvalidMessage, problems);
      break;
    }
    if (!is_string(object, "streamSid") ||
        stream_sid != json_object_get_string_member(object, "streamSid")) {
      result = invalid(kErrorInvalidMessage, event + " with a wrong streamSid");
      break;
    }

    if (event == "clear") {
      result.kind = BridgeMessage::Kind::Clear;
      break;
    }
    const char *inner_name = event == "media" ? "media" : "mark";
    JsonNode *inner = json_object_get_member(object, inner_name);
    if (!JSON_NODE_HOLDS_OBJECT(inner)) {
      result = invalid(kErrorInvalidMessage, std::string("'") + inner_name + "' is not an object");
      break;
    }
    JsonObject *inner_object = json_node_get_object(inner);
    const char *field = event == "media" ? "payload" : "name";
    problems = check_members(inner_object, {field}, inner_name);
    if (!problems.empty()) {
      result = invalid(kErrorInvalidMessage, problems);
      break;
    }
    if (!is_string(inner_object, field)) {
      result = invalid(kErrorInvalidMessage, std::string("'") + field + "' is not a string");
      break;
    }
    const char *value = json_object_get_string_member(inner_object, field);
    if (event == "mark") {
      result.kind = BridgeMessage::Kind::Mark;
      result.mark_name = value;
      break;
    }
    if (!strict_base64_decode(value, strlen(value), &result.audio)) {
      result = invalid(kErrorInvalidMessage, "media payload is not base64");
      break;
    }
    if (const char *header = file_header_name(result.audio.data(), result.audio.size())) {
      result = invalid(kErrorFileHeader,
                       std::string("media payload starts with a ") + header +
                           " file header: send raw μ-law");
      break;
    }
    result.kind = BridgeMessage::Kind::Media;
  } while (false);
  g_object_unref(parser);
  return result;
}

}  // namespace clawvoice::test::twilio_emu
