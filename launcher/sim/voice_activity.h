/* clawvoice simulator — server VAD: an energy detector over 10 ms frames of PCM16.
 *
 * Positions are on the input audio timeline (milliseconds of audio received since the session
 * began), never wall-clock time, so audio sent faster than real time (from a file, in a test) gives
 * the same answers as audio sent live. The `threshold` (0..1) of the Realtime API maps onto a frame
 * level from -60 dBFS (0.0) to -10 dBFS (1.0); 0.5 is -35 dBFS. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace clawvoice::sim {

struct VadConfig {
  double threshold = 0.5;
  int prefix_padding_ms = 300;
  int silence_duration_ms = 500;
};

struct VadEvent {
  enum class Type { SpeechStarted, SpeechStopped } type;
  int64_t audio_ms = 0;    /* Started: onset minus the prefix padding; Stopped: the end, after the
                              silence that ended the turn */
  int64_t speech_ms = 0;   /* Stopped: first to last voiced frame */
};

class VoiceActivityDetector {
 public:
  /* @rate: sample rate of the PCM to come; @start_ms: timeline position of its first sample. */
  VoiceActivityDetector(int rate, double start_ms, VadConfig config);

  /* Feeds samples; returns what happened in them, in order. */
  std::vector<VadEvent> process(const int16_t *pcm, size_t samples);
  /* Forgets a turn in progress (after a manual commit or a clear); the timeline goes on. */
  void reset();
  /* Speech cannot start before this point (the start of the uncommitted buffer). */
  void set_floor_ms(double ms) { floor_ms_ = ms; }

  bool in_speech() const { return in_speech_; }
  double position_ms() const;

 private:
  void on_frame(double level_db, std::vector<VadEvent> *events);

  int rate_;
  int frame_samples_;
  double start_ms_;
  double floor_ms_;
  VadConfig config_;
  double threshold_db_;
  int64_t frames_ = 0;          /* whole frames processed */
  std::vector<int16_t> pending_;
  double pending_energy_ = 0.0;
  bool in_speech_ = false;
  int voiced_run_ = 0;          /* consecutive voiced frames while not in speech */
  int64_t onset_frame_ = 0;
  int64_t last_voiced_frame_ = 0;
};

}  // namespace clawvoice::sim
