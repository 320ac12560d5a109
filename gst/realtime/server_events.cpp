#include "realtime/server_events.h"

#include "common/base64.h"
#include "common/json_flat.h"

#include <glib.h>

#include <cstring>
#include <set>

namespace clawvoice::realtime {

std::optional<ServerEvent> parse_server_event(const std::string &text, std::string *error)
{
  /* Audio and transcript deltas, several a second per call, are plain JSON: their object is built
   * straight from the text, the same json-glib's parser would build (the rest takes that way). */
  thread_local json::FlatObject flat;
  if (flat.read(text, 0)) {
    std::string_view type;
    if (json::FlatObject::string(flat.root(), "type", &type) && !type.empty())
      return ServerEvent{std::string(type), flat.to_json_object()};
  }
  return parse_server_event_with_json_glib(text, error);
}

std::optional<ServerEvent> parse_server_event_with_json_glib(const std::string &text, std::string *error)
{
  json::ObjectPtr object = json::parse_object(text, error);
  if (!object)
    return std::nullopt;
  std::string type = json::get_string(object.get(), "type");
  if (type.empty()) {
    if (error)
      *error = "event without a type";
    return std::nullopt;
  }
  return ServerEvent{std::move(type), std::move(object)};
}

bool is_known_server_event(const std::string &type)
{
  static const std::set<std::string> known = {
    "error", "session.created", "session.updated", "conversation.created",
    "conversation.item.added", "conversation.item.done", "conversation.item.created",
    "conversation.item.retrieved", "conversation.item.truncated", "conversation.item.deleted",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "conversation.item.input_audio_transcription.segment",
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed", "input_audio_buffer.cleared",
    "input_audio_buffer.timeout_triggered", "input_audio_buffer.dtmf_event_received",
    "output_audio_buffer.started", "output_audio_buffer.stopped", "output_audio_buffer.cleared",
    "response.created", "response.done", "response.output_item.added", "response.output_item.done",
    "response.content_part.added", "response.content_part.done",
    "response.output_audio.delta", "response.output_audio.done",
    "response.output_audio_transcript.delta", "response.output_audio_transcript.done",
    "response.output_text.delta", "response.output_text.done",
    "response.function_call_arguments.delta", "response.function_call_arguments.done",
    "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done",
    "response.mcp_call.in_progress", "response.mcp_call.completed", "response.mcp_call.failed",
    "mcp_list_tools.in_progress", "mcp_list_tools.completed", "mcp_list_tools.failed",
    "rate_limits.updated",
  };
  return known.count(type) > 0;
}

bool decode_audio_delta(JsonObject *event, std::vector<uint8_t> *audio)
{
  std::optional<std::string> delta = json::get_optional_string(event, "delta");
  return delta && base64::decode_base64_strict(*delta, audio);
}

ServerError parse_error(JsonObject *event)
{
  ServerError e;
  JsonObject *error = json::get_object(event, "error");
  e.type = json::get_string(error, "type");
  e.code = json::get_string(error, "code");
  e.message = json::get_string(error, "message");
  e.param = json::get_string(error, "param");
  e.event_id = json::get_string(error, "event_id");
  return e;
}

Usage &Usage::operator+=(const Usage &o)
{
  total_tokens += o.total_tokens;
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  input_text_tokens += o.input_text_tokens;
  input_audio_tokens += o.input_audio_tokens;
  input_cached_tokens += o.input_cached_tokens;
  input_cached_text_tokens += o.input_cached_text_tokens;
  input_cached_audio_tokens += o.input_cached_audio_tokens;
  output_text_tokens += o.output_text_tokens;
  output_audio_tokens += o.output_audio_tokens;
  return *this;
}

Usage parse_usage(JsonObject *response_done)
{
  Usage u;
  JsonObject *usage = json::get_object(json::get_object(response_done, "response"), "usage");
  if (!usage)
    return u;
  u.total_tokens = json::get_int(usage, "total_tokens");
  u.input_tokens = json::get_int(usage, "input_tokens");
  u.output_tokens = json::get_int(usage, "output_tokens");
  JsonObject *in = json::get_object(usage, "input_token_details");
  u.input_text_tokens = json::get_int(in, "text_tokens");
  u.input_audio_tokens = json::get_int(in, "audio_tokens");
  u.input_cached_tokens = json::get_int(in, "cached_tokens");
  JsonObject *cached = json::get_object(in, "cached_tokens_details");
  if (cached) {
    u.input_cached_text_tokens = json::get_int(cached, "text_tokens");
    u.input_cached_audio_tokens = json::get_int(cached, "audio_tokens");
  } else {
    /* No split given: attribute cached tokens to text first (instructions are what gets cached). */
    u.input_cached_text_tokens = std::min(u.input_cached_tokens, u.input_text_tokens);
    u.input_cached_audio_tokens = u.input_cached_tokens - u.input_cached_text_tokens;
  }
  JsonObject *out = json::get_object(usage, "output_token_details");
  u.output_text_tokens = json::get_int(out, "text_tokens");
  u.output_audio_tokens = json::get_int(out, "audio_tokens");
  return u;
}

}  // namespace clawvoice::realtime
