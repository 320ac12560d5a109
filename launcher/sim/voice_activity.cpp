#include "voice_activity.h"

#include <algorithm>
#include <cmath>

namespace clawvoice::sim {

static constexpr int kFrameMs = 10;
/* Voiced frames in a row needed to call it speech: a click or a single loud frame is not a turn. */
static constexpr int kOnsetFrames = 3;

VoiceActivityDetector::VoiceActivityDetector(int rate, double start_ms, VadConfig config)
    : rate_(rate),
      frame_samples_(rate * kFrameMs / 1000),
      start_ms_(start_ms),
      floor_ms_(start_ms),
      config_(config),
      threshold_db_(-60.0 + 50.0 * std::clamp(config.threshold, 0.0, 1.0))
{
  pending_.reserve(frame_samples_);
}

double VoiceActivityDetector::position_ms() const
{
  return start_ms_ + (double) (frames_ * frame_samples_ + (int64_t) pending_.size()) * 1000.0 / rate_;
}

std::vector<VadEvent> VoiceActivityDetector::process(const int16_t *pcm, size_t samples)
{
  std::vector<VadEvent> events;
  for (size_t i = 0; i < samples; i++) {
    double s = pcm[i] / 32768.0;
    pending_energy_ += s * s;
    pending_.push_back(pcm[i]);
    if ((int) pending_.size() < frame_samples_)
      continue;
    double rms = std::sqrt(pending_energy_ / frame_samples_);
    double level_db = rms > 0.0 ? 20.0 * std::log10(rms) : -120.0;
    pending_.clear();
    pending_energy_ = 0.0;
    on_frame(level_db, &events);
    frames_++;
  }
  return events;
}

void VoiceActivityDetector::on_frame(double level_db, std::vector<VadEvent> *events)
{
  const bool voiced = level_db > threshold_db_;
  const double frame_start_ms = start_ms_ + (double) frames_ * kFrameMs;
  if (!in_speech_) {
    voiced_run_ = voiced ? voiced_run_ + 1 : 0;
    if (voiced_run_ < kOnsetFrames)
      return;
    in_speech_ = true;
    onset_frame_ = frames_ - (kOnsetFrames - 1);
    last_voiced_frame_ = frames_;
    double onset_ms = start_ms_ + (double) onset_frame_ * kFrameMs;
    double start = std::max(floor_ms_, onset_ms - config_.prefix_padding_ms);
    events->push_back({VadEvent::Type::SpeechStarted, (int64_t) std::llround(start), 0});
    return;
  }
  if (voiced) {
    last_voiced_frame_ = frames_;
    return;
  }
  double silence_ms = (double) (frames_ - last_voiced_frame_) * kFrameMs;
  if (silence_ms < config_.silence_duration_ms)
    return;
  in_speech_ = false;
  voiced_run_ = 0;
  int64_t end = (int64_t) std::llround(frame_start_ms + kFrameMs);
  int64_t speech = (last_voiced_frame_ - onset_frame_ + 1) * kFrameMs;
  events->push_back({VadEvent::Type::SpeechStopped, end, speech});
}

void VoiceActivityDetector::reset()
{
  in_speech_ = false;
  voiced_run_ = 0;
}

}  // namespace clawvoice::sim
