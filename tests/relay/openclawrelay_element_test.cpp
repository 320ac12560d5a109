/* openclawrelay in a GstHarness against the simulator's fake OpenClaw gateway on 127.0.0.1: what
 * realtimesink would receive (tool results, injects) for each thing the agent does. */
#include <gtest/gtest.h>

#include "clawvoice-contract.h"
#include "common/json.h"
#include "openclawrelay/openclawrelay-messages.h"
#include "relay_harness.h"
#include "relay_test_support.h"
#include "test_support.h"

using namespace clawvoice;
using namespace clawvoice::test;
using sim::AgentFault;
using sim::AgentReply;
using sim::AgentRequest;

namespace {

const char *kToken = "gw-token-123";

std::string header(const sim::AgentRequestRecord &r, const std::string &name)
{
  for (const auto &[k, v] : r.headers)
    if (g_ascii_strcasecmp(k.c_str(), name.c_str()) == 0)
      return v;
  return "";
}

std::map<std::string, std::string> relay_props(const sim::RealtimeSimulator &s,
    std::map<std::string, std::string> extra = {})
{
  std::map<std::string, std::string> p = {{"url", s.gateway_url()}, {"token", kToken},
      {"caller", "+15551234567"}, {"call-id", "call-1"}};
  for (auto &[k, v] : extra)
    p[k] = v;
  return p;
}

std::vector<std::string> statuses(ExecutorHarness &h, guint task_id = 0)
{
  std::vector<std::string> out;
  for (GstStructure *s : h.messages(CLAWVOICE_MESSAGE_TASK)) {
    guint id = 0;
    gst_structure_get_uint(s, "task-id", &id);
    if (task_id == 0 || id == task_id)
      out.push_back(gst_structure_get_string(s, "status"));
  }
  return out;
}

bool has_status(ExecutorHarness &h, const std::string &status, guint task_id = 0)
{
  for (const auto &s : statuses(h, task_id))
    if (s == status)
      return true;
  return false;
}

class OpenClawRelayElement : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
  std::unique_ptr<sim::RealtimeSimulator> start(sim::AgentOptions agent)
  {
    sim::Options options;
    options.agent = std::move(agent);
    return start_simulator(options);
  }
};

}  // namespace

TEST_F(OpenClawRelayElement, AdvertisesItsToolAndMasksItsToken)
{
  auto s = start({});
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s, {{"tool-name", "ask_openclaw"}}));
  json::NodePtr tools = json::parse(h.query_tools());
  ASSERT_TRUE(tools && JSON_NODE_HOLDS_ARRAY(tools.get()));
  JsonArray *array = json_node_get_array(tools.get());
  ASSERT_EQ(json_array_get_length(array), 1u);
  JsonObject *tool = json_array_get_object_element(array, 0);
  EXPECT_EQ(json::get_string(tool, "name"), "ask_openclaw");
  EXPECT_NE(json::get_string(tool, "description").find("Send a task or question to OpenClaw"), std::string::npos);
  JsonObject *params = json::get_object(tool, "parameters");
  EXPECT_EQ(json::get_string(json::get_object(json::get_object(params, "properties"), "message"), "type"), "string");
  EXPECT_EQ(json::to_string(json_object_get_member(params, "required")), "[\"message\"]");

  g_autofree gchar *token = nullptr;
  g_object_get(h.element(), "token", &token, nullptr);
  EXPECT_STREQ(token, "********");
}

TEST_F(OpenClawRelayElement, AcknowledgesAtOnceThenHandsTheCleanedAnswerToTheVoice)
{
  sim::AgentOptions agent;
  agent.token = kToken;
  agent.on_request = [](const AgentRequest &) {
    AgentReply r;
    r.text = "## Tomorrow\n- **Sunny**, 22 degrees\n- Details: https://www.weather.example/paris?d=1";
    r.first_chunk_delay_ms = 150;
    r.chunk_interval_ms = 10;
    return r;
  };
  auto s = start(agent);
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s));

  h.push_call("call_A", "send_to_openclaw", R"({"message":"What's the weather in Paris tomorrow?"})");
  /* The acknowledgement is the tool result, sent before chain() returned: no waiting on the agent. */
  ASSERT_GE(h.events().size(), 1u);
  const UpstreamEvent &ack = h.events()[0];
  EXPECT_EQ(ack.name, CLAWVOICE_EVENT_TOOL_RESULT);
  EXPECT_EQ(ack.call_id, "call_A");
  EXPECT_TRUE(ack.respond);
  EXPECT_NE(ack.output.find("\"status\":\"working\""), std::string::npos) << ack.output;

  ASSERT_GE(h.wait_events(2, 5000).size(), 2u);
  const UpstreamEvent &answer = h.events()[1];
  EXPECT_EQ(answer.name, CLAWVOICE_EVENT_INJECT);
  EXPECT_EQ(answer.role, "system");
  EXPECT_FALSE(answer.urgent) << "waits for the turn and any reply in progress";
  EXPECT_NE(answer.text.find("\"What's the weather in Paris tomorrow?\""), std::string::npos) << answer.text;
  EXPECT_NE(answer.text.find("Tomorrow. Sunny, 22 degrees. Details: a link on weather.example"), std::string::npos)
      << answer.text;
  EXPECT_EQ(answer.text.find("**"), std::string::npos);
  EXPECT_EQ(answer.text.find("https://"), std::string::npos);

  /* The gateway saw one streamed request with the agent, the pinned session and the voice channel. */
  auto requests = s->agent_requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto &r = requests[0];
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.path, "/v1/chat/completions");
  EXPECT_EQ(r.agent_id, "main");
  EXPECT_EQ(header(r, "x-openclaw-agent-id"), "main");
  EXPECT_EQ(r.session_key, "agent:main:voice:dm:+15551234567");
  EXPECT_EQ(header(r, "x-openclaw-session-key"), "agent:main:voice:dm:+15551234567");
  EXPECT_EQ(r.message_channel, "voice");
  EXPECT_EQ(r.question, "What's the weather in Paris tomorrow?");
  EXPECT_NE(header(r, "Authorization").find("Bearer"), std::string::npos);
  EXPECT_EQ(header(r, "Authorization").find(kToken), std::string::npos) << "the record masks it";
  json::ObjectPtr body = json::parse_object(r.body);
  JsonArray *messages = json::get_array(body.get(), "messages");
  ASSERT_TRUE(messages);
  ASSERT_EQ(json_array_get_length(messages), 2u);
  JsonObject *system = json_array_get_object_element(messages, 0);
  EXPECT_EQ(json::get_string(system, "role"), "system");
  EXPECT_NE(json::get_string(system, "content").find("voice call"), std::string::npos);
  EXPECT_NE(json::get_string(system, "content").find("no markdown"), std::string::npos);

  /* Every status change on the bus, and the tasks property. */
  ASSERT_TRUE(wait_for([&] { return has_status(h, "done"); }, 2000));
  EXPECT_EQ(statuses(h), (std::vector<std::string>{"pending", "running", "done"}));
  GstStructure *done = h.messages(CLAWVOICE_MESSAGE_TASK).back();
  EXPECT_STREQ(gst_structure_get_string(done, "call-id"), "call_A");
  EXPECT_STREQ(gst_structure_get_string(done, "question"), "What's the weather in Paris tomorrow?");
  EXPECT_NE(std::string(gst_structure_get_string(done, "answer")).find("Sunny, 22 degrees"), std::string::npos);
  gint64 elapsed = 0;
  gst_structure_get_int64(done, "elapsed-ms", &elapsed);
  EXPECT_GE(elapsed, 150);
  g_autofree gchar *tasks = nullptr;
  g_object_get(h.element(), "tasks", &tasks, nullptr);
  json::NodePtr list = json::parse(tasks);
  ASSERT_TRUE(list && JSON_NODE_HOLDS_ARRAY(list.get()));
  JsonObject *t = json_array_get_object_element(json_node_get_array(list.get()), 0);
  EXPECT_EQ(json::get_string(t, "status"), "done");
  EXPECT_EQ(json::get_int(t, "id"), 1);
  EXPECT_GE(json::get_int(t, "elapsed-ms"), 150);
}

TEST_F(OpenClawRelayElement, UrgentAnswersSaySo)
{
  auto s = start({});
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s, {{"urgent", "true"}}));
  h.push_call("c1", "send_to_openclaw", R"({"message":"ping"})");
  ASSERT_GE(h.wait_events(2).size(), 2u);
  EXPECT_TRUE(h.events()[1].urgent);
  EXPECT_NE(h.events()[1].text.find("You asked: ping"), std::string::npos) << h.events()[1].text;
}

TEST_F(OpenClawRelayElement, SessionModesPinTheRightSession)
{
  struct Case {
    std::map<std::string, std::string> props;
    std::string key;
  };
  std::vector<Case> cases = {
      {{{"session-mode", "main"}}, "agent:main:main"},
      {{{"session-mode", "main"}, {"main-session-key", "agent:main:work"}}, "agent:main:work"},
      {{{"session-mode", "caller"}, {"agent-id", "ops"}}, "agent:ops:voice:dm:+15551234567"},
      {{{"session-mode", "call"}}, "agent:main:voice:call:call-1"},
      {{{"session-mode", "caller"}, {"caller", ""}}, "agent:main:voice:call:call-1"},
      {{{"session-key", "agent:main:custom"}}, "agent:main:custom"},
  };
  sim::AgentOptions agent;
  agent.agents = {"main", "ops"};
  auto s = start(agent);
  ASSERT_TRUE(s);
  for (size_t i = 0; i < cases.size(); i++) {
    ExecutorHarness h("openclawrelay", relay_props(*s, cases[i].props));
    h.push_call("c" + std::to_string(i), "send_to_openclaw", R"({"message":"hello"})");
    ASSERT_GE(h.wait_events(2).size(), 2u) << i;
    auto requests = s->agent_requests();
    ASSERT_EQ(requests.size(), i + 1);
    EXPECT_EQ(requests.back().session_key, cases[i].key) << i;
  }
}

TEST_F(OpenClawRelayElement, ReservedSessionKeyIsRefusedAtStart)
{
  auto s = start({});
  ASSERT_TRUE(s);
  GstElement *relay = gst_element_factory_make("openclawrelay", nullptr);
  gst_object_ref_sink(relay);
  for (const auto &[k, v] : relay_props(*s, {{"session-key", "cron:nightly"}}))
    gst_util_set_object_arg(G_OBJECT(relay), k.c_str(), v.c_str());
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(relay, bus);
  EXPECT_EQ(gst_element_set_state(relay, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ASSERT_TRUE(m);
  GError *error = nullptr;
  gst_message_parse_error(m, &error, nullptr);
  EXPECT_NE(std::string(error->message).find("session key is refused"), std::string::npos) << error->message;
  g_clear_error(&error);
  gst_message_unref(m);
  gst_element_set_state(relay, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(relay);
}

TEST_F(OpenClawRelayElement, SlowAgentGetsOneProgressCueThenTheAnswer)
{
  sim::AgentOptions agent;
  agent.reply_text = "The report is sent.";
  agent.first_chunk_delay_ms = 900;
  auto s = start(agent);
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s, {{"progress-delay", "300"}, {"progress-text", "Hang on."}}));
  h.push_call("c1", "send_to_openclaw", R"({"message":"send the report"})");
  ASSERT_GE(h.wait_events(3, 5000).size(), 3u);
  const auto &e = h.events();
  EXPECT_EQ(e[1].name, CLAWVOICE_EVENT_INJECT);
  EXPECT_NE(e[1].text.find("still working"), std::string::npos) << e[1].text;
  EXPECT_NE(e[1].text.find("\"Hang on.\""), std::string::npos);
  EXPECT_FALSE(e[1].urgent);
  EXPECT_GE(e[1].at_us - e[0].at_us, 250000);
  EXPECT_NE(e[2].text.find("The report is sent."), std::string::npos) << e[2].text;
  g_usleep(300000);
  EXPECT_EQ(h.events().size(), 3u) << "one cue per task";
}

TEST_F(OpenClawRelayElement, TimeoutCancelsTheRequestAndApologises)
{
  sim::AgentOptions agent;
  agent.on_request = [](const AgentRequest &) {
    AgentReply r;
    r.fault.kind = AgentFault::Kind::Hang;
    return r;
  };
  auto s = start(agent);
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s, {{"timeout", "600"}, {"progress-delay", "0"},
      {"timeout-text", "Sorry, that took too long."}}));
  h.push_call("c1", "send_to_openclaw", R"({"message":"book a flight"})");
  ASSERT_GE(h.wait_events(2, 5000).size(), 2u);
  EXPECT_NE(h.events()[1].text.find("\"Sorry, that took too long.\""), std::string::npos) << h.events()[1].text;
  EXPECT_NE(h.events()[1].text.find("\"book a flight\""), std::string::npos);
  EXPECT_GE(h.events()[1].at_us - h.events()[0].at_us, 550000);
  ASSERT_TRUE(wait_for([&] { return has_status(h, "timeout"); }, 1000));
  /* The gateway saw the request go away. */
  EXPECT_TRUE(wait_for([&] {
    auto r = s->agent_requests();
    return r.size() == 1 && r[0].client_closed;
  }, 3000));
}

/* Each gateway failure: an honest sentence for the caller, a warning, status failed. */
struct FailureCase {
  const char *name;
  std::function<void(sim::AgentOptions &)> setup;
  const char *token;      /* the relay's */
  const char *spoken;     /* expected in the inject */
  const char *warning;    /* expected in the warning */
};

class GatewayFailures : public OpenClawRelayElement, public ::testing::WithParamInterface<FailureCase> {};

TEST_P(GatewayFailures, BecomeASpokenHonestFailure)
{
  const FailureCase &c = GetParam();
  sim::AgentOptions agent;
  agent.token = kToken;
  if (c.setup)
    c.setup(agent);
  auto s = start(agent);
  ASSERT_TRUE(s);
  auto props = relay_props(*s, {{"token", c.token}});
  if (std::string(c.name) == "refused") {
    /* A port nothing listens on: bind one, learn it, close it. */
    GSocket *sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *any = g_inet_socket_address_new(lo, 0);
    g_socket_bind(sock, any, FALSE, nullptr);
    GSocketAddress *bound = g_socket_get_local_address(sock, nullptr);
    guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_object_unref(any);
    g_object_unref(lo);
    g_socket_close(sock, nullptr);
    g_object_unref(sock);
    props["url"] = "http://127.0.0.1:" + std::to_string(port);
  }
  ExecutorHarness h("openclawrelay", props);
  h.push_call("c1", "send_to_openclaw", R"({"message":"check my inbox"})");
  ASSERT_GE(h.wait_events(2, 8000).size(), 2u);
  const UpstreamEvent &e = h.events()[1];
  EXPECT_EQ(e.name, CLAWVOICE_EVENT_INJECT);
  EXPECT_NE(e.text.find(c.spoken), std::string::npos) << e.name << ": " << e.text << e.output;
  EXPECT_NE(e.text.find("could not be answered"), std::string::npos);
  ASSERT_TRUE(wait_for([&] { return has_status(h, "failed"); }, 1000));
  bool warned = false;
  for (const auto &w : h.warnings())
    warned |= w.find(c.warning) != std::string::npos;
  EXPECT_TRUE(warned) << c.warning;
  for (const auto &w : h.warnings())
    EXPECT_EQ(w.find(c.token), std::string::npos) << "never the token";
  EXPECT_EQ(h.events().size(), 2u) << "one failure, nothing after";
}

INSTANTIATE_TEST_SUITE_P(OpenClawRelayElement, GatewayFailures, ::testing::Values(
    FailureCase{"unauthorized", nullptr, "wrong-token", "it refused the credentials", "refused the token"},
    FailureCase{"rate_limited", [](sim::AgentOptions &a) {
      a.on_request = [](const AgentRequest &) {
        AgentReply r;
        r.fault.kind = AgentFault::Kind::HttpStatus;
        r.fault.status = 429;
        r.fault.retry_after_s = 7;
        return r;
      };
    }, kToken, "try again in 7 seconds", "HTTP 429, retry-after 7"},
    FailureCase{"server_error", [](sim::AgentOptions &a) {
      a.on_request = [](const AgentRequest &) {
        AgentReply r;
        r.fault.kind = AgentFault::Kind::HttpStatus;
        r.fault.status = 500;
        return r;
      };
    }, kToken, "internal error", "HTTP 500"},
    FailureCase{"garbage_stream", [](sim::AgentOptions &a) {
      a.on_request = [](const AgentRequest &) {
        AgentReply r;
        r.text = "A long answer that will be cut by garbage.";
        r.chunk_chars = 8;
        r.fault.kind = AgentFault::Kind::GarbageStream;
        r.fault.after_chunks = 2;
        return r;
      };
    }, kToken, "came back garbled", "could not answer"},
    FailureCase{"dropped_stream", [](sim::AgentOptions &a) {
      a.on_request = [](const AgentRequest &) {
        AgentReply r;
        r.text = "A long answer that will be cut short.";
        r.chunk_chars = 8;
        r.fault.kind = AgentFault::Kind::DropMidStream;
        r.fault.after_chunks = 2;
        return r;
      };
    }, kToken, "came back garbled", "could not answer"},
    FailureCase{"refused", nullptr, kToken, "not running or not reachable", "could not answer"}),
    [](const ::testing::TestParamInfo<FailureCase> &info) { return std::string(info.param.name); });

TEST_F(OpenClawRelayElement, MaxTasksRefusesHonestly)
{
  sim::AgentOptions agent;
  agent.first_chunk_delay_ms = 1500;
  auto s = start(agent);
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s, {{"max-tasks", "1"}, {"progress-delay", "0"}}));
  h.push_call("c1", "send_to_openclaw", R"({"message":"first"})");
  h.push_call("c2", "send_to_openclaw", R"({"message":"second"})");
  ASSERT_GE(h.wait_events(2).size(), 2u);
  EXPECT_EQ(h.events()[1].call_id, "c2");
  EXPECT_NE(h.events()[1].output.find("\"status\":\"busy\""), std::string::npos) << h.events()[1].output;
  EXPECT_NE(h.events()[1].output.find("Already working on 1 requests"), std::string::npos);
  ASSERT_GE(h.wait_events(3, 5000).size(), 3u);
  EXPECT_NE(h.events()[2].text.find("\"first\""), std::string::npos);
  EXPECT_EQ(s->agent_requests().size(), 1u) << "the refused one never reached the agent";
}

TEST_F(OpenClawRelayElement, EmptyQuestionIsAnsweredAtOnce)
{
  auto s = start({});
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s));
  h.push_call("c1", "send_to_openclaw", R"({"message":"   "})");
  h.push_call("c2", "send_to_openclaw", "not json");
  ASSERT_GE(h.wait_events(2).size(), 2u);
  for (const auto &e : h.events())
    EXPECT_NE(e.output.find("\"status\":\"error\""), std::string::npos) << e.output;
  g_usleep(200000);
  EXPECT_TRUE(s->agent_requests().empty());
}

TEST_F(OpenClawRelayElement, OtherToolsPassThrough)
{
  auto s = start({});
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s));
  h.push_call("c1", "find_slots", R"({"date":"2026-11-23"})");
  GstBuffer *passed = gst_harness_try_pull(h.harness());
  ASSERT_TRUE(passed);
  GstMapInfo map;
  gst_buffer_map(passed, &map, GST_MAP_READ);
  std::string payload(reinterpret_cast<const char *>(map.data), map.size);
  gst_buffer_unmap(passed, &map);
  gst_buffer_unref(passed);
  EXPECT_NE(payload.find("\"find_slots\""), std::string::npos);
  EXPECT_TRUE(h.events().empty());
}

TEST_F(OpenClawRelayElement, EndOfStreamCancelsRunningTasks)
{
  sim::AgentOptions agent;
  agent.first_chunk_delay_ms = 5000;
  auto s = start(agent);
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s));
  h.push_call("c1", "send_to_openclaw", R"({"message":"long job"})");
  ASSERT_TRUE(wait_for([&] { return has_status(h, "running"); }, 3000));
  ASSERT_TRUE(wait_for([&] { return s->agent_requests().size() == 1; }, 3000));
  h.push_eos();
  ASSERT_TRUE(wait_for([&] { return has_status(h, "cancelled"); }, 3000));
  EXPECT_TRUE(wait_for([&] {
    auto r = s->agent_requests();
    return r.size() == 1 && r[0].client_closed;
  }, 3000)) << "the gateway sees the request go away";
  g_usleep(100000);
  EXPECT_EQ(h.events().size(), 1u) << "only the acknowledgement: nothing is said after a hang-up";
}

TEST_F(OpenClawRelayElement, MemoryContextAtStartWithinBudget)
{
  TempDir dir;
  std::string durable = "Sam prefers short answers and lives in Lyon.";
  dir.write("MEMORY.md", durable + "\n");
  std::string recent = "Booked the dentist for Friday.";
  std::string filler;
  while (filler.size() < 2000)
    filler += "Old notes about nothing in particular. ";
  dir.write("memory/2026-11-19.md", filler + "\n");
  dir.write("memory/2026-11-20.md", recent + "\n");
  auto s = start({});
  ASSERT_TRUE(s);
  ExecutorHarness h("openclawrelay", relay_props(*s, {{"memory-dir", dir.path()}, {"memory-budget", "100"}}));
  const UpstreamEvent *memory = h.find(CLAWVOICE_EVENT_INJECT, "Background from your agent's memory");
  ASSERT_TRUE(memory);
  EXPECT_EQ(memory->role, "system");
  EXPECT_FALSE(memory->respond) << "context only";
  EXPECT_NE(memory->text.find(durable), std::string::npos);
  EXPECT_NE(memory->text.find(recent), std::string::npos);
  EXPECT_EQ(memory->text.find("Old notes"), std::string::npos) << "over budget";
  std::string body = memory->text.substr(memory->text.find("\n\n") + 2);
  EXPECT_LE(body.size(), 100u * 4) << body;
}

TEST_F(OpenClawRelayElement, CallRecordAppendedAndHandedToTheAgent)
{
  TempDir dir;
  sim::AgentOptions agent;
  agent.hooks_token = "hooks-secret";
  agent.reply_text = "Your next meeting is at **3 pm**.";
  auto s = start(agent);
  ASSERT_TRUE(s);
  {
    ExecutorHarness h("openclawrelay", relay_props(*s, {{"memory-dir", dir.path()}, {"post-transcript", "true"},
        {"hooks-token", "hooks-secret"}}));
    h.push_call("c1", "send_to_openclaw", R"({"message":"when is my next meeting?"})");
    ASSERT_TRUE(wait_for([&] { return has_status(h, "done"); }, 5000));
    h.push_eos();   /* the caller hangs up: the record is written without waiting for the teardown */
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree gchar *day = g_date_time_format(now, "memory/%Y-%m-%d.md");
    ASSERT_TRUE(wait_for([&] { return dir.exists(day); }, 3000));
    std::string note = dir.read(day);
    EXPECT_NE(note.find("## Voice call at "), std::string::npos) << note;
    EXPECT_NE(note.find("from +15551234567"), std::string::npos);
    EXPECT_NE(note.find("- Caller asked: \"when is my next meeting?\""), std::string::npos) << note;
    EXPECT_NE(note.find("Agent answered: \"Your next meeting is at 3 pm.\""), std::string::npos) << note;
    EXPECT_NE(note.find("1 request to the agent, 1 answered"), std::string::npos) << note;
  }
  /* Written once: the teardown after the end of stream adds nothing. */
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree gchar *day = g_date_time_format(now, "memory/%Y-%m-%d.md");
  std::string note = dir.read(day);
  EXPECT_EQ(note.find("## Voice call"), note.rfind("## Voice call"));
  ASSERT_TRUE(wait_for([&] { return s->agent_hooks().size() == 1; }, 3000));
  auto hook = s->agent_hooks()[0];
  EXPECT_EQ(hook.status, 200u);
  EXPECT_EQ(hook.name, "Voice");
  EXPECT_EQ(hook.session_key, "agent:main:voice:dm:+15551234567");
  EXPECT_NE(hook.message.find("when is my next meeting?"), std::string::npos);
}
