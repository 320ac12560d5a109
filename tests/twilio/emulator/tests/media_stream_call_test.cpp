/* MediaStreamCall against a test bridge on 127.0.0.1: real-time cadence, Twilio's buffer (marks,
 * clear), strictness, faults, and many calls on one emulator thread. */
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "media_stream_call.h"
#include "mulaw_audio.h"
#include "test_bridge.h"

namespace clawvoice::test::twilio_emu {
namespace {

/* A parsed JSON frame as the bridge received it. */
struct Json {
  JsonParser *parser = json_parser_new();
  JsonObject *object = nullptr;
  explicit Json(const std::string &text)
  {
    if (json_parser_load_from_data(parser, text.data(), text.size(), nullptr) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
      object = json_node_get_object(json_parser_get_root(parser));
  }
  ~Json() { g_object_unref(parser); }
  std::string str(const char *member, const char *inner = nullptr) const
  {
    JsonObject *o = object;
    if (o && inner)
      o = json_object_has_member(o, inner) ? json_object_get_object_member(o, inner) : nullptr;
    return o ? json_object_get_string_member_with_default(o, member, "") : "";
  }
  std::string event() const { return str("event"); }
};

std::vector<BridgeFrame> frames_with_event(const BridgeConnection &c, const std::string &event)
{
  std::vector<BridgeFrame> out;
  for (const auto &f : c.frames)
    if (f.event == event)
      out.push_back(f);
  return out;
}

size_t count_event(const std::vector<BridgeConnection> &conns, size_t index, const std::string &event)
{
  return index < conns.size() ? conns[index].count(event) : 0;
}

std::vector<guint8> ramp_audio(size_t n)
{
  std::vector<guint8> v(n);
  for (size_t i = 0; i < n; i++)
    v[i] = static_cast<guint8>(i * 7 + 3);
  return v;
}

std::string b64(const std::vector<guint8> &data, size_t offset, size_t len)
{
  gchar *text = g_base64_encode(data.data() + offset, len);
  std::string out = text;
  g_free(text);
  return out;
}

std::string outbound_media(const std::string &sid, const std::vector<guint8> &audio, size_t offset,
                           size_t len)
{
  return R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":")" +
         b64(audio, offset, len) + R"("}})";
}

std::string outbound_mark(const std::string &sid, const std::string &name)
{
  return R"({"event":"mark","streamSid":")" + sid + R"(","mark":{"name":")" + name + R"("}})";
}

class MediaStreamCallTest : public ::testing::Test {
 protected:
  std::shared_ptr<EmulatorThread> thread_ = std::make_shared<EmulatorThread>();
  TestBridge bridge_;

  std::unique_ptr<MediaStreamCall> start_call(CallOptions options = {})
  {
    options.stream_url = bridge_.ws_url();
    auto call = std::make_unique<MediaStreamCall>(thread_, std::move(options));
    call->start();
    return call;
  }

  /* Waits until the bridge has the call's `start` and the call is streaming. */
  void wait_started(MediaStreamCall &call, size_t index = 0)
  {
    ASSERT_TRUE(bridge_.wait_for([&](const auto &c) { return count_event(c, index, "start") == 1; },
                                 5000));
    ASSERT_TRUE(call.wait_for([](const CallReport &r) { return r.state == CallState::Streaming; }, 5000));
  }
};

TEST_F(MediaStreamCallTest, LoadsAWavFileAsMulaw)
{
  std::vector<guint8> audio;
  std::string error;
  ASSERT_TRUE(load_wav_as_mulaw(data_path("question.wav"), &audio, &error)) << error;
  /* 4.34 s at 24 kHz → 8 kHz μ-law: 8 bytes per ms. */
  EXPECT_NEAR(audio.size(), 4340 * 8, 8 * 20);
  EXPECT_GT(mulaw_rms(audio), 300.0) << "spoken audio should not be silent";

  EXPECT_FALSE(load_wav_as_mulaw(data_path("no-such-file.wav"), &audio, &error));
  EXPECT_NE(error, "");
  error.clear();
  EXPECT_FALSE(load_wav_as_mulaw(std::string(__FILE__), &audio, &error)) << "a C++ file is no WAV";
  EXPECT_NE(error, "");
  EXPECT_TRUE(audio.empty());
}

TEST_F(MediaStreamCallTest, StreamsInRealTimeWithTwiliosMessages)
{
  std::vector<guint8> audio;
  std::string error;
  ASSERT_TRUE(load_wav_as_mulaw(data_path("question.wav"), &audio, &error)) << error;
  CallOptions options;
  options.caller_audio = audio;
  options.trailing_silence_ms = 660;   /* 4.34 s + 0.66 s: 5 s on the wire */
  options.silence_when_idle = false;
  options.custom_parameters = {{"token", "tok-1"}, {"caller", "+1555"}};
  auto call = start_call(options);
  const size_t frames = (audio.size() + 660 * 8 + 159) / 160;

  ASSERT_TRUE(bridge_.wait_for([&](const auto &c) { return count_event(c, 0, "media") == frames; },
                               10000));
  ASSERT_TRUE(call->wait_for([](const CallReport &r) { return r.caller_audio_done_us != 0; }, 1000));
  BridgeConnection conn = bridge_.connections()[0];

  ASSERT_GE(conn.frames.size(), 2u);
  EXPECT_EQ(conn.frames[0].data, R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  Json start(conn.frames[1].data);
  EXPECT_EQ(start.event(), "start");
  EXPECT_EQ(start.str("sequenceNumber"), "1");
  EXPECT_EQ(start.str("streamSid"), call->ids().stream_sid);
  EXPECT_EQ(start.str("callSid", "start"), call->ids().call_sid);
  EXPECT_EQ(start.str("accountSid", "start"), call->ids().account_sid);
  JsonObject *custom = json_object_get_object_member(
      json_object_get_object_member(start.object, "start"), "customParameters");
  EXPECT_STREQ(json_object_get_string_member(custom, "token"), "tok-1");
  EXPECT_STREQ(json_object_get_string_member(custom, "caller"), "+1555");

  auto media = frames_with_event(conn, "media");
  ASSERT_EQ(media.size(), frames);
  std::vector<guint8> heard_by_bridge;
  std::vector<double> deviation_ms;
  for (size_t i = 0; i < media.size(); i++) {
    Json m(media[i].data);
    EXPECT_EQ(m.str("sequenceNumber"), std::to_string(i + 2));
    EXPECT_EQ(m.str("chunk", "media"), std::to_string(i + 1));
    EXPECT_EQ(m.str("timestamp", "media"), std::to_string((i + 1) * 20));
    EXPECT_EQ(m.str("track", "media"), "inbound");
    EXPECT_EQ(m.str("streamSid"), call->ids().stream_sid);
    gsize len = 0;
    guchar *payload = g_base64_decode(m.str("payload", "media").c_str(), &len);
    EXPECT_EQ(len, 160u);
    heard_by_bridge.insert(heard_by_bridge.end(), payload, payload + len);
    g_free(payload);
    deviation_ms.push_back((media[i].time_us - media[0].time_us) / 1000.0 - 20.0 * i);
  }
  std::vector<guint8> expected = audio;
  expected.resize(frames * 160, kMulawSilence);
  EXPECT_EQ(heard_by_bridge, expected) << "the bridge must get exactly the caller audio";

  /* Real time: frames arrive on the 20 ms grid within ±5 ms, with no drift over 5 s. Tolerance:
   * on this 2-core VM under a parallel build even a bare SCHED_FIFO clock_nanosleep loop wakes up
   * to ~5 ms late now and then, so 1 % of frames may be off by up to 10 ms; none by more. */
  std::vector<double> sorted = deviation_ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  size_t off_grid = 0;
  double worst = 0;
  for (double d : deviation_ms) {
    worst = std::max(worst, std::fabs(d - median));
    if (std::fabs(d - median) > 5.0)
      off_grid++;
  }
  EXPECT_LE(off_grid, frames / 100) << "frames off the 20 ms grid by more than 5 ms";
  EXPECT_LT(worst, 10.0) << "worst distance from the 20 ms grid, ms";
  const double span_s = (media.back().time_us - media.front().time_us) / 1e6;
  EXPECT_NEAR(span_s, (frames - 1) * 0.020, 0.005) << "drift";

  CallReport report = call->report();
  Percentiles late = send_lateness_ms(report);
  EXPECT_EQ(late.count, frames);
  EXPECT_LT(late.p99, 5.0) << "the emulator's own sends were late (thread priority "
                           << thread_->priority() << ")";
  EXPECT_LT(late.max, 10.0);
  EXPECT_TRUE(report.violations.empty()) << report.describe_violations();
}

TEST_F(MediaStreamCallTest, MarkComesBackOnceItsAudioHasPlayed)
{
  auto call = start_call();
  wait_started(*call);
  const std::string sid = call->ids().stream_sid;
  auto audio = ramp_audio(1600);   /* 200 ms */
  gint64 sent_us = 0;
  bridge_.with_connection(0, [&](SoupWebsocketConnection *ws) {
    for (size_t off = 0; off < audio.size(); off += 160)
      soup_websocket_connection_send_text(ws, outbound_media(sid, audio, off, 160).c_str());
    soup_websocket_connection_send_text(ws, outbound_mark(sid, "resp-1").c_str());
    sent_us = g_get_monotonic_time();
  });
  ASSERT_TRUE(bridge_.wait_for([&](const auto &c) { return count_event(c, 0, "mark") == 1; }, 2000));
  BridgeConnection conn = bridge_.connections()[0];
  ASSERT_TRUE(call->wait_for([](const CallReport &r) { return r.marks.size() == 1; }, 1000));
  BridgeFrame echo = frames_with_event(conn, "mark")[0];
  Json mark(echo.data);
  EXPECT_EQ(mark.str("streamSid"), sid);
  EXPECT_EQ(mark.str("name", "mark"), "resp-1");
  EXPECT_FALSE(mark.str("sequenceNumber").empty());

  /* 200 ms of audio starts at the next 20 ms tick: the echo comes 200–225 ms after sending. */
  const double delay_ms = (echo.time_us - sent_us) / 1000.0;
  EXPECT_GE(delay_ms, 199.0);
  EXPECT_LE(delay_ms, 230.0);

  CallReport report = call->report();
  ASSERT_EQ(report.marks.size(), 1u);
  EXPECT_TRUE(report.marks[0].played);
  EXPECT_EQ(report.played_audio, audio);
  EXPECT_EQ(report.played_frames.size(), 10u);
  EXPECT_EQ(report.max_buffered_bytes, 1600u);
  EXPECT_EQ(report.bytes_received, 1600u);
  EXPECT_TRUE(report.underruns.empty());
  EXPECT_TRUE(report.violations.empty()) << report.describe_violations();
}

/* Audio that reaches Twilio before its buffer runs dry plays without a hole, even when the
 * emulator's own thread was not scheduled at that moment; audio that comes after it is a hole. */
TEST_F(MediaStreamCallTest, HoleIsTheBridgesLatenessNotTheEmulatorsOwnStall)
{
  auto call = start_call();
  wait_started(*call);
  const std::string sid = call->ids().stream_sid;
  auto audio = ramp_audio(4 * 800);   /* four bursts of 100 ms */
  auto send_burst = [&](size_t k) {
    bridge_.with_connection(0, [&](SoupWebsocketConnection *ws) {
      for (size_t off = k * 800; off < (k + 1) * 800; off += 160)
        soup_websocket_connection_send_text(ws, outbound_media(sid, audio, off, 160).c_str());
    });
  };
  auto played = [&](size_t frames) {
    return call->wait_for([frames](const CallReport &r) { return r.played_frames.size() >= frames; },
                          2000);
  };

  /* The emulator sleeps through the moment its buffer would have run dry; the next burst came
   * 60 ms before that moment. */
  send_burst(0);
  ASSERT_TRUE(played(1));
  thread_->invoke([]() { g_usleep(250000); });
  g_usleep(30000);
  send_burst(1);
  ASSERT_TRUE(played(10));
  EXPECT_TRUE(call->report().underruns.empty()) << call->report().describe_underruns();
  EXPECT_GE(thread_->stats().catch_ups, 1u);

  /* The bridge itself is late: 150 ms after the buffer ran dry. */
  const gint64 dry_at = call->report().played_frames.back().time_us + 20000;
  g_usleep(static_cast<gulong>(std::max<gint64>(0, dry_at + 150000 - g_get_monotonic_time())));
  send_burst(2);
  send_burst(3);
  ASSERT_TRUE(played(20));
  CallReport report = call->report();
  ASSERT_EQ(report.underruns.size(), 1u) << report.describe_underruns();
  EXPECT_NEAR(report.underruns[0].gap_us / 1000.0, 150.0, 25.0);
  EXPECT_EQ(report.played_audio, audio);
  EXPECT_TRUE(report.violations.empty()) << report.describe_violations();
}

TEST_F(MediaStreamCallTest, ClearDropsTheRestAndEchoesEveryPendingMarkAtOnce)
{
  auto call = start_call();
  wait_started(*call);
  const std::string sid = call->ids().stream_sid;
  auto audio = ramp_audio(3 * 8000);   /* 3 s */
  bridge_.with_connection(0, [&](SoupWebsocketConnection *ws) {
    for (size_t off = 0; off < 16000; off += 160)
      soup_websocket_connection_send_text(ws, outbound_media(sid, audio, off, 160).c_str());
    soup_websocket_connection_send_text(ws, outbound_mark(sid, "a").c_str());
    for (size_t off = 16000; off < audio.size(); off += 160)
      soup_websocket_connection_send_text(ws, outbound_media(sid, audio, off, 160).c_str());
    soup_websocket_connection_send_text(ws, outbound_mark(sid, "b").c_str());
  });
  ASSERT_TRUE(call->wait_for([](const CallReport &r) { return r.played_frames.size() >= 5; }, 2000));
  gint64 clear_us = 0;
  bridge_.with_connection(0, [&](SoupWebsocketConnection *ws) {
    soup_websocket_connection_send_text(ws, (R"({"event":"clear","streamSid":")" + sid + R"("})").c_str());
    clear_us = g_get_monotonic_time();
  });
  ASSERT_TRUE(bridge_.wait_for([&](const auto &c) { return count_event(c, 0, "mark") == 2; }, 1000));
  auto marks = frames_with_event(bridge_.connections()[0], "mark");
  EXPECT_EQ(Json(marks[0].data).str("name", "mark"), "a");
  EXPECT_EQ(Json(marks[1].data).str("name", "mark"), "b");
  for (const auto &m : marks)
    EXPECT_LT((m.time_us - clear_us) / 1000.0, 50.0) << "marks must come back at once on clear";

  ASSERT_TRUE(call->wait_for([](const CallReport &r) { return r.marks.size() == 2; }, 1000));
  g_usleep(100000);   /* nothing more is played after the clear */
  CallReport report = call->report();
  ASSERT_EQ(report.marks.size(), 2u);
  EXPECT_FALSE(report.marks[0].played);
  EXPECT_FALSE(report.marks[1].played);
  EXPECT_EQ(report.marks_cleared(), 2u);
  ASSERT_EQ(report.clears.size(), 1u);
  const guint64 played = report.played_audio.size();
  EXPECT_EQ(report.clears[0].dropped_bytes + played, audio.size());
  EXPECT_EQ(report.clears[0].marks_released, 2u);
  EXPECT_GE(played, 5u * 160);
  EXPECT_LE(played, 20u * 160);
  EXPECT_TRUE(std::equal(report.played_audio.begin(), report.played_audio.end(), audio.begin()));
  EXPECT_LE(report.played_frames.back().time_us, clear_us + 1000);
  EXPECT_EQ(report.buffered_bytes, 0u);
  EXPECT_TRUE(report.underruns.empty());
  EXPECT_TRUE(report.violations.empty()) << report.describe_violations();
}

TEST_F(MediaStreamCallTest, EveryViolationIsDetectedWithTwiliosCode)
{
  auto call = start_call();
  wait_started(*call);
  const std::string sid = call->ids().stream_sid;
  const std::string wav_header_payload = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

  struct Case {
    std::function<void()> send;
    int code;
    const char *why;
  } cases[] = {
      {[&] { bridge_.send_binary(0, {1, 2, 3}); }, kErrorBinaryFrame, "binary frame"},
      {[&] { bridge_.send_text(0, R"({"event":"clear","streamSid":")" + sid + R"(","x":1})"); },
       kErrorInvalidMessage, "extra field"},
      {[&] { bridge_.send_text(0, R"({"event":"clear","streamSid":"MZwrong"})"); },
       kErrorInvalidMessage, "wrong streamSid"},
      {[&] {
         bridge_.send_text(0, R"({"event":"media","streamSid":")" + sid + R"(","media":{"payload":")" +
                                  wav_header_payload + R"("}})");
       },
       kErrorFileHeader, "WAV header payload"},
      {[&] {
         bridge_.send_text(0, R"({"event":"media","streamSid":")" + sid +
                                  R"(","media":{"payload":"not base64!"}})");
       },
       kErrorInvalidMessage, "non-base64 payload"},
      {[&] { bridge_.send_text(0, "garbage"); }, kErrorInvalidMessage, "not JSON"},
  };
  size_t expected = 0;
  for (const auto &c : cases) {
    c.send();
    expected++;
    ASSERT_TRUE(call->wait_for([&](const CallReport &r) { return r.violations.size() == expected; },
                               2000))
        << c.why;
    CallReport report = call->report();
    EXPECT_EQ(report.violations.back().code, c.code) << c.why << ": " << report.violations.back().detail;
  }
  CallReport report = call->report();
  EXPECT_EQ(report.bytes_received, 0u) << "rejected audio must not be played";
  EXPECT_EQ(report.state, CallState::Streaming) << "Twilio logs these and goes on";
}

TEST_F(MediaStreamCallTest, VanishIsAnAbruptCloseForTheBridge)
{
  auto call = start_call();
  wait_started(*call);
  call->vanish();
  ASSERT_TRUE(bridge_.wait_for([](const auto &c) { return c[0].closed; }, 5000));
  BridgeConnection conn = bridge_.connections()[0];
  EXPECT_FALSE(conn.close_frame_received) << "close code " << conn.close_code;
  EXPECT_TRUE(frames_with_event(conn, "stop").empty());
  CallReport report = call->report();
  EXPECT_TRUE(report.vanished);
  EXPECT_EQ(report.state, CallState::Closed);
}

TEST_F(MediaStreamCallTest, StopSendsStopThenClosesNormally)
{
  auto call = start_call();
  wait_started(*call);
  call->send_dtmf('7');
  ASSERT_TRUE(bridge_.wait_for([](const auto &c) { return count_event(c, 0, "dtmf") == 1; }, 2000));
  call->stop();
  ASSERT_TRUE(bridge_.wait_for([](const auto &c) { return c[0].closed; }, 5000));
  BridgeConnection conn = bridge_.connections()[0];
  Json dtmf(frames_with_event(conn, "dtmf")[0].data);
  EXPECT_EQ(dtmf.str("digit", "dtmf"), "7");
  EXPECT_EQ(dtmf.str("track", "dtmf"), "inbound_track");
  EXPECT_EQ(dtmf.str("streamSid"), call->ids().stream_sid);

  auto stops = frames_with_event(conn, "stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(&conn.frames.back().data != nullptr, true);
  EXPECT_EQ(Json(conn.frames.back().data).event(), "stop") << "nothing after stop";
  Json stop(stops[0].data);
  EXPECT_EQ(stop.str("callSid", "stop"), call->ids().call_sid);
  EXPECT_EQ(stop.str("accountSid", "stop"), call->ids().account_sid);
  EXPECT_TRUE(conn.close_frame_received);
  EXPECT_EQ(conn.close_code, SOUP_WEBSOCKET_CLOSE_NORMAL);
  ASSERT_TRUE(call->wait_closed(5000));
  EXPECT_FALSE(call->report().closed_by_bridge);
}

TEST_F(MediaStreamCallTest, BridgeCloseEndsTheCall)
{
  auto call = start_call();
  wait_started(*call);
  bridge_.close(0, SOUP_WEBSOCKET_CLOSE_NORMAL);
  ASSERT_TRUE(call->wait_closed(5000));
  CallReport report = call->report();
  EXPECT_EQ(report.state, CallState::Closed);
  EXPECT_TRUE(report.closed_by_bridge);
  EXPECT_EQ(report.close_code, SOUP_WEBSOCKET_CLOSE_NORMAL);
  const size_t sent = report.sent_media.size();
  g_usleep(100000);
  EXPECT_EQ(call->report().sent_media.size(), sent) << "no media after the close";
}

TEST_F(MediaStreamCallTest, RefusedHandshakeIs31920)
{
  CallOptions options;
  options.stream_url = bridge_.http_url("/voice");   /* an HTTP route: no upgrade */
  MediaStreamCall call(thread_, options);
  call.start();
  ASSERT_TRUE(call.wait_closed(5000));
  CallReport report = call.report();
  EXPECT_EQ(report.state, CallState::Failed);
  EXPECT_NE(report.failure, "");
  EXPECT_TRUE(report.has_violation(kErrorHandshake)) << report.describe_violations();
}

TEST_F(MediaStreamCallTest, FiftyCallsOnOneThreadKeepCadence)
{
  constexpr size_t kCalls = 50;
  constexpr size_t kFrames = 150;   /* 3 s each */
  bridge_.set_echo_media(true);     /* every caller frame comes back: the playout runs too */
  std::vector<std::unique_ptr<MediaStreamCall>> calls;
  for (size_t i = 0; i < kCalls; i++) {
    CallOptions options;
    options.caller_audio = ramp_audio(kFrames * 160);
    options.silence_when_idle = false;
    calls.push_back(start_call(options));
  }
  for (auto &call : calls)
    ASSERT_TRUE(call->wait_for([](const CallReport &r) { return r.played_frames.size() >= kFrames; },
                               15000))
        << call->report().played_frames.size();

  /* Keeping cadence: 99 % of all frames leave within 5 ms of their deadline and none misses its
   * 20 ms slot (see the single-call test for why an occasional frame may be a few ms later). */
  std::vector<double> all_late;
  for (auto &call : calls) {
    CallReport report = call->report();
    EXPECT_TRUE(report.violations.empty()) << report.describe_violations();
    EXPECT_EQ(report.sent_media.size(), kFrames);
    EXPECT_EQ(report.played_audio, ramp_audio(kFrames * 160)) << "echoed audio played in order";
    for (const auto &f : report.sent_media)
      all_late.push_back((f.sent_us - f.due_us) / 1000.0);
  }
  Percentiles across = percentiles(all_late);
  EXPECT_EQ(across.count, kCalls * kFrames);
  EXPECT_LT(across.p99, 5.0) << "p99 send lateness over " << kCalls << " calls, ms";
  EXPECT_LT(across.max, 20.0) << "worst send lateness, ms";
  SchedulerStats stats = thread_->stats();
  EXPECT_GE(stats.runs, kCalls * kFrames);
  std::printf("50 calls (%s): send lateness p50 %.2f p99 %.2f max %.2f ms, scheduler late>5ms %llu of %llu\n",
              thread_->priority(), across.p50, across.p99, across.max,
              static_cast<unsigned long long>(stats.late_over_5ms),
              static_cast<unsigned long long>(stats.runs));
}

}  // namespace
}  // namespace clawvoice::test::twilio_emu
