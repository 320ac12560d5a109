/* The simulator's pieces on their own: strict base64, resampling, the VAD, speech synthesis and
 * session.update merging. */
#include "audio_format.h"
#include "resample.h"
#include "session_config.h"
#include "speech_synth.h"
#include "voice_activity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace clawvoice::sim {
namespace {

TEST(StrictBase64, AcceptsCanonicalInput)
{
  std::vector<uint8_t> out;
  ASSERT_TRUE(decode_base64_strict("AAEC", &out));
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 1, 2}));
  ASSERT_TRUE(decode_base64_strict("AAE=", &out));
  EXPECT_EQ(out.size(), 2u);
  ASSERT_TRUE(decode_base64_strict("AA==", &out));
  EXPECT_EQ(out.size(), 1u);
  ASSERT_TRUE(decode_base64_strict("", &out));
  EXPECT_TRUE(out.empty());
  std::vector<uint8_t> bytes = {0xff, 0xfe, 0x00, 0x7f, 0x80};
  ASSERT_TRUE(decode_base64_strict(encode_base64(bytes.data(), bytes.size()), &out));
  EXPECT_EQ(out, bytes);
}

TEST(StrictBase64, RejectsWhatGlibWouldSkip)
{
  std::vector<uint8_t> out;
  EXPECT_FALSE(decode_base64_strict("AAE", &out));       /* not a multiple of 4 */
  EXPECT_FALSE(decode_base64_strict("AA=C", &out));      /* padding in the middle */
  EXPECT_FALSE(decode_base64_strict("A===", &out));      /* three pads */
  EXPECT_FALSE(decode_base64_strict("AA\nC", &out));     /* whitespace */
  EXPECT_FALSE(decode_base64_strict("AA-_", &out));      /* URL-safe alphabet */
  EXPECT_FALSE(decode_base64_strict("not base64!", &out));
}

std::vector<int16_t> tone(double hz, int rate, int ms, double amplitude)
{
  std::vector<int16_t> pcm((size_t) rate * ms / 1000);
  for (size_t i = 0; i < pcm.size(); i++)
    pcm[i] = (int16_t) (amplitude * 32767.0 * std::sin(2.0 * M_PI * hz * i / rate));
  return pcm;
}

double rms(const std::vector<int16_t> &pcm)
{
  double sum = 0;
  for (int16_t s : pcm)
    sum += (double) s * s;
  return pcm.empty() ? 0 : std::sqrt(sum / pcm.size());
}

TEST(Resample, KeepsDurationAndPassband)
{
  auto in = tone(440, 22050, 1000, 0.5);
  auto up = resample(in, 22050, 24000);
  EXPECT_EQ(up.size(), 24000u);
  EXPECT_NEAR(rms(up), rms(in), rms(in) * 0.02);
  auto down = resample(in, 22050, 8000);
  EXPECT_EQ(down.size(), 8000u);
  EXPECT_NEAR(rms(down), rms(in), rms(in) * 0.05);
}

TEST(Resample, FiltersAboveTheNewNyquist)
{
  auto in = tone(6000, 22050, 500, 0.5);   /* would alias to 2 kHz at 8 kHz */
  auto down = resample(in, 22050, 8000);
  EXPECT_LT(rms(down), rms(in) * 0.05);
}

std::vector<VadEvent> run_vad(const std::vector<int16_t> &pcm, int rate, VadConfig config,
                              size_t chunk)
{
  VoiceActivityDetector vad(rate, 0, config);
  std::vector<VadEvent> events;
  for (size_t at = 0; at < pcm.size(); at += chunk) {
    auto e = vad.process(pcm.data() + at, std::min(chunk, pcm.size() - at));
    events.insert(events.end(), e.begin(), e.end());
  }
  return events;
}

TEST(VoiceActivity, FindsAToneBurstOnTheAudioTimeline)
{
  std::vector<int16_t> pcm(24000, 0);                 /* 1 s silence */
  auto burst = tone(300, 24000, 800, 0.3);            /* 0.8 s tone */
  pcm.insert(pcm.end(), burst.begin(), burst.end());
  pcm.resize(pcm.size() + 24000, 0);                  /* 1 s silence */
  for (size_t chunk : {240u, 480u, 1234u}) {          /* how it is sliced must not matter */
    auto events = run_vad(pcm, 24000, VadConfig{}, chunk);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].type, VadEvent::Type::SpeechStarted);
    EXPECT_EQ(events[0].audio_ms, 1000 - 300);        /* onset minus prefix padding */
    EXPECT_EQ(events[1].type, VadEvent::Type::SpeechStopped);
    EXPECT_EQ(events[1].audio_ms, 1800 + 500);        /* end plus the silence that ended it */
    EXPECT_EQ(events[1].speech_ms, 800);
  }
}

TEST(VoiceActivity, ThresholdAndShortPauses)
{
  auto quiet = tone(300, 8000, 500, 0.005);           /* about -49 dBFS */
  EXPECT_TRUE(run_vad(quiet, 8000, VadConfig{}, 160).empty());
  VadConfig sensitive;
  sensitive.threshold = 0.1;                          /* -55 dBFS */
  EXPECT_EQ(run_vad(quiet, 8000, sensitive, 160).size(), 1u);

  auto word = tone(300, 8000, 300, 0.3);
  std::vector<int16_t> pcm = word;
  pcm.resize(pcm.size() + 8 * 300, 0);                /* a 300 ms pause does not end the turn */
  pcm.insert(pcm.end(), word.begin(), word.end());
  pcm.resize(pcm.size() + 8 * 600, 0);
  auto events = run_vad(pcm, 8000, VadConfig{}, 160);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].speech_ms, 900);
}

TEST(SpeechSynth, SpeaksAtTheRequestedRate)
{
  SynthRequest r;
  r.text = "Hello, this is the simulated assistant.";
  auto pcm24 = SpeechSynthesizer::synthesize(r);
  ASSERT_FALSE(pcm24.empty());
  double seconds = pcm24.size() / 24000.0;
  EXPECT_GT(seconds, 1.2);
  EXPECT_LT(seconds, 5.0);
  EXPECT_GT(rms(pcm24), 1000.0) << "audible";
  /* espeak-ng varies a few milliseconds from run to run, no more. */
  EXPECT_NEAR(SpeechSynthesizer::synthesize(r).size() / 24000.0, seconds, 0.03);
  r.rate = 8000;
  auto pcm8 = SpeechSynthesizer::synthesize(r);
  EXPECT_NEAR(pcm8.size() / 8000.0, seconds, 0.03);
  r.speed = 1.5;
  r.rate = 24000;
  EXPECT_LT(SpeechSynthesizer::synthesize(r).size(), pcm24.size());
}

TEST(SessionConfig, MergeReplacesDiscriminatedObjectsWhole)
{
  json::ObjectPtr s = default_session("gpt-realtime", "marin", 0);
  json::ObjectPtr patch = json::parse_object(R"({"audio":{"input":{
      "format":{"type":"audio/pcma"},
      "turn_detection":{"type":"semantic_vad","eagerness":"high"}}}})");
  merge_session(s.get(), patch.get());
  EXPECT_EQ(input_format_of(s.get()).kind, AudioFormat::Kind::Pcma);
  JsonObject *td = json::get_object(json::get_object(json::get_object(s.get(), "audio"), "input"),
                                    "turn_detection");
  EXPECT_FALSE(json_object_has_member(td, "threshold"));
  EXPECT_TRUE(json::get_bool(td, "create_response"));
  EXPECT_EQ(turn_detection_of(s.get()).mode, TurnDetection::Mode::SemanticVad);
  EXPECT_EQ(turn_detection_of(s.get()).vad.silence_duration_ms, 300);
}

}  // namespace
}  // namespace clawvoice::sim
