/* The launcher's Twilio route, end to end: the real clawvoice-launcher process on 127.0.0.1, the
 * Realtime simulator (in this process, so its observations can be checked) as its backend, and
 * the strict Twilio emulator playing Twilio's side. The emulator counts every protocol violation
 * the launcher commits; each test asserts there are none. */
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "launcher_process.h"
#include "media_stream_call.h"
#include "mulaw_audio.h"
#include "realtime_simulator.h"
#include "signature.h"
#include "twiml.h"
#include "webhook.h"

namespace clawvoice::test::launcher {
namespace {

using namespace twilio_emu;

const char kAuthToken[] = "twilio-test-auth-token-5f1c";
const char kControlToken[] = "launcher-test-control-token-9a7e";
const char kSimKey[] = "sk-launcher-test-key";
const char kLongReply[] =
    "Thank you for calling. Let me tell you a long story about the weather, the sea, the mountains "
    "and the small town by the river where everybody knows the baker and the baker knows everybody.";
const char kShortReply[] = "Hello, I heard you.";

/* The model's replies: the barge-in test wants a long first reply. */
std::mutex g_reply_lock;
std::string g_first_reply = kShortReply;
bool g_first_turn_calls_agent = false;   /* the first turn becomes a send_to_openclaw tool call */

class TwilioLauncher : public ::testing::Test {
 protected:
  static void SetUpTestSuite()
  {
    sim::Options options;
    options.api_key = kSimKey;
    options.tool_calls = false;
    options.on_user_turn = [](const sim::UserTurn &turn) {
      std::lock_guard<std::mutex> lock(g_reply_lock);
      if (turn.index == 0 && g_first_turn_calls_agent)
        return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw",
                          R"({"message":"What is on my calendar tomorrow?"})"};
      return sim::Reply{sim::Reply::Kind::Speak, turn.index == 0 ? g_first_reply : kShortReply, "", ""};
    };
    simulator_ = new sim::RealtimeSimulator(options);
    std::string error;
    ASSERT_TRUE(simulator_->start(&error)) << error;
    launcher_ = new LauncherProcess(std::string(R"({
      "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
      "calls": { "max_concurrent": 60 },
      "realtime": { "backend": "openai", "url": ")" + simulator_->url() + R"(", "api_key": ")" +
                                    kSimKey + R"(" },
      "routes": { "twilio": { "auth_token": ")" + kAuthToken + R"(" } }
    })");
    ASSERT_TRUE(launcher_->started()) << launcher_->start_error();
    thread_ = new std::shared_ptr<EmulatorThread>(std::make_shared<EmulatorThread>());
    std::string wav_error;
    question_ = new std::vector<guint8>();
    ASSERT_TRUE(load_wav_as_mulaw(data_path("question.wav"), question_, &wav_error)) << wav_error;
  }

  static void TearDownTestSuite()
  {
    delete thread_;
    if (launcher_) {
      EXPECT_EQ(launcher_->stop(), 0) << "SIGTERM ends the launcher cleanly";
      /* Secrets are never logged. */
      EXPECT_FALSE(launcher_->output_contains(kAuthToken));
      EXPECT_FALSE(launcher_->output_contains(kControlToken));
      EXPECT_FALSE(launcher_->output_contains(kSimKey));
      EXPECT_FALSE(launcher_->output_contains("CRITICAL")) << "no GLib or GStreamer assertion failed";
    }
    delete launcher_;
    delete simulator_;
    delete question_;
    launcher_ = nullptr;
    simulator_ = nullptr;
  }

  void SetUp() override
  {
    ASSERT_TRUE(launcher_ && launcher_->running()) << "the launcher died in an earlier test";
    std::lock_guard<std::mutex> lock(g_reply_lock);
    g_first_reply = kShortReply;
    g_first_turn_calls_agent = false;
  }

  /* After each test: every call is over and its pipeline gone. */
  void TearDown() override
  {
    EXPECT_TRUE(wait_no_calls(15000)) << launcher_->get("/calls", kControlToken).body;
  }

  static bool wait_no_calls(guint timeout_ms)
  {
    const gint64 give_up = g_get_monotonic_time() + timeout_ms * 1000;
    do {
      HttpAnswer calls = launcher_->get("/calls", kControlToken);
      if (calls.status == 200 && calls.body.find("\"id\"") == std::string::npos)
        return true;
      g_usleep(100000);
    } while (g_get_monotonic_time() < give_up);
    return false;
  }

  std::string voice_url() const { return launcher_->url("/voice"); }

  /* Posts a signed voice webhook and reads the TwiML strictly. */
  TwimlResult answer(const CallIdentity &call, HttpReply *reply_out = nullptr)
  {
    HttpReply reply = post_voice_webhook(voice_url(), voice_url(), voice_webhook_params(call), kAuthToken);
    if (reply_out)
      *reply_out = reply;
    EXPECT_EQ(reply.status, 200u) << reply.error << reply.body;
    TwimlOptions options;
    options.allow_ws_loopback = true;   /* no TLS in tests; anything else must be as Twilio wants */
    return parse_connect_stream_twiml(reply.body, options);
  }

  std::unique_ptr<MediaStreamCall> stream(const CallIdentity &call, const TwimlResult &twiml,
                                          std::vector<guint8> audio,
                                          FormParams params_override = {})
  {
    CallOptions options;
    options.stream_url = twiml.stream.url;
    options.custom_parameters = params_override.empty() ? twiml.stream.parameters : params_override;
    options.ids.account_sid = call.account_sid;
    options.ids.call_sid = call.call_sid;
    options.caller_audio = std::move(audio);
    auto media = std::make_unique<MediaStreamCall>(*thread_, options);
    media->start();
    return media;
  }

  /* The launcher's id of the call with this CallSid ("" when it has none live). */
  std::string call_id(const std::string &call_sid)
  {
    HttpAnswer calls = launcher_->get("/calls", kControlToken);
    std::string id;
    JsonParser *parser = json_parser_new();
    if (json_parser_load_from_data(parser, calls.body.c_str(), -1, nullptr)) {
      JsonArray *list = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "calls");
      for (guint i = 0; list && i < json_array_get_length(list); i++) {
        JsonObject *c = json_array_get_object_element(list, i);
        JsonObject *params = json_object_get_object_member(c, "params");
        if (params && g_strcmp0(json_object_get_string_member_with_default(params, "call_sid", ""),
                                call_sid.c_str()) == 0)
          id = json_object_get_string_member(c, "id");
      }
    }
    g_object_unref(parser);
    return id;
  }

  static bool heard_a_reply(const CallReport &r)
  {
    return r.played_audio.size() >= 8000 && r.buffered_bytes == 0 && r.marks_played() > 0;
  }

  static sim::RealtimeSimulator *simulator_;
  static LauncherProcess *launcher_;
  static std::shared_ptr<EmulatorThread> *thread_;
  static std::vector<guint8> *question_;
};

sim::RealtimeSimulator *TwilioLauncher::simulator_ = nullptr;
LauncherProcess *TwilioLauncher::launcher_ = nullptr;
std::shared_ptr<EmulatorThread> *TwilioLauncher::thread_ = nullptr;
std::vector<guint8> *TwilioLauncher::question_ = nullptr;

TEST_F(TwilioLauncher, SignedWebhookIsAnsweredWithConnectStream)
{
  CallIdentity call = CallIdentity::random();
  HttpReply reply;
  TwimlResult twiml = answer(call, &reply);
  EXPECT_TRUE(reply.content_type == "text/xml" || reply.content_type == "application/xml")
      << reply.content_type;
  ASSERT_TRUE(twiml.ok()) << twiml.describe() << "\n" << reply.body;
  EXPECT_EQ(twiml.stream.url, "ws://127.0.0.1:" + std::to_string(launcher_->port()) + "/voice/stream");
  EXPECT_EQ(twiml.stream.status_callback, launcher_->url("/status"));
  ASSERT_EQ(twiml.stream.parameters.size(), 1u);
  EXPECT_EQ(twiml.stream.parameters[0].first, "token");
  EXPECT_GE(twiml.stream.parameters[0].second.size(), 16u);
  EXPECT_FALSE(launcher_->output_contains(twiml.stream.parameters[0].second)) << "stream tokens are secrets";

  CallIdentity other_call = CallIdentity::random();
  TwimlResult other = answer(other_call);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other.stream.parameters[0].second, twiml.stream.parameters[0].second) << "one token per call";

  /* Neither streams: hang both up through the control API. */
  for (const auto &sid : {call.call_sid, other_call.call_sid}) {
    std::string id = call_id(sid);
    ASSERT_FALSE(id.empty()) << sid;
    EXPECT_EQ(launcher_->del("/calls/" + id, kControlToken).status, 202u);
  }
}

TEST_F(TwilioLauncher, BadlySignedWebhooksAre403)
{
  CallIdentity call = CallIdentity::random();
  FormParams params = voice_webhook_params(call);
  const size_t rejected_before = launcher_->events("twilio.signature_rejected").size();
  const size_t created_before = launcher_->events("call.created").size();
  EXPECT_EQ(post_voice_webhook(voice_url(), voice_url(), params, kAuthToken, Signing::Missing).status, 403u);
  EXPECT_EQ(post_voice_webhook(voice_url(), voice_url(), params, kAuthToken, Signing::Wrong).status, 403u);
  EXPECT_EQ(post_voice_webhook(voice_url(), voice_url(), params, kAuthToken, Signing::Tampered).status, 403u);
  EXPECT_EQ(post_voice_webhook(voice_url(), "https://elsewhere.example/voice", params, kAuthToken).status,
            403u)
      << "signed over another URL than the configured public one";
  EXPECT_TRUE(launcher_->wait_for_event("twilio.signature_rejected", 2000, rejected_before + 4));
  EXPECT_EQ(launcher_->events("call.created").size(), created_before) << "no call for a forged webhook";
  EXPECT_EQ(call_id(call.call_sid), "");
}

TEST_F(TwilioLauncher, SpokenQuestionGetsASpokenReplyHeardInFull)
{
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok()) << twiml.describe();
  auto media = stream(call, twiml, *question_);
  ASSERT_TRUE(media->wait_for(heard_a_reply, 30000)) << "heard " << media->report().played_audio.size();
  /* Let the whole reply play out (no media for a while, nothing buffered). */
  ASSERT_TRUE(media->wait_for(
      [](const CallReport &r) {
        return r.buffered_bytes == 0 && !r.received_media.empty() &&
               g_get_monotonic_time() - r.received_media.back().time_us > 1000000;
      },
      30000));
  std::string id = call_id(call.call_sid);
  EXPECT_FALSE(id.empty()) << "the streaming call is live";

  media->stop();
  ASSERT_TRUE(media->wait_closed(5000));
  CallReport r = media->report();
  EXPECT_TRUE(r.violations.empty()) << r.describe_violations();
  EXPECT_GT(mulaw_rms(r.played_audio), 500.0) << "the reply is speech, not silence";
  EXPECT_EQ(r.irregular_payloads, 0u) << "whole 20 ms frames only";
  const SchedulerStats punctuality = (*thread_)->stats();
  EXPECT_EQ(r.underruns.size(), 0u)
      << "the reply played without holes: " << r.describe_underruns() << " (emulator "
      << (*thread_)->priority() << ", woken up to " << punctuality.max_late_us / 1000
      << " ms late, " << punctuality.catch_ups << " catch-ups)";
  EXPECT_EQ(r.gaps_at_marks.size(), 0u)
      << "no hole right at a mark either (the end of a message, or the reply's last words): "
      << r.gaps_at_marks.size() << " of them";
  EXPECT_EQ(r.clears.size(), 0u) << "nobody interrupted";
  EXPECT_GT(r.marks_played(), 0u);
  EXPECT_EQ(r.marks_cleared(), 0u);
  for (const auto &m : r.marks)
    EXPECT_GE(m.echoed_us, m.received_us);
  const double frames_sent_s = r.sent_media.size() * 0.020;
  EXPECT_GT(frames_sent_s, 4.3);
  const double max_lead_ms = r.max_buffered_ms();
  RecordProperty("max_buffered_ms", std::to_string(max_lead_ms));
  EXPECT_LE(max_lead_ms, 1000.0) << "the bridge paces its audio instead of dumping it";

  ASSERT_TRUE(wait_no_calls(10000));
  HttpAnswer ended = launcher_->get("/calls/" + id, kControlToken);
  EXPECT_EQ(ended.status, 200u);
  EXPECT_EQ(json_string(ended.body, "state"), "ended") << ended.body;
  EXPECT_GT(simulator_->input_audio_ms(), 4000) << "the caller's audio reached the model";
}

/* The whole loop through the launcher: the question becomes a send_to_openclaw tool call, the
 * pipeline's openclawrelay asks the agent (the launcher's embedded fake gateway), the answer is
 * handed back to be spoken, and the task shows in /calls/{id} as done. */
TEST_F(TwilioLauncher, QuestionGoesToTheAgentAndTheTaskShowsInCalls)
{
  {
    std::lock_guard<std::mutex> lock(g_reply_lock);
    g_first_turn_calls_agent = true;
  }
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok()) << twiml.describe();
  auto media = stream(call, twiml, *question_);
  std::string id;
  ASSERT_TRUE(media->wait_for([&](const CallReport &) {
    if (id.empty())
      id = call_id(call.call_sid);
    return !id.empty();
  }, 10000));
  std::string body;
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < deadline) {
    body = launcher_->get("/calls/" + id, kControlToken).body;
    if (body.find("\"status\":\"done\"") != std::string::npos)
      break;
    g_usleep(100 * 1000);
  }
  EXPECT_NE(body.find("\"status\":\"done\""), std::string::npos) << body;
  EXPECT_NE(body.find("What is on my calendar tomorrow?"), std::string::npos) << body;
  /* The answer is handed to the model as a system item to speak, once the reply in progress (the
   * acknowledgement) has ended. */
  auto answer_given = [&](const CallReport &) {
    for (const auto &e : simulator_->received_events())
      if (e.type == "conversation.item.create" && e.json.find("You asked: What is on my calendar tomorrow") != std::string::npos)
        return true;
    return false;
  };
  EXPECT_TRUE(media->wait_for(answer_given, 20000)) << "the agent's answer reached the voice model";
  ASSERT_TRUE(media->wait_for(heard_a_reply, 30000));
  media->stop();
  ASSERT_TRUE(media->wait_closed(5000));
  EXPECT_TRUE(media->report().violations.empty()) << media->report().describe_violations();
}

TEST_F(TwilioLauncher, BargeInClearsTwiliosBufferAndTruncatesAtWhatWasHeard)
{
  {
    std::lock_guard<std::mutex> lock(g_reply_lock);
    g_first_reply = kLongReply;
  }
  std::vector<guint8> audio;
  std::string error;
  ASSERT_TRUE(load_wav_as_mulaw(data_path("question_then_interrupt.wav"), &audio, &error)) << error;
  const size_t truncations_before = simulator_->truncations().size();
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok()) << twiml.describe();
  auto media = stream(call, twiml, audio);
  ASSERT_TRUE(media->wait_for([](const CallReport &r) { return !r.clears.empty(); }, 30000))
      << "no clear; heard " << media->report().played_audio.size() << " bytes";
  ASSERT_TRUE(media->wait_for([&](const CallReport &) { return simulator_->truncations().size() > truncations_before; },
                              5000));
  CallReport r = media->report();
  EXPECT_TRUE(r.violations.empty()) << r.describe_violations();

  /* What the caller heard of the first reply: the frames played before the barge-in was decided.
   * The launcher sends the truncate and the clear together; whichever arrived first marks it (on a
   * loaded machine Twilio plays on a little until the clear lands, as it does for real). */
  sim::Truncation t = simulator_->truncations()[truncations_before];
  const gint64 clear_us = r.clears[0].time_us;
  const gint64 decided_us = std::min(clear_us, static_cast<gint64>(t.received_us));
  size_t heard_bytes = 0;
  for (const auto &f : r.played_frames)
    if (f.time_us < decided_us)
      heard_bytes += f.bytes;
  const double heard_ms = heard_bytes / 8.0;
  RecordProperty("clear_after_truncate_ms", std::to_string((clear_us - t.received_us) / 1000.0));
  EXPECT_TRUE(t.accepted);
  EXPECT_GT(heard_ms, 300.0) << "some of the reply was heard before the barge-in";
  /* What the clear dropped depends on the lead the bridge kept (often one frame when the reply
   * arrives in real time), so it is recorded, not asserted. */
  RecordProperty("cleared_ms", std::to_string(r.clears[0].dropped_bytes / 8.0));
  EXPECT_LT(t.audio_end_ms, t.audio_sent_ms) << "truncated at what was heard, not what was sent";
  EXPECT_NEAR(static_cast<double>(t.audio_end_ms), heard_ms, 60.0)
      << "the truncate position is what the caller heard (marks), within 3 frames";
  RecordProperty("heard_ms", std::to_string(heard_ms));
  RecordProperty("truncate_ms", std::to_string(t.audio_end_ms));

  media->stop();
  ASSERT_TRUE(media->wait_closed(5000));
  EXPECT_TRUE(media->report().violations.empty()) << media->report().describe_violations();
}

TEST_F(TwilioLauncher, DtmfReachesTheCall)
{
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok()) << twiml.describe();
  std::vector<guint8> silence(8000, kMulawSilence);
  auto media = stream(call, twiml, silence);
  ASSERT_TRUE(media->wait_for([](const CallReport &r) { return r.sent_media.size() > 10; }, 5000));
  const size_t before = launcher_->events("call.dtmf").size();
  media->send_dtmf('4');
  media->send_dtmf('#');
  ASSERT_TRUE(launcher_->wait_for_event("call.dtmf", 5000, before + 2));
  auto lines = launcher_->events("call.dtmf");
  EXPECT_EQ(json_string(lines[before], "digit"), "4");
  EXPECT_EQ(json_string(lines[before + 1], "digit"), "#");
  EXPECT_EQ(json_string(lines[before], "call_id"), call_id(call.call_sid));
  media->stop();
  ASSERT_TRUE(media->wait_closed(5000));
  EXPECT_TRUE(media->report().violations.empty()) << media->report().describe_violations();
}

TEST_F(TwilioLauncher, StopEndsTheCallCleanly)
{
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok());
  auto media = stream(call, twiml, *question_);
  ASSERT_TRUE(media->wait_for([](const CallReport &r) { return r.sent_media.size() > 50; }, 5000));
  std::string id = call_id(call.call_sid);
  ASSERT_FALSE(id.empty());
  media->stop();
  ASSERT_TRUE(media->wait_closed(5000));
  ASSERT_TRUE(wait_no_calls(5000));
  HttpAnswer ended = launcher_->get("/calls/" + id, kControlToken);
  EXPECT_EQ(json_string(ended.body, "state"), "ended") << ended.body;
  EXPECT_FALSE(json_string(ended.body, "end_reason").empty());
  EXPECT_TRUE(media->report().violations.empty()) << media->report().describe_violations();
}

TEST_F(TwilioLauncher, SocketThatVanishesMidCallEndsTheCall)
{
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok());
  auto media = stream(call, twiml, *question_);
  ASSERT_TRUE(media->wait_for([](const CallReport &r) { return r.sent_media.size() > 50; }, 5000));
  std::string id = call_id(call.call_sid);
  ASSERT_FALSE(id.empty());
  media->vanish();
  ASSERT_TRUE(wait_no_calls(10000)) << "a dropped socket ends the call and frees its pipeline";
  HttpAnswer ended = launcher_->get("/calls/" + id, kControlToken);
  const std::string state = json_string(ended.body, "state");
  EXPECT_TRUE(state == "ended" || state == "failed") << ended.body;
  EXPECT_EQ(launcher_->get("/health", "").status, 200u);
}

TEST_F(TwilioLauncher, WrongStreamTokenIsRefusedAndTheRightOneStillWorks)
{
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok());
  const size_t rejected_before = launcher_->events("twilio.stream_rejected").size();
  auto forged = stream(call, twiml, *question_, {{"token", "0123456789abcdef0123456789abcdef"}});
  ASSERT_TRUE(forged->wait_closed(5000));
  CallReport fr = forged->report();
  EXPECT_TRUE(fr.closed_by_bridge);
  EXPECT_EQ(fr.close_code, 1008) << "policy violation";
  EXPECT_TRUE(launcher_->wait_for_event("twilio.stream_rejected", 2000, rejected_before + 1));

  auto real = stream(call, twiml, *question_);
  ASSERT_TRUE(real->wait_for([](const CallReport &r) { return r.sent_media.size() > 25; }, 5000));
  EXPECT_EQ(real->report().state, CallState::Streaming) << "a forged attempt does not burn the token";
  real->stop();
  ASSERT_TRUE(real->wait_closed(5000));

  /* Single use: the same token again is refused. */
  auto replay = stream(call, twiml, *question_);
  ASSERT_TRUE(replay->wait_closed(5000));
  EXPECT_EQ(replay->report().close_code, 1008);
  EXPECT_TRUE(real->report().violations.empty()) << real->report().describe_violations();
}

TEST_F(TwilioLauncher, GarbageFromTwilioIsLoggedAndTheCallGoesOn)
{
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok());
  auto media = stream(call, twiml, *question_);
  ASSERT_TRUE(media->wait_for([](const CallReport &r) { return r.sent_media.size() > 10; }, 5000));
  const size_t warnings_before = launcher_->events("call.warning").size();
  media->send_raw("this is not json");
  media->send_raw(R"({"event":"bogus","streamSid":")" + media->ids().stream_sid + R"("})");
  media->send_binary({0x52, 0x49, 0x46, 0x46});
  EXPECT_TRUE(launcher_->wait_for_event("call.warning", 5000, warnings_before + 1))
      << "garbage is reported";
  /* The call survives it: the reply still comes. */
  ASSERT_TRUE(media->wait_for(heard_a_reply, 30000));
  media->stop();
  ASSERT_TRUE(media->wait_closed(5000));
  CallReport r = media->report();
  EXPECT_TRUE(r.violations.empty()) << r.describe_violations();
  EXPECT_TRUE(launcher_->running());
}

TEST_F(TwilioLauncher, SignedStatusCallbacksEndCallsForgedOnesAre403)
{
  const std::string status_url = launcher_->url("/status");
  CallIdentity call = CallIdentity::random();
  TwimlResult twiml = answer(call);
  ASSERT_TRUE(twiml.ok());
  auto media = stream(call, twiml, *question_);
  ASSERT_TRUE(media->wait_for([](const CallReport &r) { return r.sent_media.size() > 25; }, 5000));
  std::string id = call_id(call.call_sid);
  ASSERT_FALSE(id.empty());

  FormParams completed = status_callback_params(call, "completed", 3);
  EXPECT_EQ(post_status_callback(status_url, status_url, completed, kAuthToken, Signing::Wrong).status, 403u);
  EXPECT_EQ(post_status_callback(status_url, status_url, completed, kAuthToken, Signing::Missing).status, 403u);
  g_usleep(200000);
  EXPECT_EQ(media->report().state, CallState::Streaming) << "a forged callback ends nothing";
  EXPECT_EQ(call_id(call.call_sid), id);

  HttpReply ok = post_status_callback(status_url, status_url, completed, kAuthToken);
  EXPECT_GE(ok.status, 200u);
  EXPECT_LT(ok.status, 300u);
  ASSERT_TRUE(media->wait_closed(10000)) << "the call's stream ends with the call";
  EXPECT_TRUE(media->report().closed_by_bridge);
  ASSERT_TRUE(wait_no_calls(5000));
  HttpAnswer ended = launcher_->get("/calls/" + id, kControlToken);
  EXPECT_EQ(json_string(ended.body, "state"), "ended") << ended.body;
  EXPECT_NE(json_string(ended.body, "end_reason").find("completed"), std::string::npos) << ended.body;
  EXPECT_TRUE(media->report().violations.empty()) << media->report().describe_violations();

  /* A call that never streams: Twilio reports it unanswered. */
  CallIdentity unanswered = CallIdentity::random();
  ASSERT_TRUE(answer(unanswered).ok());
  std::string pending_id = call_id(unanswered.call_sid);
  ASSERT_FALSE(pending_id.empty());
  post_status_callback(status_url, status_url, status_callback_params(unanswered, "no-answer", 0), kAuthToken);
  ASSERT_TRUE(wait_no_calls(5000));
  EXPECT_EQ(json_string(launcher_->get("/calls/" + pending_id, kControlToken).body, "state"), "failed");
}

TEST_F(TwilioLauncher, FiftySimultaneousCallsCompleteWithNoViolationAndNoLeak)
{
  constexpr size_t kCalls = 50;
  std::vector<CallIdentity> calls;
  std::vector<std::unique_ptr<MediaStreamCall>> media;
  for (size_t i = 0; i < kCalls; i++) {
    calls.push_back(CallIdentity::random());
    TwimlResult twiml = answer(calls.back());
    ASSERT_TRUE(twiml.ok()) << i << ": " << twiml.describe();
    media.push_back(stream(calls.back(), twiml, *question_));
  }
  size_t replied = 0;
  for (auto &m : media)
    replied += m->wait_for(heard_a_reply, 60000);
  EXPECT_EQ(replied, kCalls);
  for (auto &m : media)
    m->stop();
  for (size_t i = 0; i < kCalls; i++) {
    ASSERT_TRUE(media[i]->wait_closed(10000)) << i;
    CallReport r = media[i]->report();
    EXPECT_TRUE(r.violations.empty()) << i << ": " << r.describe_violations();
    EXPECT_EQ(r.irregular_payloads, 0u) << i;
    EXPECT_GT(mulaw_rms(r.played_audio), 500.0) << i;
  }
  ASSERT_TRUE(wait_no_calls(20000)) << "every pipeline is torn down";
  HttpAnswer metrics = launcher_->get("/metrics", kControlToken);
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find("clawvoice_calls{state=\"active\"} 0"), std::string::npos) << metrics.body;
  HttpAnswer health = launcher_->get("/health", "");
  EXPECT_EQ(health.status, 200u);
}

}  // namespace
}  // namespace clawvoice::test::launcher
