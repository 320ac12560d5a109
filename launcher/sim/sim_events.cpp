#include "sim_events.h"

#include <glib.h>

namespace clawvoice::sim {

using json::ObjectPtr;

std::string new_id(const char *prefix)
{
  static const char alphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string id(prefix);
  for (int i = 0; i < 21; i++)
    id += alphabet[g_random_int_range(0, 62)];
  return id;
}

ObjectPtr make_event(const char *type)
{
  ObjectPtr event(json_object_new());
  json_object_set_string_member(event.get(), "type", type);
  json_object_set_string_member(event.get(), "event_id", new_id("event_").c_str());
  return event;
}

static void set_string_or_null(JsonObject *o, const char *member, const std::string &value)
{
  if (value.empty())
    json_object_set_null_member(o, member);
  else
    json_object_set_string_member(o, member, value.c_str());
}

ObjectPtr make_error_event(const ErrorInfo &error)
{
  ObjectPtr event = make_event("error");
  JsonObject *body = json_object_new();
  json_object_set_string_member(body, "type", error.type.c_str());
  set_string_or_null(body, "code", error.code);
  json_object_set_string_member(body, "message", error.message.c_str());
  set_string_or_null(body, "param", error.param);
  set_string_or_null(body, "event_id", error.event_id);
  json_object_set_object_member(event.get(), "error", body);
  return event;
}

namespace errors {

static ErrorInfo make(const char *code, std::string message, std::string param = "")
{
  ErrorInfo e;
  e.code = code;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

ErrorInfo invalid_json()
{
  /* The service's own wording for a body that is not JSON. */
  return make("invalid_json",
              "We could not parse the JSON body of your request. (HINT: This likely means you "
              "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
              "but what was sent was not valid JSON. If you have trouble figuring out how to fix "
              "this, please contact us through our help center at help.openai.com.)");
}

ErrorInfo binary_frame()
{
  /* Not documented; the service only speaks JSON text frames. */
  return make("invalid_event", "Binary frames are not supported. Send events as JSON text frames.");
}

ErrorInfo unknown_event_type(const std::string &type)
{
  /* Used only if the schema validator lets an unknown type through. */
  return make("invalid_value",
              "Invalid value: '" + type + "'. Supported values are: 'session.update', "
              "'input_audio_buffer.append', 'input_audio_buffer.commit', "
              "'input_audio_buffer.clear', 'output_audio_buffer.clear', "
              "'conversation.item.create', 'conversation.item.retrieve', "
              "'conversation.item.truncate', 'conversation.item.delete', 'response.create', and "
              "'response.cancel'.",
              "type");
}

ErrorInfo invalid_base64()
{
  /* We do not know the service's exact code here; `invalid_value` on param `audio` is its shape
   * for every other bad value. */
  return make("invalid_value", "Invalid 'audio'. Expected base64-encoded audio data.", "audio");
}

ErrorInfo partial_sample(size_t bytes, size_t bytes_per_sample)
{
  return make("invalid_value",
              "Invalid 'audio'. The audio must contain a whole number of " +
                  std::to_string(bytes_per_sample * 8) + "-bit samples; got " +
                  std::to_string(bytes) + " bytes.",
              "audio");
}

ErrorInfo audio_on_sideband()
{
  /* Our choice: a sideband (call_id) connection carries events only; its audio flows on the call. */
  return make("invalid_value",
              "Audio cannot be appended on a sideband connection; the call carries its own audio.",
              "type");
}

ErrorInfo commit_empty(double buffered_ms)
{
  char ms[32];
  g_snprintf(ms, sizeof ms, "%.2f", buffered_ms);
  return make("input_audio_buffer_commit_empty",
              std::string("Error committing input audio buffer: buffer too small. Expected at "
                          "least 100ms of audio, but buffer only has ") + ms + "ms of audio.");
}

ErrorInfo active_response(const std::string &response_id)
{
  return make("conversation_already_has_active_response",
              "Conversation already has an active response in progress: " + response_id +
                  ". Wait until the response is finished before creating a new one.");
}

ErrorInfo cancel_not_active()
{
  return make("response_cancel_not_active", "Cancellation failed: no active response found");
}

ErrorInfo cannot_update_voice()
{
  return make("cannot_update_voice",
              "Cannot update a conversation's voice if assistant audio is present.",
              "session.audio.output.voice");
}

ErrorInfo cannot_update_model()
{
  /* Our wording; the service refuses to switch models inside a session. */
  return make("invalid_value", "Cannot update a session's model.", "session.model");
}

ErrorInfo both_modalities(const std::string &param)
{
  return make("invalid_value",
              "Invalid modalities: ['audio', 'text']. Supported combinations are: ['text'] and "
              "['audio'].",
              param);
}

ErrorInfo unknown_call_id(const std::string &call_id)
{
  return make("invalid_value",
              "Tool call ID '" + call_id + "' not found in conversation.", "item.call_id");
}

ErrorInfo duplicate_item_id(const std::string &item_id)
{
  return make("invalid_value",
              "Item with id '" + item_id + "' already exists in the conversation.", "item.id");
}

ErrorInfo item_not_found(const std::string &item_id, const std::string &param)
{
  return make("invalid_value", "Item with item_id '" + item_id + "' not found.", param);
}

ErrorInfo truncate_not_audio(const std::string &item_id)
{
  return make("invalid_value",
              "Only assistant messages with audio content can be truncated; item '" + item_id +
                  "' has none.",
              "item_id");
}

ErrorInfo truncate_content_index(int64_t content_index)
{
  return make("invalid_value",
              "Invalid content_index " + std::to_string(content_index) +
                  ": the item's audio is content part 0.",
              "content_index");
}

ErrorInfo truncate_too_long(int64_t audio_ms, int64_t requested_ms)
{
  return make("invalid_value",
              "Audio content of " + std::to_string(audio_ms) + "ms is already shorter than " +
                  std::to_string(requested_ms) + "ms",
              "audio_end_ms");
}

ErrorInfo output_buffer_clear_unsupported()
{
  /* output_audio_buffer.* exists only where the service plays the audio itself (WebRTC / SIP). */
  return make("invalid_value",
              "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
              "type");
}

ErrorInfo session_expired()
{
  return make("session_expired", "Your session hit the maximum duration of 60 minutes.");
}

ErrorInfo beta_shape_disabled()
{
  return make("beta_api_shape_disabled",
              "The Realtime API beta shape has been disabled. Remove the 'OpenAI-Beta: "
              "realtime=v1' header and use the GA interface.");
}

}  // namespace errors

}  // namespace clawvoice::sim
