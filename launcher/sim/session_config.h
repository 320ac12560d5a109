/* clawvoice simulator — the effective session configuration: defaults, session.update merging,
 * and typed views of the fields the simulator acts on.
 *
 * The session is kept as the JSON object the service would send (RealtimeSessionCreateResponseGA).
 * Where the real service sends `null` for a member whose schema does not allow null
 * (`audio.input.transcription`, `audio.input.noise_reduction`, `include`), the member is left out
 * instead, so every event validates against the published schemas. */
#pragma once

#include "audio_format.h"
#include "common/json.h"
#include "voice_activity.h"

#include <string>

namespace clawvoice::sim {

json::ObjectPtr default_session(const std::string &model, const std::string &voice,
                                int64_t expires_at);

/* session.update semantics: members present in @patch replace those in @session; objects merge
 * member by member, except that an object whose `type` changes (an audio format, a turn detection
 * mode) is replaced whole; arrays, scalars and null replace. Then fills what the service fills
 * (turn detection defaults, the PCM rate). */
void merge_session(JsonObject *session, JsonObject *patch);

struct TurnDetection {
  enum class Mode { None, ServerVad, SemanticVad } mode = Mode::ServerVad;
  VadConfig vad;
  bool create_response = true;
  bool interrupt_response = true;
  bool enabled() const { return mode != Mode::None; }
};

TurnDetection turn_detection_of(JsonObject *session);
AudioFormat input_format_of(JsonObject *session);
AudioFormat output_format_of(JsonObject *session);
std::string voice_of(JsonObject *session);
double speed_of(JsonObject *session);
bool text_only(JsonObject *session);   /* output_modalities is ["text"] */
bool transcription_enabled(JsonObject *session);
JsonArray *tools_of(JsonObject *session);
/* "auto" | "none" | "required", or the function's name for {"type":"function","name":…}. */
std::string tool_choice_of(JsonObject *session);
/* Both "audio" and "text" in an output_modalities array (the service refuses that). */
bool has_both_modalities(JsonArray *modalities);

}  // namespace clawvoice::sim
