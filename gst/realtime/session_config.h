/* clawvoice — the Realtime session configuration we send (GA `session.update`).
 *
 * Only GA field names are produced (the beta names are rejected by the service). The element fills
 * this from its properties and the executors' tools; the client re-sends it after a reconnect. */
#pragma once

#include <string>
#include <vector>

namespace clawvoice::realtime {

enum class AudioFormat { Pcm24k, Pcmu, Pcma };
enum class TurnDetection { ServerVad, SemanticVad, None };

const char *audio_format_wire_name(AudioFormat format);   /* "audio/pcm", "audio/pcmu", ... */
/* Bytes of audio per millisecond: 48 for PCM16 at 24 kHz, 8 for G.711 at 8 kHz. */
unsigned audio_format_bytes_per_ms(AudioFormat format);

struct ToolDefinition {
  std::string name;
  std::string description;
  std::string parameters_json = R"({"type":"object","properties":{}})";   /* a JSON Schema */
};

struct SessionConfig {
  std::string model = "gpt-realtime";
  std::string instructions;
  std::string voice = "marin";
  double speed = 1.0;
  AudioFormat input_format = AudioFormat::Pcm24k;
  AudioFormat output_format = AudioFormat::Pcm24k;
  TurnDetection turn_detection = TurnDetection::ServerVad;
  double vad_threshold = 0.5;
  int vad_prefix_padding_ms = 300;
  int vad_silence_duration_ms = 500;
  int vad_idle_timeout_ms = 0;           /* 0: not sent */
  std::string semantic_eagerness = "auto";
  bool create_response = true;
  bool interrupt_response = true;
  std::string transcription_model;       /* empty: no input transcription */
  std::string transcription_language;
  std::string noise_reduction;           /* "", "near_field" or "far_field" */
  std::vector<ToolDefinition> tools;
  std::string tool_choice = "auto";
  int max_output_tokens = 0;             /* 0: "inf" (the service default, not sent) */
  bool sideband = false;                 /* call_id session: OpenAI carries the audio */
};

/* The complete `session.update` event text for @config. */
std::string build_session_update(const SessionConfig &config, const std::string &event_id = "");

}  // namespace clawvoice::realtime
