/* clawvoice — the client events we send to the Realtime API (GA shapes), as wire text.
 *
 * Each builder returns the complete JSON text of one event. @event_id (optional) is echoed by the
 * server in `error.event_id` if the event fails, which is how we tie an error to its cause. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace clawvoice::realtime {

/* Hot path (every audio buffer): builds the text directly around the base64, no JSON tree. */
std::string build_input_audio_append(const uint8_t *audio, size_t size);
std::string build_input_audio_commit(const std::string &event_id = "");
std::string build_input_audio_clear(const std::string &event_id = "");
/* @instructions: per-response instructions (empty: use the session's). */
std::string build_response_create(const std::string &instructions = "", const std::string &event_id = "");
std::string build_response_cancel(const std::string &event_id = "");
std::string build_item_truncate(const std::string &item_id, int64_t audio_end_ms,
    const std::string &event_id = "");
std::string build_function_call_output(const std::string &call_id, const std::string &output,
    const std::string &event_id = "");
/* Conversation context (restoring a conversation after a reconnect, injecting agent results). */
std::string build_user_text_item(const std::string &text, const std::string &event_id = "");
std::string build_assistant_text_item(const std::string &text, const std::string &event_id = "");
std::string build_system_text_item(const std::string &text, const std::string &event_id = "");

}  // namespace clawvoice::realtime
