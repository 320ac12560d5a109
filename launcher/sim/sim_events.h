/* clawvoice simulator — building server events: ids, envelopes, and the service's error events.
 *
 * Messages and codes follow what the real service sends where we know them; where we do not, the
 * comment next to the constructor says what we chose. */
#pragma once

#include "common/json.h"

#include <string>

namespace clawvoice::sim {

/* "<prefix>" followed by 21 random base-62 characters, like the service's ids
 * (event_…, item_…, resp_…, call_…, sess_…). */
std::string new_id(const char *prefix);

/* {"type": @type, "event_id": "event_…"} */
json::ObjectPtr make_event(const char *type);

struct ErrorInfo {
  std::string type = "invalid_request_error";
  std::string code;
  std::string message;
  std::string param;      /* empty → null */
  std::string event_id;   /* of the client event that caused it; empty → null */
};

/* {"type":"error","event_id":…,"error":{type,code,message,param,event_id}} */
json::ObjectPtr make_error_event(const ErrorInfo &error);

namespace errors {

ErrorInfo invalid_json();
ErrorInfo binary_frame();
ErrorInfo unknown_event_type(const std::string &type);
ErrorInfo invalid_base64();
ErrorInfo partial_sample(size_t bytes, size_t bytes_per_sample);
ErrorInfo audio_on_sideband();
ErrorInfo commit_empty(double buffered_ms);
ErrorInfo active_response(const std::string &response_id);
ErrorInfo cancel_not_active();
ErrorInfo cannot_update_voice();
ErrorInfo cannot_update_model();
ErrorInfo both_modalities(const std::string &param);
ErrorInfo unknown_call_id(const std::string &call_id);
ErrorInfo duplicate_item_id(const std::string &item_id);
ErrorInfo item_not_found(const std::string &item_id, const std::string &param);
ErrorInfo truncate_not_audio(const std::string &item_id);
ErrorInfo truncate_content_index(int64_t content_index);
ErrorInfo truncate_too_long(int64_t audio_ms, int64_t requested_ms);
ErrorInfo output_buffer_clear_unsupported();
ErrorInfo session_expired();
ErrorInfo beta_shape_disabled();

}  // namespace errors

}  // namespace clawvoice::sim
