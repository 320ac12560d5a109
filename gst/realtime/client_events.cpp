#include "realtime/client_events.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include "common/json.h"

namespace clawvoice::realtime {

namespace {

/* A small builder for the flat events: {"event_id":…,"type":…, <members>}. */
class EventBuilder {
 public:
  EventBuilder(const char *type, const std::string &event_id) : b_(json_builder_new())
  {
    json_builder_begin_object(b_);
    if (!event_id.empty())
      string("event_id", event_id);
    string("type", type);
  }
  ~EventBuilder() { g_object_unref(b_); }

  EventBuilder &string(const char *name, const std::string &value)
  {
    json_builder_set_member_name(b_, name);
    json_builder_add_string_value(b_, value.c_str());
    return *this;
  }
  EventBuilder &integer(const char *name, int64_t value)
  {
    json_builder_set_member_name(b_, name);
    json_builder_add_int_value(b_, value);
    return *this;
  }
  JsonBuilder *raw() { return b_; }

  std::string finish()
  {
    json_builder_end_object(b_);
    json::NodePtr root(json_builder_get_root(b_));
    return json::to_string(root.get());
  }

 private:
  JsonBuilder *b_;
};

std::string message_item(const char *role, const char *content_type, const std::string &text,
    const std::string &event_id)
{
  EventBuilder e("conversation.item.create", event_id);
  JsonBuilder *b = e.raw();
  json_builder_set_member_name(b, "item");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "message");
  json_builder_set_member_name(b, "role");
  json_builder_add_string_value(b, role);
  json_builder_set_member_name(b, "content");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, content_type);
  json_builder_set_member_name(b, "text");
  json_builder_add_string_value(b, text.c_str());
  json_builder_end_object(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return e.finish();
}

}  // namespace

std::string build_input_audio_append(const uint8_t *audio, size_t size)
{
  static constexpr char kPrefix[] = R"({"type":"input_audio_buffer.append","audio":")";
  static constexpr char kSuffix[] = R"("})";
  /* base64 output never needs JSON escaping, so the text can be assembled in place. */
  std::string text;
  text.reserve(sizeof(kPrefix) + (size + 2) / 3 * 4 + sizeof(kSuffix));
  text.append(kPrefix);
  size_t start = text.size();
  text.resize(start + (size / 3 + 1) * 4 + 4);
  gint state = 0, save = 0;
  gsize n = g_base64_encode_step(audio, size, FALSE, &text[start], &state, &save);
  n += g_base64_encode_close(FALSE, &text[start + n], &state, &save);
  text.resize(start + n);
  text.append(kSuffix);
  return text;
}

std::string build_input_audio_commit(const std::string &event_id)
{
  return EventBuilder("input_audio_buffer.commit", event_id).finish();
}

std::string build_input_audio_clear(const std::string &event_id)
{
  return EventBuilder("input_audio_buffer.clear", event_id).finish();
}

std::string build_response_create(const std::string &instructions, const std::string &event_id)
{
  EventBuilder e("response.create", event_id);
  if (!instructions.empty()) {
    JsonBuilder *b = e.raw();
    json_builder_set_member_name(b, "response");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "instructions");
    json_builder_add_string_value(b, instructions.c_str());
    json_builder_end_object(b);
  }
  return e.finish();
}

std::string build_response_cancel(const std::string &event_id)
{
  return EventBuilder("response.cancel", event_id).finish();
}

std::string build_item_truncate(const std::string &item_id, int64_t audio_end_ms,
    const std::string &event_id)
{
  return EventBuilder("conversation.item.truncate", event_id)
      .string("item_id", item_id)
      .integer("content_index", 0)
      .integer("audio_end_ms", audio_end_ms)
      .finish();
}

std::string build_function_call_output(const std::string &call_id, const std::string &output,
    const std::string &event_id)
{
  EventBuilder e("conversation.item.create", event_id);
  JsonBuilder *b = e.raw();
  json_builder_set_member_name(b, "item");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "function_call_output");
  json_builder_set_member_name(b, "call_id");
  json_builder_add_string_value(b, call_id.c_str());
  json_builder_set_member_name(b, "output");
  json_builder_add_string_value(b, output.c_str());
  json_builder_end_object(b);
  return e.finish();
}

std::string build_user_text_item(const std::string &text, const std::string &event_id)
{
  return message_item("user", "input_text", text, event_id);
}

std::string build_assistant_text_item(const std::string &text, const std::string &event_id)
{
  return message_item("assistant", "output_text", text, event_id);
}

std::string build_system_text_item(const std::string &text, const std::string &event_id)
{
  return message_item("system", "input_text", text, event_id);
}

}  // namespace clawvoice::realtime
