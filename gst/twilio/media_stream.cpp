#include "twilio/media_stream.h"

#include <glib.h>

#include <initializer_list>
#include <string_view>

#include "common/base64.h"
#include "common/json.h"
#include "common/json_flat.h"

namespace clawvoice::twilio {

namespace {

/* ---- Reading, strictly ---- */

/* Fails with a message naming the member; the caller decides the status. */
struct Reader {
  std::string error;

  JsonNode *member(JsonObject *o, const char *name, bool required)
  {
    if (!o || !json_object_has_member(o, name)) {
      if (required && error.empty())
        error = std::string("missing member \"") + name + "\"";
      return nullptr;
    }
    return json_object_get_member(o, name);
  }

  bool string(JsonObject *o, const char *name, std::string *out, bool required = true)
  {
    JsonNode *n = member(o, name, required);
    if (!n)
      return !required;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
      if (error.empty())
        error = std::string("member \"") + name + "\" is not a string";
      return false;
    }
    *out = json_node_get_string(n);
    return true;
  }

  /* Twilio sends sequenceNumber, chunk and timestamp as JSON strings of decimal digits. */
  bool digits(JsonObject *o, const char *name, uint64_t *out)
  {
    std::string text;
    if (!string(o, name, &text))
      return false;
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
      if (error.empty())
        error = std::string("member \"") + name + "\" is not a string of decimal digits";
      return false;
    }
    *out = g_ascii_strtoull(text.c_str(), nullptr, 10);
    return true;
  }

  bool integer(JsonObject *o, const char *name, int *out)
  {
    JsonNode *n = member(o, name, true);
    if (!n)
      return false;
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
      if (error.empty())
        error = std::string("member \"") + name + "\" is not an integer";
      return false;
    }
    gint64 v = json_node_get_int(n);
    if (v < G_MININT || v > G_MAXINT) {
      if (error.empty())
        error = std::string("member \"") + name + "\" is out of range";
      return false;
    }
    *out = (int) v;
    return true;
  }

  JsonObject *object(JsonObject *o, const char *name, bool required = true)
  {
    JsonNode *n = member(o, name, required);
    if (!n)
      return nullptr;
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
      if (error.empty())
        error = std::string("member \"") + name + "\" is not an object";
      return nullptr;
    }
    return json_node_get_object(n);
  }
};

bool read_start(Reader &r, JsonObject *root, StartMessage *m)
{
  if (!r.digits(root, "sequenceNumber", &m->sequence_number))
    return false;
  std::string top_sid;
  if (!r.string(root, "streamSid", &top_sid))
    return false;
  JsonObject *start = r.object(root, "start");
  if (!start || !r.string(start, "streamSid", &m->stream_sid) || !r.string(start, "accountSid", &m->account_sid) ||
      !r.string(start, "callSid", &m->call_sid))
    return false;
  if (top_sid != m->stream_sid) {
    r.error = "streamSid differs from start.streamSid";
    return false;
  }
  JsonNode *tracks = r.member(start, "tracks", true);
  if (!tracks)
    return false;
  if (!JSON_NODE_HOLDS_ARRAY(tracks)) {
    r.error = "member \"tracks\" is not an array";
    return false;
  }
  JsonArray *array = json_node_get_array(tracks);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *t = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_VALUE(t) || json_node_get_value_type(t) != G_TYPE_STRING) {
      r.error = "member \"tracks\" holds something other than strings";
      return false;
    }
    m->tracks.emplace_back(json_node_get_string(t));
  }
  JsonObject *format = r.object(start, "mediaFormat");
  if (!format || !r.string(format, "encoding", &m->media_format.encoding) ||
      !r.integer(format, "sampleRate", &m->media_format.sample_rate) ||
      !r.integer(format, "channels", &m->media_format.channels))
    return false;
  JsonObject *params = r.object(start, "customParameters", false);
  if (!r.error.empty())
    return false;
  if (params) {
    GList *names = json_object_get_members(params);
    for (GList *l = names; l; l = l->next) {
      const char *name = static_cast<const char *>(l->data);
      std::string value;
      if (!r.string(params, name, &value)) {
        g_list_free(names);
        r.error = std::string("custom parameter \"") + name + "\" is not a string";
        return false;
      }
      m->custom_parameters.emplace_back(name, value);
    }
    g_list_free(names);
  }
  return true;
}

bool read_media(Reader &r, JsonObject *root, MediaMessage *m)
{
  if (!r.digits(root, "sequenceNumber", &m->sequence_number) || !r.string(root, "streamSid", &m->stream_sid))
    return false;
  JsonObject *media = r.object(root, "media");
  std::string payload;
  if (!media || !r.string(media, "track", &m->track) || !r.digits(media, "chunk", &m->chunk) ||
      !r.digits(media, "timestamp", &m->timestamp_ms) || !r.string(media, "payload", &payload))
    return false;
  if (!base64::decode_base64_strict(payload, &m->payload)) {
    r.error = "media.payload is not strict base64";
    return false;
  }
  return true;
}

bool read_dtmf(Reader &r, JsonObject *root, DtmfMessage *m)
{
  if (!r.digits(root, "sequenceNumber", &m->sequence_number) || !r.string(root, "streamSid", &m->stream_sid))
    return false;
  JsonObject *dtmf = r.object(root, "dtmf");
  if (!dtmf || !r.string(dtmf, "track", &m->track) || !r.string(dtmf, "digit", &m->digit))
    return false;
  if (m->digit.size() != 1 || std::string("0123456789*#").find(m->digit[0]) == std::string::npos) {
    r.error = "dtmf.digit is not one of 0-9 * #";
    return false;
  }
  return true;
}

bool read_mark(Reader &r, JsonObject *root, MarkMessage *m)
{
  if (!r.digits(root, "sequenceNumber", &m->sequence_number) || !r.string(root, "streamSid", &m->stream_sid))
    return false;
  JsonObject *mark = r.object(root, "mark");
  return mark && r.string(mark, "name", &m->name);
}

bool read_stop(Reader &r, JsonObject *root, StopMessage *m)
{
  if (!r.digits(root, "sequenceNumber", &m->sequence_number) || !r.string(root, "streamSid", &m->stream_sid))
    return false;
  JsonObject *stop = r.object(root, "stop");
  return stop && r.string(stop, "accountSid", &m->account_sid) && r.string(stop, "callSid", &m->call_sid);
}

/* ---- Writing compact JSON by hand: these shapes are fixed and sent 50 times a second per call ---- */

void append_string(std::string &out, const std::string &s)
{
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += (char) c;
        }
    }
  }
  out += '"';
}

std::string head(const char *event, const std::string &stream_sid)
{
  std::string out = "{\"event\":\"";
  out += event;
  out += "\",\"streamSid\":";
  append_string(out, stream_sid);
  return out;
}

std::string sequence(uint64_t n)
{
  return ",\"sequenceNumber\":\"" + std::to_string(n) + "\"";
}

bool has_exactly(JsonObject *o, std::initializer_list<const char *> members)
{
  if (json_object_get_size(o) != members.size())
    return false;
  for (const char *m : members)
    if (!json_object_has_member(o, m))
      return false;
  return true;
}

/* ---- The hot path: media and mark messages without json-glib ----
 *
 * Twilio sends 50 media messages a second per call; json-glib's parser took 14 % of the launcher's
 * CPU at 200 calls. These messages are plain JSON (json::FlatObject reads them); a message that is
 * not, or that would not parse as a valid media or mark message, takes the json-glib way, which
 * gives the same result and the same errors: this path only ever answers what that one would. */
bool plain_digits(std::string_view text, uint64_t *out)
{
  if (text.empty() || text.size() > 19)
    return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (uint64_t) (c - '0');
  }
  *out = v;
  return true;
}

/* A valid media or mark message read by FlatMessage; false: let json-glib decide. */
bool parse_plain_media_or_mark(const std::string &text, InboundParse *result)
{
  using json::FlatObject;
  thread_local FlatObject flat;
  std::string_view event, sequence, stream_sid;
  if (!flat.read(text, 1) || !FlatObject::string(flat.root(), "event", &event))
    return false;
  if (!FlatObject::string(flat.root(), "sequenceNumber", &sequence) ||
      !FlatObject::string(flat.root(), "streamSid", &stream_sid))
    return false;
  uint64_t sequence_number = 0;
  if (!plain_digits(sequence, &sequence_number))
    return false;
  if (event == "media") {
    const FlatObject::Members *media = flat.object_member(flat.root(), "media");
    std::string_view track, chunk, timestamp, payload;
    if (!media || !FlatObject::string(*media, "track", &track) || !FlatObject::string(*media, "chunk", &chunk) ||
        !FlatObject::string(*media, "timestamp", &timestamp) || !FlatObject::string(*media, "payload", &payload))
      return false;
    MediaMessage m;
    m.sequence_number = sequence_number;
    if (!plain_digits(chunk, &m.chunk) || !plain_digits(timestamp, &m.timestamp_ms) ||
        !base64::decode_base64_strict(payload, &m.payload))
      return false;
    m.stream_sid = stream_sid;
    m.track = track;
    result->message = std::move(m);
  } else if (event == "mark") {
    const FlatObject::Members *mark = flat.object_member(flat.root(), "mark");
    std::string_view name;
    if (!mark || !FlatObject::string(*mark, "name", &name))
      return false;
    MarkMessage m;
    m.sequence_number = sequence_number;
    m.stream_sid = stream_sid;
    m.name = name;
    result->message = std::move(m);
  } else {
    return false;
  }
  result->event = event;
  result->status = ParseStatus::Ok;
  return true;
}

}  // namespace

InboundParse parse_inbound(const std::string &text)
{
  InboundParse result;
  if (parse_plain_media_or_mark(text, &result))
    return result;
  return parse_inbound_with_json_glib(text);
}

InboundParse parse_inbound_with_json_glib(const std::string &text)
{
  InboundParse result;
  std::string error;
  json::ObjectPtr root = json::parse_object(text, &error);
  if (!root) {
    result.status = ParseStatus::NotJson;
    result.error = error;
    return result;
  }
  Reader r;
  if (!r.string(root.get(), "event", &result.event)) {
    result.status = ParseStatus::UnknownEvent;
    result.error = r.error;
    return result;
  }
  const std::string &event = result.event;
  bool ok = false;
  if (event == "connected") {
    ConnectedMessage m;
    ok = r.string(root.get(), "protocol", &m.protocol, false) && r.string(root.get(), "version", &m.version, false);
    result.message = m;
  } else if (event == "start") {
    StartMessage m;
    ok = read_start(r, root.get(), &m);
    result.message = std::move(m);
  } else if (event == "media") {
    MediaMessage m;
    ok = read_media(r, root.get(), &m);
    result.message = std::move(m);
  } else if (event == "dtmf") {
    DtmfMessage m;
    ok = read_dtmf(r, root.get(), &m);
    result.message = std::move(m);
  } else if (event == "mark") {
    MarkMessage m;
    ok = read_mark(r, root.get(), &m);
    result.message = std::move(m);
  } else if (event == "stop") {
    StopMessage m;
    ok = read_stop(r, root.get(), &m);
    result.message = std::move(m);
  } else {
    result.status = ParseStatus::UnknownEvent;
    result.error = "unknown event \"" + event + "\"";
    return result;
  }
  if (!ok) {
    result.status = ParseStatus::Invalid;
    result.error = event + ": " + (r.error.empty() ? "invalid" : r.error);
    result.message.reset();
    return result;
  }
  result.status = ParseStatus::Ok;
  return result;
}

std::string build_media(const std::string &stream_sid, const uint8_t *mulaw, size_t size)
{
  std::string out = head("media", stream_sid);
  out += ",\"media\":{\"payload\":\"";
  out += base64::encode_base64(mulaw, size);
  out += "\"}}";
  return out;
}

std::string build_mark(const std::string &stream_sid, const std::string &name)
{
  std::string out = head("mark", stream_sid);
  out += ",\"mark\":{\"name\":";
  append_string(out, name);
  out += "}}";
  return out;
}

std::string build_clear(const std::string &stream_sid)
{
  return head("clear", stream_sid) + "}";
}

OutboundParse parse_outbound(const std::string &text)
{
  OutboundParse result;
  std::string error;
  json::ObjectPtr root = json::parse_object(text, &error);
  if (!root) {
    result.error = "not a JSON object: " + error;
    return result;
  }
  Reader r;
  std::string event;
  if (!r.string(root.get(), "event", &event) || !r.string(root.get(), "streamSid", &result.message.stream_sid)) {
    result.error = r.error;
    return result;
  }
  if (event == "media") {
    result.message.kind = OutboundMessage::Kind::Media;
    JsonObject *media = r.object(root.get(), "media");
    std::string payload;
    if (!media || !has_exactly(root.get(), {"event", "streamSid", "media"}) || !has_exactly(media, {"payload"}) ||
        !r.string(media, "payload", &payload)) {
      result.error = r.error.empty() ? "media: members other than event, streamSid, media.payload" : r.error;
      return result;
    }
    if (!base64::decode_base64_strict(payload, &result.message.payload)) {
      result.error = "media.payload is not strict base64";
      return result;
    }
  } else if (event == "mark") {
    result.message.kind = OutboundMessage::Kind::Mark;
    JsonObject *mark = r.object(root.get(), "mark");
    if (!mark || !has_exactly(root.get(), {"event", "streamSid", "mark"}) || !has_exactly(mark, {"name"}) ||
        !r.string(mark, "name", &result.message.name)) {
      result.error = r.error.empty() ? "mark: members other than event, streamSid, mark.name" : r.error;
      return result;
    }
  } else if (event == "clear") {
    result.message.kind = OutboundMessage::Kind::Clear;
    if (!has_exactly(root.get(), {"event", "streamSid"})) {
      result.error = "clear: members other than event, streamSid";
      return result;
    }
  } else {
    result.error = "unknown outbound event \"" + event + "\"";
    return result;
  }
  result.ok = true;
  return result;
}

std::string build_connected()
{
  return "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}";
}

std::string build_start(const StartMessage &m)
{
  std::string out = "{\"event\":\"start\"" + sequence(m.sequence_number) + ",\"start\":{\"accountSid\":";
  append_string(out, m.account_sid);
  out += ",\"streamSid\":";
  append_string(out, m.stream_sid);
  out += ",\"callSid\":";
  append_string(out, m.call_sid);
  out += ",\"tracks\":[";
  for (size_t i = 0; i < m.tracks.size(); i++) {
    if (i)
      out += ',';
    append_string(out, m.tracks[i]);
  }
  out += "],\"mediaFormat\":{\"encoding\":";
  append_string(out, m.media_format.encoding);
  out += ",\"sampleRate\":" + std::to_string(m.media_format.sample_rate) +
      ",\"channels\":" + std::to_string(m.media_format.channels) + "},\"customParameters\":{";
  for (size_t i = 0; i < m.custom_parameters.size(); i++) {
    if (i)
      out += ',';
    append_string(out, m.custom_parameters[i].first);
    out += ':';
    append_string(out, m.custom_parameters[i].second);
  }
  out += "}},\"streamSid\":";
  append_string(out, m.stream_sid);
  out += "}";
  return out;
}

std::string build_inbound_media(const MediaMessage &m)
{
  std::string out = "{\"event\":\"media\"" + sequence(m.sequence_number) + ",\"media\":{\"track\":";
  append_string(out, m.track);
  out += ",\"chunk\":\"" + std::to_string(m.chunk) + "\",\"timestamp\":\"" + std::to_string(m.timestamp_ms) +
      "\",\"payload\":\"" + base64::encode_base64(m.payload.data(), m.payload.size()) + "\"},\"streamSid\":";
  append_string(out, m.stream_sid);
  out += "}";
  return out;
}

std::string build_dtmf(const DtmfMessage &m)
{
  std::string out = head("dtmf", m.stream_sid) + sequence(m.sequence_number) + ",\"dtmf\":{\"track\":";
  append_string(out, m.track);
  out += ",\"digit\":";
  append_string(out, m.digit);
  out += "}}";
  return out;
}

std::string build_mark_echo(const MarkMessage &m)
{
  std::string out = "{\"event\":\"mark\"" + sequence(m.sequence_number) + ",\"streamSid\":";
  append_string(out, m.stream_sid);
  out += ",\"mark\":{\"name\":";
  append_string(out, m.name);
  out += "}}";
  return out;
}

std::string build_stop(const StopMessage &m)
{
  std::string out = "{\"event\":\"stop\"" + sequence(m.sequence_number) + ",\"stop\":{\"accountSid\":";
  append_string(out, m.account_sid);
  out += ",\"callSid\":";
  append_string(out, m.call_sid);
  out += "},\"streamSid\":";
  append_string(out, m.stream_sid);
  out += "}";
  return out;
}

}  // namespace clawvoice::twilio
