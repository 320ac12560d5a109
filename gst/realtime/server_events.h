/* clawvoice — reading the Realtime API's server events.
 *
 * A server event is kept as its JSON object plus its type; the few shapes the element acts on
 * (audio deltas, errors, usage) have typed readers here, so no GStreamer code parses JSON. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"

namespace clawvoice::realtime {

struct ServerEvent {
  std::string type;
  json::ObjectPtr body;
};

/* Parses one text frame. Returns nullopt with @error set on malformed JSON or a missing type. */
std::optional<ServerEvent> parse_server_event(const std::string &text, std::string *error);
/* The same through json-glib's parser alone; parse_server_event() reads plain events without it
 * (json::FlatObject) and must always answer as this does. */
std::optional<ServerEvent> parse_server_event_with_json_glib(const std::string &text, std::string *error);
/* True for every server event type the GA protocol defines (plus beta's conversation.item.created,
 * which the service may still send). */
bool is_known_server_event(const std::string &type);

/* `response.output_audio.delta`: decodes `delta`; false if it is not valid base64. */
bool decode_audio_delta(JsonObject *event, std::vector<uint8_t> *audio);

struct ServerError {
  std::string type;
  std::string code;
  std::string message;
  std::string param;
  std::string event_id;   /* the client event that caused it, if any */
};
ServerError parse_error(JsonObject *event);

struct Usage {
  int64_t total_tokens = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t input_text_tokens = 0;
  int64_t input_audio_tokens = 0;
  int64_t input_cached_tokens = 0;
  int64_t input_cached_text_tokens = 0;
  int64_t input_cached_audio_tokens = 0;
  int64_t output_text_tokens = 0;
  int64_t output_audio_tokens = 0;

  Usage &operator+=(const Usage &other);
};
/* Reads `response.usage` of a `response.done` event (zeros when absent). */
Usage parse_usage(JsonObject *response_done);

}  // namespace clawvoice::realtime
