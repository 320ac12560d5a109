/* The whole loop in real pipelines: caller audio → realtimesink → simulator (the voice model calls a
 * tool) → openclawrelay → fake OpenClaw gateway → the answer handed back and spoken. All on 127.0.0.1. */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "clawvoice-contract.h"
#include "common/json.h"
#include "openclawrelay/openclawrelay-messages.h"
#include "relay_pipeline_support.h"
#include "relay_test_support.h"
#include "test_support.h"

using namespace clawvoice;
using namespace clawvoice::test;

namespace {

const char *kKey = "sk-test-relay";
const char *kToken = "gw-token";

/* The caller asks the question in question.wav, then stays on the line: hold() adds the silence
 * (concat), and identity paces it all in real time so the call lasts as long as a real one. */
std::string caller()
{
  return "filesrc location=" + data_path("question.wav") +
      " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! concat name=c"
      " ! identity sync=true ! ";
}
std::string hold(unsigned hold_s)
{
  return " audiotestsrc wave=silence samplesperbuffer=480 num-buffers=" + std::to_string(hold_s * 50) +
      " ! audio/x-raw,format=S16LE,rate=24000,channels=1 ! c. ";
}
std::string voice(const sim::RealtimeSimulator &s)
{
  return "realtimesink name=rt url=" + s.url() + " api-key=" + kKey + " ! fakesink sync=false ";
}
std::string relay(const sim::RealtimeSimulator &s, const std::string &extra = "")
{
  return "openclawrelay name=relay url=" + s.gateway_url() + " token=" + kToken +
      " caller=+15551234567 call-id=call-9 " + extra;
}

/* The system messages the voice model received (conversation.item.create with role system), in order. */
std::vector<std::string> system_items(const sim::RealtimeSimulator &s)
{
  std::vector<std::string> out;
  for (const auto &e : s.received_events()) {
    if (e.type != "conversation.item.create")
      continue;
    json::ObjectPtr o = json::parse_object(e.json);
    JsonObject *item = json::get_object(o.get(), "item");
    if (json::get_string(item, "role") != "system")
      continue;
    JsonArray *content = json::get_array(item, "content");
    std::string text;
    for (guint i = 0; content && i < json_array_get_length(content); i++)
      text += json::get_string(json_array_get_object_element(content, i), "text");
    out.push_back(text);
  }
  return out;
}

int count_containing(const std::vector<std::string> &items, const std::string &needle)
{
  int n = 0;
  for (const auto &i : items)
    n += i.find(needle) != std::string::npos;
  return n;
}

std::vector<std::string> task_statuses(const Pipeline &p)
{
  std::vector<std::string> out;
  for (const GstStructure *s : p.element_messages(CLAWVOICE_MESSAGE_TASK))
    out.push_back(gst_structure_get_string(s, "status"));
  return out;
}

/* Element messages stamped with the monotonic time they were posted (a sync handler on the bus),
 * for ordering what realtimesink and the relay did. */
struct Timeline {
  std::mutex lock;
  std::vector<std::pair<gint64, std::string>> entries;   /* time, "<structure>:<event or status>" */

  static GstBusSyncReply on_message(GstBus *, GstMessage *m, gpointer data)
  {
    auto *self = static_cast<Timeline *>(data);
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s) {
      const gchar *what = gst_structure_get_string(s, "event");
      if (!what)
        what = gst_structure_get_string(s, "status");
      std::lock_guard<std::mutex> guard(self->lock);
      self->entries.emplace_back(g_get_monotonic_time(), std::string(gst_structure_get_name(s)) + ":" +
          (what ? what : ""));
    }
    return GST_BUS_PASS;
  }
  void attach(GstElement *pipeline)
  {
    GstBus *bus = gst_element_get_bus(pipeline);
    gst_bus_set_sync_handler(bus, on_message, this, nullptr);
    gst_object_unref(bus);
  }
  /* Times of every entry equal to @what, in order. */
  std::vector<gint64> times(const std::string &what)
  {
    std::lock_guard<std::mutex> guard(lock);
    std::vector<gint64> out;
    for (const auto &[t, w] : entries)
      if (w == what)
        out.push_back(t);
    return out;
  }
};

class RelayPipeline : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

}  // namespace

TEST_F(RelayPipeline, SpokenQuestionBecomesAgentRequestAndTheAnswerIsSpokenAfterTheReply)
{
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw",
        R"({"message":"What is on my calendar tomorrow?"})"};
  };
  options.agent.token = kToken;
  /* Fast: the answer is in while the model is still speaking its acknowledgement. */
  options.agent.reply_text = "You have **two** meetings: standup at 9 and lunch with Ana at 12.";
  auto s = start_simulator(options);
  ASSERT_TRUE(s);
  Pipeline p(caller() + voice(*s) + hold(8) + " rt.tools ! " + relay(*s));
  Timeline timeline;
  timeline.attach(p.get());
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] { return count_containing(system_items(*s), "two meetings") == 1 &&
      p.element_messages(CLAWVOICE_MESSAGE_TURN).size() >= 6; }, 20000)) << p.first_error();
  /* Let the response to the answer play out. */
  ASSERT_TRUE(p.run_until([&] {
    int done = 0;
    for (const GstStructure *t : p.element_messages(CLAWVOICE_MESSAGE_TURN))
      done += std::string(gst_structure_get_string(t, "event")) == "response-done";
    return done >= 3;   /* the tool call, the acknowledgement, the answer */
  }, 20000));

  /* The model called the tool; the relay acknowledged at once. */
  auto calls = p.element_messages(CLAWVOICE_MESSAGE_TOOL_CALL);
  ASSERT_EQ(calls.size(), 1u);
  auto results = p.element_messages(CLAWVOICE_MESSAGE_TOOL_RESULT);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(std::string(gst_structure_get_string(results[0], "output")).find("working"), std::string::npos);

  /* The agent got the question in the caller's session, as a voice turn. */
  auto requests = s->agent_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].status, 200u);
  EXPECT_EQ(requests[0].question, "What is on my calendar tomorrow?");
  EXPECT_EQ(requests[0].session_key, "agent:main:voice:dm:+15551234567");
  EXPECT_EQ(requests[0].message_channel, "voice");

  /* The answer reached the voice model as a system message, cleaned for speech. */
  auto items = system_items(*s);
  ASSERT_EQ(count_containing(items, "two meetings"), 1);
  for (const auto &i : items) {
    if (i.find("two meetings") != std::string::npos) {
      EXPECT_NE(i.find("You have two meetings: standup at 9 and lunch with Ana at 12."), std::string::npos) << i;
    }
  }
  EXPECT_EQ(task_statuses(p), (std::vector<std::string>{"pending", "running", "done"}));

  /* Never on top of a reply: the answer arrived while the acknowledgement was being spoken, and the
   * response that speaks it started only after that reply was done. */
  std::vector<gint64> answered = timeline.times(std::string(CLAWVOICE_MESSAGE_TASK) + ":done");
  std::vector<gint64> done_at = timeline.times(std::string(CLAWVOICE_MESSAGE_TURN) + ":response-done");
  std::vector<gint64> started_at = timeline.times(std::string(CLAWVOICE_MESSAGE_TURN) + ":response-started");
  ASSERT_EQ(answered.size(), 1u);
  ASSERT_GE(done_at.size(), 3u);
  ASSERT_GE(started_at.size(), 3u);
  EXPECT_LT(answered[0], done_at[1]) << "the answer came in during the acknowledgement";
  EXPECT_GT(started_at[2], done_at[1]) << "and was spoken after it";
  /* And it was spoken: the third reply has audio and a transcript. */
  int assistant_finals = 0;
  for (const GstStructure *t : p.element_messages(CLAWVOICE_MESSAGE_TRANSCRIPT)) {
    gboolean final = FALSE;
    gst_structure_get_boolean(t, "final", &final);
    assistant_finals += final && std::string(gst_structure_get_string(t, "role")) == "assistant";
  }
  EXPECT_GE(assistant_finals, 2);
  for (const auto &e : s->received_events())
    EXPECT_TRUE(e.valid) << e.json.substr(0, 300);
}

TEST_F(RelayPipeline, TwoTasksAtOnceAnsweredInTheOrderTheyFinish)
{
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw", R"({"message":"slow question"})"};
  };
  auto outputs = std::make_shared<std::atomic<int>>(0);
  /* The model asks a second question as soon as the first is acknowledged. */
  options.on_tool_output = [outputs](const std::string &, const std::string &) {
    if (outputs->fetch_add(1) == 0)
      return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw", R"({"message":"quick question"})"};
    return sim::Reply{sim::Reply::Kind::Speak, "Working on both.", "", ""};
  };
  options.agent.on_request = [](const sim::AgentRequest &r) {
    sim::AgentReply reply;
    reply.text = r.question == "slow question" ? "Slow answer." : "Quick answer.";
    reply.first_chunk_delay_ms = r.question == "slow question" ? 2500 : 200;
    return reply;
  };
  auto s = start_simulator(options);
  ASSERT_TRUE(s);
  Pipeline p(caller() + voice(*s) + hold(10) + " rt.tools ! " + relay(*s, "progress-delay=0"));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] { return count_containing(system_items(*s), "Slow answer.") == 1; }, 25000))
      << p.first_error();
  auto requests = s->agent_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_LT(requests[1].received_us, requests[0].last_chunk_us) << "both ran at once";
  auto items = system_items(*s);
  size_t quick = 0, slow = 0;
  for (size_t i = 0; i < items.size(); i++) {
    if (items[i].find("Quick answer.") != std::string::npos)
      quick = i + 1;
    if (items[i].find("Slow answer.") != std::string::npos)
      slow = i + 1;
  }
  EXPECT_TRUE(quick && slow && quick < slow) << "the quick answer first";
  int done = 0;
  for (const auto &st : task_statuses(p))
    done += st == "done";
  EXPECT_EQ(done, 2);
  g_autofree gchar *tasks = nullptr;
  g_object_get(p.by_name("relay"), "tasks", &tasks, nullptr);
  EXPECT_NE(std::string(tasks).find("\"question\":\"quick question\""), std::string::npos) << tasks;
}

TEST_F(RelayPipeline, HangingUpCancelsTheRequestAndRecordsTheCall)
{
  TempDir memory;
  memory.write("MEMORY.md", "The caller, Sam, prefers to be called by first name.\n");
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw", R"({"message":"research flights to Oslo"})"};
  };
  options.agent.first_chunk_delay_ms = 30000;
  auto s = start_simulator(options);
  ASSERT_TRUE(s);
  Pipeline p(caller() + voice(*s) + hold(20) + " rt.tools ! " + relay(*s, "memory-dir=" + memory.path()));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] {
    auto st = task_statuses(p);
    return std::find(st.begin(), st.end(), "running") != st.end();
  }, 20000)) << p.first_error();
  /* The memory context reached the voice model when the call started. */
  EXPECT_EQ(count_containing(system_items(*s), "prefers to be called by first name"), 1);

  ASSERT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);   /* hang up */
  EXPECT_TRUE(wait_for([&] {
    auto r = s->agent_requests();
    return r.size() == 1 && r[0].client_closed;
  }, 3000)) << "the gateway saw the request go away";
  g_autofree gchar *tasks = nullptr;
  g_object_get(p.by_name("relay"), "tasks", &tasks, nullptr);
  EXPECT_NE(std::string(tasks).find("\"status\":\"cancelled\""), std::string::npos) << tasks;
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree gchar *day = g_date_time_format(now, "memory/%Y-%m-%d.md");
  std::string note = memory.read(day);
  EXPECT_NE(note.find("- Caller asked: \"research flights to Oslo\"\n  Not answered (cancelled)"), std::string::npos)
      << note;
  EXPECT_NE(note.find("Call call-9"), std::string::npos) << note;
}

TEST_F(RelayPipeline, ChainedExecutorsRouteByToolName)
{
  CalendarServer cal;
  sim::Options options;
  options.api_key = kKey;
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::CallTool, "", "find_slots", R"({"date":"2026-11-24"})"};
  };
  auto outputs = std::make_shared<std::atomic<int>>(0);
  options.on_tool_output = [outputs](const std::string &, const std::string &) {
    if (outputs->fetch_add(1) == 0)
      return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw", R"({"message":"who is Ana?"})"};
    return sim::Reply{sim::Reply::Kind::Speak, "Let me check.", "", ""};
  };
  options.agent.reply_text = "Ana is your sister.";
  auto s = start_simulator(options);
  ASSERT_TRUE(s);
  std::string tools = "[{\\\"name\\\":\\\"find_slots\\\",\\\"description\\\":\\\"Free slots\\\",\\\"url\\\":\\\"" +
      cal.url() + "/calendar/find-slots\\\"}]";
  Pipeline p(caller() + voice(*s) + hold(8) + " rt.tools ! " + relay(*s) + " ! httptools name=http tools=\"" +
      tools + "\"");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] { return count_containing(system_items(*s), "Ana is your sister.") == 1; }, 20000))
      << p.first_error();
  std::string session = s->current_session_json();
  EXPECT_NE(session.find("\"find_slots\""), std::string::npos) << "both executors advertised";
  EXPECT_NE(session.find("\"send_to_openclaw\""), std::string::npos);
  ASSERT_EQ(cal.requests().size(), 1u) << "find_slots went past the relay to httptools";
  EXPECT_EQ(cal.requests()[0].body, R"({"date":"2026-11-24"})");
  ASSERT_EQ(s->agent_requests().size(), 1u) << "send_to_openclaw stayed with the relay";
  auto results = p.element_messages(CLAWVOICE_MESSAGE_TOOL_RESULT);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_NE(std::string(gst_structure_get_string(results[0], "output")).find("\"slots\""), std::string::npos);
  EXPECT_NE(std::string(gst_structure_get_string(results[1], "output")).find("working"), std::string::npos);
}

TEST_F(RelayPipeline, TheWholeTranscriptGoesToTheDailyFileAtTheEnd)
{
  TempDir memory;
  sim::Options options;
  options.api_key = kKey;
  options.transcribe = [](const sim::UserTurn &) { return std::string("What is on my calendar tomorrow?"); };
  options.on_user_turn = [](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::CallTool, "", "send_to_openclaw",
        R"({"message":"What is on my calendar tomorrow?"})"};
  };
  options.agent.token = kToken;
  options.agent.reply_text = "You have two meetings: standup at 9 and lunch with Ana at 12.";
  auto s = start_simulator(options);
  ASSERT_TRUE(s);
  /* The caller asks, listens to the acknowledgement and the answer, and hangs up (end of stream). */
  Pipeline p(caller() + "realtimesink name=rt url=" + s->url() + " api-key=" + kKey +
      " transcription-model=gpt-4o-mini-transcribe ! fakesink sync=false " + hold(8) + " rt.tools ! " +
      relay(*s, "memory-dir=" + memory.path()));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree gchar *day = g_date_time_format(now, "memory/%Y-%m-%d.md");
  ASSERT_TRUE(p.run_until([&] { return memory.exists(day); }, 30000)) << p.first_error();

  std::string note = memory.read(day);
  /* The summary, the request and the agent's answer, then every turn as it was transcribed. */
  EXPECT_NE(note.find("the caller began with \"What is on my calendar tomorrow?\""), std::string::npos) << note;
  EXPECT_NE(note.find("1 request to the agent, 1 answered."), std::string::npos) << note;
  size_t transcript = note.find("\nTranscript:\n");
  ASSERT_NE(transcript, std::string::npos) << note;
  size_t asked = note.find("- Caller: What is on my calendar tomorrow?", transcript);
  EXPECT_NE(asked, std::string::npos) << note;
  /* What the voice said, in order: the acknowledgement, then the answer it was given. */
  std::vector<std::string> spoken;
  for (const GstStructure *t : p.element_messages(CLAWVOICE_MESSAGE_TRANSCRIPT)) {
    gboolean final = FALSE;
    gst_structure_get_boolean(t, "final", &final);
    if (final && std::string(gst_structure_get_string(t, "role")) == "assistant")
      spoken.push_back(gst_structure_get_string(t, "text"));
  }
  ASSERT_GE(spoken.size(), 2u);
  size_t at = asked;
  for (const std::string &line : spoken) {
    size_t found = note.find("- Voice: " + line, transcript);
    ASSERT_NE(found, std::string::npos) << line << "\n" << note;
    EXPECT_GT(found, at) << "in the order it was said";
    at = found;
  }
  EXPECT_NE(note.find("two meetings", transcript), std::string::npos) << "the answer was spoken: " << note;
}
