/* realtimesink in real pipelines against the Realtime simulator on 127.0.0.1. */
#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>

#include "clawvoice-contract.h"
#include "common/json.h"
#include "test_support.h"

using namespace clawvoice;
using namespace clawvoice::test;

namespace {

const char *kKey = "sk-test-123456";
const char *kLongReply =
    "Tomorrow in Paris it will be mostly sunny, with a light breeze from the west, a high of twenty "
    "two degrees in the afternoon, and a small chance of showers late in the evening.";

std::string pcm_input(const std::string &wav)
{
  return "filesrc location=" + data_path(wav) +
         " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! ";
}

std::string sink(const sim::RealtimeSimulator &s, const std::string &extra = "")
{
  return "realtimesink name=rt url=" + s.url() + " api-key=" + kKey + " " + extra;
}

/* Collects what reaches a fakesink: bytes, RMS, and how much audio was rendered. */
struct Collector {
  std::atomic<guint64> bytes{0};
  std::atomic<guint64> buffers{0};
  double sum_squares = 0;   /* PCM only */
  std::mutex lock;

  static void on_handoff(GstElement *, GstBuffer *buffer, GstPad *, gpointer data)
  {
    auto *self = static_cast<Collector *>(data);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_READ);
    self->bytes += map.size;
    self->buffers++;
    std::lock_guard<std::mutex> l(self->lock);
    const int16_t *s = reinterpret_cast<const int16_t *>(map.data);
    for (size_t i = 0; i < map.size / 2; i++)
      self->sum_squares += double(s[i]) * double(s[i]);
    gst_buffer_unmap(buffer, &map);
  }
  void attach(GstElement *fakesink)
  {
    g_object_set(fakesink, "signal-handoffs", TRUE, nullptr);
    g_signal_connect(fakesink, "handoff", G_CALLBACK(on_handoff), this);
  }
  double rms()
  {
    std::lock_guard<std::mutex> l(lock);
    guint64 samples = bytes / 2;
    return samples ? std::sqrt(sum_squares / double(samples)) : 0.0;
  }
};

int count_events(const sim::RealtimeSimulator &s, const std::string &type, int connection = 0)
{
  int n = 0;
  for (const auto &e : s.received_events())
    if (e.type == type && (connection == 0 || e.connection == connection))
      n++;
  return n;
}

class RealtimeSinkPipeline : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

}  // namespace

TEST_F(RealtimeSinkPipeline, SpokenQuestionGetsSpokenReplyAndEnds)
{
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::Speak, "It will be sunny in Paris tomorrow.", "", ""};
  };
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p(pcm_input("question.wav") + sink(*simulator, "transcription-model=gpt-4o-mini-transcribe") +
             " ! fakesink name=out sync=false");
  Collector out;
  out.attach(p.by_name("out"));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(30000), GST_MESSAGE_EOS) << p.first_error();

  /* The simulator heard one turn of about the question's length (4.3 s of audio, speech ~3.9 s). */
  auto turns = simulator->user_turns();
  ASSERT_EQ(turns.size(), 1u);
  EXPECT_GT(turns[0].audio_end_ms - turns[0].audio_start_ms, 2500);
  EXPECT_LT(turns[0].audio_end_ms - turns[0].audio_start_ms, 5000);
  /* The reply: the synthesized sentence (~2 s of speech), not silence, in 20 ms periods. */
  double reply_ms = double(out.bytes) / 48.0;
  EXPECT_GT(reply_ms, 1200);
  EXPECT_LT(reply_ms, 4500);
  EXPECT_EQ(out.bytes % 960, 0u) << "whole 20 ms periods";
  EXPECT_GT(out.rms(), 300.0) << "the reply is audible";
  /* Transcripts and usage on the bus. */
  bool assistant_final = false, user_final = false;
  for (const GstStructure *s : p.element_messages(CLAWVOICE_MESSAGE_TRANSCRIPT)) {
    gboolean final = FALSE;
    gst_structure_get_boolean(s, "final", &final);
    std::string role = gst_structure_get_string(s, "role");
    if (final && role == "assistant") {
      assistant_final = true;
      EXPECT_STREQ(gst_structure_get_string(s, "text"), "It will be sunny in Paris tomorrow.");
    }
    if (final && role == "user")
      user_final = true;
  }
  EXPECT_TRUE(assistant_final);
  EXPECT_TRUE(user_final);
  auto usage = p.element_messages(CLAWVOICE_MESSAGE_USAGE);
  ASSERT_FALSE(usage.empty());
  double cost = 0;
  gst_structure_get_double(usage.back(), "total-cost", &cost);
  EXPECT_GT(cost, 0.0);
  /* Every event we sent was valid for the simulator (it validates against the schemas). */
  for (const auto &e : simulator->received_events())
    EXPECT_TRUE(e.valid) << e.json.substr(0, 300);
  EXPECT_TRUE(simulator->errors_sent().empty());
}

TEST_F(RealtimeSinkPipeline, G711MulawPassesThroughUntouched)
{
  sim::Options options;
  options.api_key = kKey;
  options.tool_calls = false;
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p("filesrc location=" + data_path("question.wav") +
             " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! " +
             sink(*simulator) + " ! audio/x-mulaw,rate=8000,channels=1 ! fakesink name=out sync=false");
  Collector out;
  out.attach(p.by_name("out"));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(30000), GST_MESSAGE_EOS) << p.first_error();
  std::string session = simulator->current_session_json();
  EXPECT_NE(session.find("\"audio/pcmu\""), std::string::npos) << session;
  EXPECT_EQ(session.find("\"audio/pcm\""), std::string::npos) << "both directions in μ-law: " << session;
  EXPECT_EQ(simulator->user_turns().size(), 1u);
  EXPECT_GT(out.bytes, 8u * 1000) << "more than a second of μ-law reply";
  EXPECT_EQ(out.bytes % 160, 0u) << "whole 20 ms periods";
}

TEST_F(RealtimeSinkPipeline, ToolCallRoundTripThroughDeclaredLinks)
{
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw", R"({"message":"weather in Paris?"})"};
  };
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  /* Two executors chained: the call for send_to_openclaw passes the first and is served by the second. */
  Pipeline p(pcm_input("question.wav") + sink(*simulator) + " ! fakesink sync=false " +
             "rt.tools ! testexecutor name=calendar tool-name=find_slots ! "
             "testexecutor name=agent delay-ms=300 reply=\"Sunny, twenty two degrees.\"");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(30000), GST_MESSAGE_EOS) << p.first_error();

  std::string session = simulator->current_session_json();
  EXPECT_NE(session.find("\"find_slots\""), std::string::npos) << "executors advertise their tools";
  EXPECT_NE(session.find("\"send_to_openclaw\""), std::string::npos);
  gint agent_calls = 0, calendar_calls = 0;
  g_object_get(p.by_name("agent"), "calls", &agent_calls, nullptr);
  g_object_get(p.by_name("calendar"), "calls", &calendar_calls, nullptr);
  EXPECT_EQ(calendar_calls, 0);
  EXPECT_EQ(agent_calls, 1) << "passed on by the first executor, served once by the second";

  /* The simulator got the output for the call, then a response.create, and spoke the answer. */
  bool output_seen = false;
  for (const auto &e : simulator->received_events()) {
    if (e.type == "conversation.item.create" && e.json.find("function_call_output") != std::string::npos) {
      output_seen = true;
      EXPECT_NE(e.json.find("Sunny, twenty two degrees."), std::string::npos) << e.json;
    }
  }
  EXPECT_TRUE(output_seen);
  EXPECT_GE(count_events(*simulator, "response.create"), 1);
  auto calls = p.element_messages(CLAWVOICE_MESSAGE_TOOL_CALL);
  auto results = p.element_messages(CLAWVOICE_MESSAGE_TOOL_RESULT);
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(results.size(), 1u);
  bool spoken_answer = false;
  for (const GstStructure *s : p.element_messages(CLAWVOICE_MESSAGE_TRANSCRIPT)) {
    const gchar *text = gst_structure_get_string(s, "text");
    if (text && strstr(text, "Sunny, twenty two degrees."))
      spoken_answer = true;
  }
  EXPECT_TRUE(spoken_answer) << "the tool's answer is spoken";
}

TEST_F(RealtimeSinkPipeline, UnhandledToolCallIsAnsweredWithAnErrorAtOnce)
{
  sim::Options options;
  options.api_key = kKey;
  int turn = 0;
  options.on_user_turn = [&turn](const sim::UserTurn &) {
    turn++;
    return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw", R"({"message":"weather?"})"};
  };
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  /* The executor chain ends with an executor that serves another tool: the call falls off the end. */
  Pipeline p(pcm_input("question.wav") + sink(*simulator) + " ! fakesink sync=false " +
             "rt.tools ! testexecutor tool-name=send_to_openclaw_other");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(30000), GST_MESSAGE_EOS) << p.first_error();
  auto results = p.element_messages(CLAWVOICE_MESSAGE_TOOL_RESULT);
  ASSERT_EQ(results.size(), 1u);
  gboolean is_error = FALSE;
  gst_structure_get_boolean(results[0], "error", &is_error);
  EXPECT_TRUE(is_error);
  bool output_seen = false;
  for (const auto &e : simulator->received_events())
    if (e.type == "conversation.item.create" && e.json.find("\\\"error\\\"") != std::string::npos)
      output_seen = true;
  EXPECT_TRUE(output_seen) << "the model got an error result, so it does not hang";
}

TEST_F(RealtimeSinkPipeline, BargeInTruncatesAtWhatTheListenerHeard)
{
  sim::Options options;
  options.api_key = kKey;
  int turn = 0;
  options.on_user_turn = [&turn](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::Speak, turn++ == 0 ? kLongReply : "Okay.", "", ""};
  };
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  /* The caller speaks at real time: the question, 2 s of silence, then an interruption that lands
   * while the long reply is playing on a clock-synchronised sink. identity paces from the start
   * (realtimesink's own sync=true only once PLAYING: on a loaded machine the whole file could pass
   * before that, question and interruption at once, and there would be nothing to barge in on). */
  Pipeline p(pcm_input("question_then_interrupt.wav") + "identity sync=true ! " + sink(*simulator) +
             " ! fakesink name=out sync=true");
  Collector out;
  out.attach(p.by_name("out"));
  std::atomic<guint64> rendered_at_truncate{0};
  struct Ctx { Collector *out; std::atomic<guint64> *at; } ctx{&out, &rendered_at_truncate};
  GstBus *bus = gst_element_get_bus(p.get());
  gst_bus_set_sync_handler(bus, [](GstBus *, GstMessage *m, gpointer data) -> GstBusSyncReply {
    auto *c = static_cast<Ctx *>(data);
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && gst_structure_has_name(s, CLAWVOICE_MESSAGE_TRUNCATE))
      c->at->store(c->out->bytes.load());
    return GST_BUS_PASS;
  }, &ctx, nullptr);
  gst_object_unref(bus);
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(40000), GST_MESSAGE_EOS) << p.first_error();

  auto truncations = simulator->truncations();
  ASSERT_EQ(truncations.size(), 1u);
  EXPECT_TRUE(truncations[0].accepted);
  int64_t rendered_ms = (int64_t) (rendered_at_truncate.load() / 48);
  EXPECT_GT(rendered_ms, 300) << "some of the reply was heard before the interruption";
  EXPECT_LT(truncations[0].audio_end_ms, truncations[0].audio_sent_ms) << "not what was merely received";
  EXPECT_NEAR((double) truncations[0].audio_end_ms, (double) rendered_ms, 40.0)
      << "truncate at what the synchronised sink rendered, within 2 frames";
  EXPECT_EQ(p.element_messages(CLAWVOICE_MESSAGE_TRUNCATE).size(), 1u);
  EXPECT_EQ(simulator->user_turns().size(), 2u);
}

TEST_F(RealtimeSinkPipeline, ReconnectsAfterDropMidReplyAndRestoresContext)
{
  sim::Options options;
  options.api_key = kKey;
  options.tool_calls = false;
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  simulator->close_next_reply_after_ms(400);
  Pipeline p(pcm_input("question.wav") +
             sink(*simulator, "instructions=\"You are Claw.\" transcription-model=gpt-4o-mini-transcribe "
                              "eos-timeout=8000") + " ! fakesink sync=false");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] { return simulator->connections_accepted() >= 2 &&
                                       count_events(*simulator, "session.update", 2) >= 1; }, 15000));
  ASSERT_EQ(p.run(20000), GST_MESSAGE_EOS) << p.first_error();
  /* The second connection got the same configuration and the conversation so far. */
  std::string session = simulator->current_session_json();
  EXPECT_NE(session.find("You are Claw."), std::string::npos);
  std::string conversation = simulator->conversation_json();
  EXPECT_NE(conversation.find("seconds of speech"), std::string::npos)
      << "the caller's transcript was restored: " << conversation;
  bool reconnecting = false, reconnected = false;
  for (const GstStructure *s : p.element_messages(CLAWVOICE_MESSAGE_CONNECTION)) {
    std::string state = gst_structure_get_string(s, "state");
    reconnecting |= state == "reconnecting";
    reconnected |= state == "connected" && std::string(gst_structure_get_string(s, "detail")) == "reconnected";
  }
  EXPECT_TRUE(reconnecting);
  EXPECT_TRUE(reconnected);
}

TEST_F(RealtimeSinkPipeline, SessionExpiryReconnectsAndKeepsRunning)
{
  sim::Options options;
  options.api_key = kKey;
  options.tool_calls = false;
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p("audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! "
             "audio/x-raw,format=S16LE,rate=24000,channels=1 ! " + sink(*simulator) + " ! fakesink sync=false");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] { return simulator->connections_open() == 1 &&
                                       count_events(*simulator, "input_audio_buffer.append") > 5; }, 5000));
  simulator->expire_sessions_now();
  ASSERT_TRUE(p.run_until([&] { return simulator->connections_accepted() == 2 &&
                                       count_events(*simulator, "input_audio_buffer.append", 2) > 5; }, 5000))
      << "audio flows on the new session";
  EXPECT_EQ(p.first_error(), "");
}

/* An executor's inject with respond=FALSE only adds context (memory at call start, say): the model
 * gets the item but is not asked to speak; with respond=TRUE (the default) it is. */
TEST_F(RealtimeSinkPipeline, InjectWithoutRespondAddsContextSilently)
{
  sim::Options options;
  options.api_key = kKey;
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p("audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! "
             "audio/x-raw,format=S16LE,rate=24000,channels=1 ! " + sink(*simulator) + " ! fakesink sync=false "
             "rt.tools ! testexecutor name=ex");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&]() { return count_events(*simulator, "session.update") >= 1; }, 10000));

  GstPad *executor_sink = gst_element_get_static_pad(p.by_name("ex"), "sink");
  auto inject = [&](const char *text, gboolean respond) {
    gst_pad_push_event(executor_sink, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
        gst_structure_new(CLAWVOICE_EVENT_INJECT, "text", G_TYPE_STRING, text, "role", G_TYPE_STRING, "system",
                          "respond", G_TYPE_BOOLEAN, respond, nullptr)));
  };
  auto item_seen = [&](const char *text) {
    for (const auto &e : simulator->received_events())
      if (e.type == "conversation.item.create" && e.json.find(text) != std::string::npos)
        return true;
    return false;
  };
  inject("The caller prefers mornings.", FALSE);
  ASSERT_TRUE(p.run_until([&]() { return item_seen("The caller prefers mornings."); }, 5000));
  p.run_until([]() { return false; }, 500);
  EXPECT_EQ(count_events(*simulator, "response.create"), 0) << "context only: no reply asked for";

  inject("Tell the caller the answer is ready.", TRUE);
  EXPECT_TRUE(p.run_until([&]() { return count_events(*simulator, "response.create") == 1; }, 5000));
  gst_object_unref(executor_sink);
}

TEST_F(RealtimeSinkPipeline, WrongApiKeyIsAClearErrorAndACleanStop)
{
  sim::Options options;
  options.api_key = "sk-the-right-one";
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p("audiotestsrc is-live=true wave=silence ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! " +
             sink(*simulator) + " ! fakesink");
  p.play();
  ASSERT_EQ(p.run(5000), GST_MESSAGE_ERROR);
  EXPECT_NE(p.first_error().find("refused the API key"), std::string::npos) << p.first_error();
  EXPECT_EQ(p.first_error().find(kKey), std::string::npos) << "the key never appears in messages";
}

TEST_F(RealtimeSinkPipeline, RefusedConnectionIsAClearError)
{
  init_gstreamer();
  Pipeline p("audiotestsrc is-live=true wave=silence ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! "
             "realtimesink url=ws://127.0.0.1:9/v1/realtime api-key=sk-x ! fakesink");
  p.play();
  ASSERT_EQ(p.run(5000), GST_MESSAGE_ERROR);
  EXPECT_NE(p.first_error().find("Could not"), std::string::npos) << p.first_error();
}

TEST_F(RealtimeSinkPipeline, MalformedServerJsonIsAnErrorUnknownEventAWarning)
{
  sim::Options options;
  options.api_key = kKey;
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p("audiotestsrc is-live=true wave=silence ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! " +
             sink(*simulator) + " ! fakesink");
  p.play();
  ASSERT_TRUE(p.run_until([&] { return simulator->connections_open() == 1; }, 5000));
  simulator->send_raw_text(R"({"type":"response.something_new","x":1})");
  ASSERT_TRUE(p.run_until([&] { return !p.warnings().empty(); }, 5000));
  EXPECT_NE(p.warnings()[0].find("unknown event"), std::string::npos) << p.warnings()[0];
  EXPECT_EQ(p.first_error(), "") << "an unknown event does not stop the call";
  simulator->send_raw_text("{this is not json");
  ASSERT_EQ(p.run(5000), GST_MESSAGE_ERROR);
  EXPECT_NE(p.first_error().find("not a valid event"), std::string::npos) << p.first_error();
}

TEST_F(RealtimeSinkPipeline, ApiKeyIsNotReadableBack)
{
  GstElement *e = gst_element_factory_make("realtimesink", nullptr);
  ASSERT_TRUE(e);
  g_object_set(e, "api-key", "sk-secret-value", nullptr);
  gchar *key = nullptr;
  g_object_get(e, "api-key", &key, nullptr);
  EXPECT_STRNE(key, "sk-secret-value");
  g_free(key);
  gst_object_unref(e);
}

namespace {

/* A simulator that answers every turn with @reply, spoken. */
std::unique_ptr<sim::RealtimeSimulator> simulator_answering(const std::string &reply)
{
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [reply](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::Speak, reply, "", ""};
  };
  return start_simulator(options);
}

/* What the src pad pushed: by which threads, and whether periods came back to back. */
struct SrcPushes {
  std::mutex lock;
  std::set<std::string> threads;
  GstClockTime next_pts = GST_CLOCK_TIME_NONE;
  int out_of_step = 0;   /* a period not right after the previous one, without DISCONT */
  int off_tick = 0;      /* a period not at the same phase of the clock's 20 ms ticks as the first */
  GstClockTime phase = GST_CLOCK_TIME_NONE;   /* (base time + PTS) mod 20 ms of the first period */
  std::vector<gint64> pushed_at_us;   /* monotonic time of each push */

  void watch(GstElement *element)
  {
    GstPad *src = gst_element_get_static_pad(element, "src");
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, &SrcPushes::on_buffer, this, nullptr);
    gst_object_unref(src);
  }
  static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
  {
    auto *self = static_cast<SrcPushes *>(data);
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    const GstClockTime on_clock = gst_element_get_base_time(GST_ELEMENT(GST_PAD_PARENT(pad))) + GST_BUFFER_PTS(buffer);
    char name[32] = {0};
    pthread_getname_np(pthread_self(), name, sizeof name);
    std::lock_guard<std::mutex> l(self->lock);
    self->threads.insert(name);
    self->pushed_at_us.push_back(g_get_monotonic_time());
    if (GST_CLOCK_TIME_IS_VALID(self->next_pts) && !GST_BUFFER_IS_DISCONT(buffer) &&
        GST_BUFFER_PTS(buffer) != self->next_pts)
      self->out_of_step++;
    /* Every period at the same point of the clock's 20 ms ticks (its network thread's phase: a
     * whole number of ms, a multiple of 20 / pool size), whatever the base time. */
    if (!GST_CLOCK_TIME_IS_VALID(self->phase))
      self->phase = on_clock % (20 * GST_MSECOND);
    if (on_clock % (20 * GST_MSECOND) != self->phase || self->phase % GST_MSECOND != 0)
      self->off_tick++;
    self->next_pts = GST_BUFFER_PTS(buffer) + GST_BUFFER_DURATION(buffer);
    return GST_PAD_PROBE_OK;
  }
};

}  // namespace

/* push-from-network-thread: the reply goes out from a timer on the session's network thread, with
 * no src task: the same reply in the same 20 ms periods, timestamps back to back on the process's
 * 20 ms ticks, paced to the clock, EOS at the end; and a teardown mid-reply returns at once. */
TEST_F(RealtimeSinkPipeline, PushFromTheNetworkThreadHandsOutTheReplyWithoutATask)
{
  auto simulator = simulator_answering(kLongReply);
  ASSERT_TRUE(simulator);
  Pipeline p(pcm_input("question.wav") + sink(*simulator, "push-from-network-thread=true") +
             " ! fakesink name=out sync=false");
  GstElement *rt = p.by_name("rt");
  Collector out;
  out.attach(p.by_name("out"));
  SrcPushes pushes;
  pushes.watch(rt);
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  gint64 first_audio = 0;
  ASSERT_TRUE(p.run_until([&] { return out.bytes > 0; }, 20000)) << p.first_error();
  first_audio = g_get_monotonic_time();
  ASSERT_EQ(p.run(40000), GST_MESSAGE_EOS) << p.first_error();
  double reply_ms = double(out.bytes) / 48.0;
  double took_ms = (g_get_monotonic_time() - first_audio) / 1000.0;
  std::cout << reply_ms << " ms of reply handed out in " << took_ms << " ms\n";
  EXPECT_GT(reply_ms, 4000) << "the long sentence";
  EXPECT_EQ(out.bytes % 960, 0u) << "whole 20 ms periods";
  EXPECT_GT(out.rms(), 300.0) << "the reply is audible";
  EXPECT_GE(took_ms, reply_ms - 100) << "in real time, not in a burst";
  EXPECT_FALSE(src_has_task(rt)) << "no src task";
  {
    std::lock_guard<std::mutex> l(pushes.lock);
    ASSERT_EQ(pushes.threads.size(), 1u);
    EXPECT_EQ(pushes.threads.begin()->rfind("clawvoice-net", 0), 0u) << *pushes.threads.begin();
    EXPECT_EQ(pushes.out_of_step, 0) << "periods back to back";
    EXPECT_EQ(pushes.off_tick, 0) << "every period on its network thread's 20 ms ticks of the clock";
  }
  EXPECT_TRUE(simulator->errors_sent().empty());
  EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  /* Torn down while the reply plays: the pad's deactivation stops the timer, waits for a run in
   * progress, and nothing is pushed after. */
  Pipeline q(pcm_input("question.wav") + sink(*simulator, "push-from-network-thread=true") +
             " ! fakesink name=out sync=false");
  Collector out2;
  out2.attach(q.by_name("out"));
  ASSERT_NE(q.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(q.run_until([&] { return out2.bytes > 48 * 500; }, 20000)) << q.first_error();
  gint64 t0 = g_get_monotonic_time();
  EXPECT_EQ(gst_element_set_state(q.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_LT(g_get_monotonic_time() - t0, 2000000) << "teardown does not hang";
  guint64 after_teardown = out2.bytes;
  g_usleep(100000);
  EXPECT_EQ(out2.bytes.load(), after_teardown) << "nothing pushed after the teardown";
  EXPECT_TRUE(q.first_error().empty()) << q.first_error();
}

/* output-batch (twilio.launch: 80 ms): when a period is due, those due within the batch go with
 * it, so the timer wakes once per five periods; the reply still comes out in real time overall. */
TEST_F(RealtimeSinkPipeline, OutputBatchHandsOutFivePeriodsPerWakeUp)
{
  auto simulator = simulator_answering(kLongReply);
  ASSERT_TRUE(simulator);
  Pipeline p(pcm_input("question.wav") + sink(*simulator, "push-from-network-thread=true output-batch=80") +
             " ! fakesink name=out sync=false");
  Collector out;
  out.attach(p.by_name("out"));
  SrcPushes pushes;
  pushes.watch(p.by_name("rt"));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(40000), GST_MESSAGE_EOS) << p.first_error();

  std::lock_guard<std::mutex> l(pushes.lock);
  const auto &at = pushes.pushed_at_us;
  ASSERT_GT(at.size(), 200u) << "a reply of several seconds";
  /* Wake-ups: pushes more than 10 ms after the previous one. */
  size_t wakeups = 1;
  for (size_t i = 1; i < at.size(); i++)
    wakeups += at[i] - at[i - 1] > 10000;
  double periods_per_wakeup = double(at.size()) / double(wakeups);
  double took_ms = (at.back() - at.front()) / 1000.0;
  std::cout << at.size() << " periods in " << wakeups << " wake-ups (" << periods_per_wakeup << " each), over "
            << took_ms << " ms\n";
  EXPECT_GT(periods_per_wakeup, 4.5) << "five periods per wake-up";
  EXPECT_LT(periods_per_wakeup, 5.5);
  EXPECT_NEAR(took_ms, at.size() * 20.0, 200.0) << "still real time overall";
  EXPECT_EQ(pushes.out_of_step, 0) << "periods back to back";
  EXPECT_EQ(pushes.off_tick, 0) << "on the shared ticks, batch or not";
  EXPECT_GT(out.rms(), 300.0);
}
