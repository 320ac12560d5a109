/* Caller audio: server VAD on real (synthesised) speech, G.711, manual turns, bad audio, barge-in. */
#include "sim_test_support.h"

#include "speech_synth.h"

#include <cmath>
#include <cstdio>

namespace clawvoice::sim::test {
namespace {

using Audio = SimTest;

const char kQuestion[] = "What will the weather be like in Paris tomorrow?";
const char kAnswer[] = "It will be sunny in Paris tomorrow.";

Options answering(const std::string &text)
{
  Options o = fast_options();
  o.on_user_turn = [text](const UserTurn &) {
    return Reply{Reply::Kind::Speak, text, "", ""};
  };
  return o;
}

std::string str(const Event *e, const char *member)
{
  return e ? json::get_string(e->object.get(), member) : "<none>";
}

int64_t num(const Event *e, const char *member)
{
  return e ? json::get_int(e->object.get(), member, -1) : -1;
}

std::string error_code(const Event *e)
{
  return e ? json::get_string(json::get_object(e->object.get(), "error"), "code") : "<none>";
}

TEST_F(Audio, VadFindsTheTurnAndTheReplyStreamsFasterThanRealTime)
{
  start(answering(kAnswer));
  WsClient &c = connect();
  auto question = speech_pcm(kQuestion);
  const double question_ms = question.size() / 24.0;
  send_audio(c, concat({silence_pcm(500), question, silence_pcm(1200)}));

  const Event *started = c.wait_for("input_audio_buffer.speech_started");
  const Event *stopped = c.wait_for("input_audio_buffer.speech_stopped");
  ASSERT_NE(started, nullptr);
  ASSERT_NE(stopped, nullptr);
  EXPECT_GE(num(started, "audio_start_ms"), 500 - 300);
  EXPECT_LE(num(started, "audio_start_ms"), 500 - 300 + 250) << "onset near the first word";
  EXPECT_NEAR((double) num(stopped, "audio_end_ms"), 500 + question_ms + 500, 300);
  EXPECT_EQ(str(started, "item_id"), str(stopped, "item_id"));
  const Event *committed = c.wait_for("input_audio_buffer.committed");
  EXPECT_EQ(str(committed, "item_id"), str(started, "item_id"));
  const Event *added = c.wait_for("conversation.item.added");
  ASSERT_NE(added, nullptr);
  JsonObject *item = json::get_object(added->object.get(), "item");
  EXPECT_EQ(json::get_string(item, "role"), "user");

  const Event *created = c.wait_for("response.created");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(json::get_string(json::get_object(created->object.get(), "response"), "status"),
            "in_progress");
  const Event *done = c.wait_for("response.done", 10000);
  ASSERT_NE(done, nullptr);
  JsonObject *response = json::get_object(done->object.get(), "response");
  EXPECT_EQ(json::get_string(response, "status"), "completed");

  auto reply = speech_pcm(kAnswer);
  const double reply_ms = reply.size() / 24.0;
  EXPECT_NEAR(delta_audio_ms(c, AudioFormat{}), reply_ms, 40.0);
  auto deltas = c.of_type("response.output_audio.delta");
  ASSERT_GE(deltas.size(), 2u);
  double wall_ms = (deltas.back()->arrived_us - deltas.front()->arrived_us) / 1000.0;
  EXPECT_LT(wall_ms, reply_ms / 2) << "bursts, not real time";
  EXPECT_EQ(str(c.of_type("response.output_audio_transcript.done").at(0), "transcript"), kAnswer);

  JsonObject *usage = json::get_object(response, "usage");
  JsonObject *out = json::get_object(usage, "output_token_details");
  EXPECT_NEAR((double) json::get_int(out, "audio_tokens"), reply_ms / 1000.0 * 20, 2.0);
  JsonObject *in = json::get_object(usage, "input_token_details");
  EXPECT_NEAR((double) json::get_int(in, "audio_tokens"),
              (num(stopped, "audio_end_ms") - num(started, "audio_start_ms")) / 100.0, 1.5);
  EXPECT_EQ(json::get_int(usage, "total_tokens"),
            json::get_int(usage, "input_tokens") + json::get_int(usage, "output_tokens"));

  auto turns = sim->user_turns();
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(turns[0].item_id, str(started, "item_id"));
  double heard = 0;
  ASSERT_EQ(sscanf(turns[0].transcript.c_str(), "(%lf seconds of speech)", &heard), 1)
      << turns[0].transcript;
  EXPECT_NEAR(heard, question_ms / 1000.0, 0.4);
  EXPECT_NEAR((double) sim->input_audio_ms(), 500 + question_ms + 1200, 2.0);
}

TEST_F(Audio, G711MulawInAndOut)
{
  start(answering(kAnswer));
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"session.update","session":{"type":"realtime","audio":{
      "input":{"format":{"type":"audio/pcmu"}},"output":{"format":{"type":"audio/pcmu"}}}}})",
                    "session.updated"),
            nullptr);
  AudioFormat ulaw;
  ulaw.kind = AudioFormat::Kind::Pcmu;
  send_audio(c, concat({silence_pcm(300, 8000), speech_pcm(kQuestion, 8000),
                        silence_pcm(1000, 8000)}),
             ulaw);
  EXPECT_NE(c.wait_for("input_audio_buffer.speech_stopped"), nullptr);
  const Event *done = c.wait_for("response.done", 10000);
  ASSERT_NE(done, nullptr);
  JsonObject *format = json::get_object(
      json::get_object(json::get_object(json::get_object(done->object.get(), "response"), "audio"),
                       "output"),
      "format");
  EXPECT_EQ(json::get_string(format, "type"), "audio/pcmu");
  const double expected_ms = speech_pcm(kAnswer, 8000).size() / 8.0;
  EXPECT_NEAR(delta_audio_ms(c, ulaw), expected_ms, 40.0);
  /* The bytes are μ-law: decoded, the reply is loud speech, not noise or silence. */
  std::vector<int16_t> decoded;
  for (const Event *e : c.of_type("response.output_audio.delta")) {
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(decode_base64_strict(json::get_string(e->object.get(), "delta"), &bytes));
    auto pcm = decode_audio(ulaw, bytes.data(), bytes.size());
    decoded.insert(decoded.end(), pcm.begin(), pcm.end());
  }
  double energy = 0;
  for (int16_t s : decoded)
    energy += (double) s * s;
  EXPECT_GT(std::sqrt(energy / decoded.size()), 1000.0);
}

TEST_F(Audio, ManualTurnsCommitClearAndTheHundredMillisecondRule)
{
  start(answering(kAnswer));
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"session.update","session":{"type":"realtime","audio":{
      "input":{"turn_detection":null}}}})", "session.updated"), nullptr);
  auto voice = speech_pcm("Hello there.");
  c.send(append_event(AudioFormat{}, voice.data(), 2400));   /* 100 ms... */
  c.send(R"({"type":"input_audio_buffer.clear"})");
  EXPECT_NE(c.wait_for("input_audio_buffer.cleared"), nullptr);
  c.send(append_event(AudioFormat{}, voice.data(), 1200));   /* 50 ms */
  const Event *empty = request(c, R"({"type":"input_audio_buffer.commit","event_id":"c1"})",
                               "error");
  EXPECT_EQ(error_code(empty), "input_audio_buffer_commit_empty");
  EXPECT_NE(json::get_string(json::get_object(empty->object.get(), "error"), "message")
                .find("buffer only has 50.00ms of audio"),
            std::string::npos);
  send_audio(c, voice);
  c.pump(100);
  EXPECT_TRUE(c.of_type("input_audio_buffer.speech_started").empty()) << "no VAD";
  const Event *committed = request(c, R"({"type":"input_audio_buffer.commit"})",
                                   "input_audio_buffer.committed");
  ASSERT_NE(committed, nullptr);
  c.pump(100);
  EXPECT_TRUE(c.of_type("response.created").empty()) << "manual turns wait for response.create";
  auto turns = sim->user_turns();
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_EQ(turns[0].audio_start_ms, 100);   /* after the cleared 100 ms */
  EXPECT_NEAR((double) turns[0].audio_end_ms, 150 + voice.size() / 24.0, 1.0);
  EXPECT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  EXPECT_EQ(str(c.of_type("response.output_audio_transcript.done").at(0), "transcript"), kAnswer);
}

TEST_F(Audio, RejectsBadBase64AndPartialSamples)
{
  start();
  WsClient &c = connect();
  const Event *bad = request(
      c, R"({"type":"input_audio_buffer.append","event_id":"a1","audio":"AAAA*AAA"})", "error");
  ASSERT_NE(bad, nullptr);
  JsonObject *err = json::get_object(bad->object.get(), "error");
  EXPECT_EQ(json::get_string(err, "code"), "invalid_value");
  EXPECT_EQ(json::get_string(err, "param"), "audio");
  EXPECT_EQ(json::get_string(err, "event_id"), "a1");
  const Event *odd = request(c, R"({"type":"input_audio_buffer.append","audio":"AAAA"})", "error");
  EXPECT_EQ(error_code(odd), "invalid_value") << "3 bytes is not a whole number of PCM16 samples";
  EXPECT_EQ(sim->input_audio_ms(), 0);
  auto received = sim->received_events();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_FALSE(received[0].valid);
  EXPECT_EQ(received[0].type, "input_audio_buffer.append");
}

TEST_F(Audio, TranscriptionEventsWhenTranscriptionIsOn)
{
  Options o = answering(kAnswer);
  o.transcribe = [](const UserTurn &) { return std::string(kQuestion); };
  start(o);
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"session.update","session":{"type":"realtime","audio":{
      "input":{"transcription":{"model":"gpt-4o-mini-transcribe"}}}}})", "session.updated"),
            nullptr);
  send_audio(c, concat({silence_pcm(200), speech_pcm(kQuestion), silence_pcm(800)}));
  const Event *t = c.wait_for("conversation.item.input_audio_transcription.completed");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(str(t, "transcript"), kQuestion);
  EXPECT_EQ(str(t, "item_id"), sim->user_turns().at(0).item_id);
  EXPECT_NE(c.wait_for("response.done", 10000), nullptr);
  EXPECT_NE(sim->conversation_json().find(kQuestion), std::string::npos);
}

TEST_F(Audio, BargeInCancelsTheReplyAtOnce)
{
  Options o = answering("This is a long answer that keeps going on and on, so that the caller "
                        "has plenty of time to interrupt it in the middle of a sentence.");
  o.burst_speed = 1.0;   /* real time: the reply is still playing when the caller speaks */
  start(o);
  WsClient &c = connect();
  auto question = concat({speech_pcm("Hello?"), silence_pcm(700)});
  send_audio(c, question);
  ASSERT_NE(c.wait_for("response.output_audio.delta", 10000), nullptr);
  c.pump(300);
  send_audio(c, speech_pcm("Wait, stop."));
  const Event *started = c.wait_for("input_audio_buffer.speech_started");
  ASSERT_NE(started, nullptr);
  const Event *done = c.wait_for("response.done");
  ASSERT_NE(done, nullptr);
  JsonObject *response = json::get_object(done->object.get(), "response");
  EXPECT_EQ(json::get_string(response, "status"), "cancelled");
  JsonObject *details = json::get_object(response, "status_details");
  EXPECT_EQ(json::get_string(details, "type"), "cancelled");
  EXPECT_EQ(json::get_string(details, "reason"), "turn_detected");
  const Event *item_done = c.of_type("response.output_item.done").at(0);
  EXPECT_EQ(json::get_string(json::get_object(item_done->object.get(), "item"), "status"),
            "incomplete");
  EXPECT_FALSE(c.of_type("response.output_audio.done").empty());
  /* Nothing of that response after its response.done. */
  size_t done_index = 0;
  for (size_t i = 0; i < c.events().size(); i++)
    if (&c.events()[i] == done)
      done_index = i;
  c.pump(300);
  std::string id = json::get_string(response, "id");
  for (size_t i = done_index + 1; i < c.events().size(); i++)
    EXPECT_NE(json::get_string(c.events()[i].object.get(), "response_id"), id)
        << c.events()[i].type;
  EXPECT_LT(delta_audio_ms(c, AudioFormat{}), speech_pcm(o.on_user_turn(UserTurn{}).text).size() / 24.0);
}

TEST_F(Audio, SidebandConnectionsCarryNoAudio)
{
  start();
  WsClient &c = connect("?call_id=rtc_abc123");
  auto pcm = silence_pcm(100);
  const Event *e = request(c, append_event(AudioFormat{}, pcm.data(), pcm.size()), "error");
  EXPECT_EQ(error_code(e), "invalid_value");
  EXPECT_EQ(sim->input_audio_ms(), 0);
}

}  // namespace
}  // namespace clawvoice::sim::test
