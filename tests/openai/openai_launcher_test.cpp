/* The launcher's openai route end to end: the real clawvoice-launcher process, the Realtime simulator
 * in this process as OpenAI (it rings SIP calls with signed webhooks, takes the accept/reject/refer/
 * hangup requests, mints client secrets, carries the sideband) and as the OpenClaw gateway. */
#include <gtest/gtest.h>

#include "common/json.h"
#include "http_helpers.h"
#include "launcher_process.h"
#include "openai/webhook_signature.h"
#include "realtime_simulator.h"
#include "ws_client.h"

using namespace clawvoice;
using namespace clawvoice::openai::test;
using clawvoice::test::launcher::LauncherProcess;

namespace {

const char kSimKey[] = "sk-sim-openai-route-test";
const char kAgentToken[] = "agent-token-openai-route";
const char kControlToken[] = "control-token-0123456789";
const char kApiToken[] = "browser-api-token-0123456789";
const char kApiToken2[] = "browser-api-token-rotated-987";
const char kCompatToken[] = "compat-token-0123456789abcdef";

std::string g_secret;   /* whsec_…, fresh for the run */

class OpenAIRouteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite()
  {
    g_secret = openai::generate_webhook_secret();
    sim::Options options;
    options.api_key = kSimKey;
    options.agent.token = kAgentToken;
    options.agent.reply_text = "Your **dentist** is at 3 pm. See https://example.com/cal for details.";
    simulator_ = new sim::RealtimeSimulator(options);
    std::string error;
    ASSERT_TRUE(simulator_->start(&error)) << error;
    launcher_ = new LauncherProcess(std::string(R"({
      "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
      "realtime": { "backend": "openai", "url": ")" + simulator_->url() + R"(", "api_key": ")" + kSimKey + R"(" },
      "openclaw": { "backend": "gateway", "url": ")" + simulator_->gateway_url() + R"(", "token": ")" + kAgentToken + R"(" },
      "routes": { "openai": {
        "webhook_secret": ")" + g_secret + R"(",
        "allow_callers": ["+1555*", "alice"],
        "reject_status": 403,
        "instructions": "You are Ada's voice.",
        "voice": "cedar",
        "transcription_model": "gpt-4o-mini-transcribe",
        "tokens": [")" + kApiToken + R"(", ")" + kApiToken2 + R"("],
        "rate_limit_per_minute": 30
      },
      "openai_compat": { "tokens": [")" + kCompatToken + R"("], "session_key": "agent:main:main" } }
    })");
    ASSERT_TRUE(launcher_->started()) << launcher_->start_error();
  }

  static void TearDownTestSuite()
  {
    if (launcher_) {
      launcher_->stop();
      for (const std::string &line : launcher_->lines()) {
        EXPECT_EQ(line.find(kSimKey), std::string::npos) << "API key in the log: " << line;
        EXPECT_EQ(line.find(g_secret.substr(6)), std::string::npos) << "webhook secret in the log: " << line;
        EXPECT_EQ(line.find(kApiToken), std::string::npos) << "API token in the log: " << line;
        EXPECT_EQ(line.find(kCompatToken), std::string::npos) << "compat token in the log: " << line;
      }
    }
    delete launcher_;
    launcher_ = nullptr;
    delete simulator_;
    simulator_ = nullptr;
  }

  std::string ring(const std::string &from, const std::string &secret = g_secret, int64_t skew_s = 0)
  {
    sim::SipCallRequest request;
    request.webhook_url = launcher_->url("/openai/webhook");
    request.webhook_secret = secret;
    request.from = "\"Caller\" <sip:" + from + "@pstn.example.com>;tag=t1";
    request.timestamp_offset_s = skew_s;
    return simulator_->place_sip_call(request);
  }
  static sim::SimCallRecord record(const std::string &rtc)
  {
    sim::SimCallRecord r;
    simulator_->sip_call(rtc, &r);
    return r;
  }
  /* The launcher's call for an rtc id, from /calls (params.openai_call_id). */
  static std::string launcher_call(const std::string &rtc)
  {
    auto answer = launcher_->get("/calls", kControlToken);
    json::NodePtr node = json::parse(answer.body);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node.get()))
      return "";
    JsonArray *calls = json_object_get_array_member(json_node_get_object(node.get()), "calls");
    for (guint i = 0; calls && i < json_array_get_length(calls); i++) {
      JsonObject *call = json_array_get_object_element(calls, i);
      JsonObject *params = json::get_object(call, "params");
      if (params && json::get_string(params, "openai_call_id") == rtc)
        return json::get_string(call, "id");
    }
    return "";
  }

  static sim::RealtimeSimulator *simulator_;
  static LauncherProcess *launcher_;
};

sim::RealtimeSimulator *OpenAIRouteTest::simulator_ = nullptr;
LauncherProcess *OpenAIRouteTest::launcher_ = nullptr;

}  // namespace

TEST_F(OpenAIRouteTest, AllowedCallerIsAcceptedJoinedOverTheSidebandAndHungUp)
{
  std::string rtc = ring("+15551230001");
  ASSERT_TRUE(wait_until([&] { return record(rtc).sideband_connections >= 1; }, 10000))
      << "state " << record(rtc).state << ", webhook " << record(rtc).webhook_status << " " << record(rtc).webhook_error;
  sim::SimCallRecord r = record(rtc);
  EXPECT_EQ(r.webhook_status, 200u);
  EXPECT_EQ(r.state, "accepted");
  /* The session the call was accepted with is the route's (the simulator validated it against the schema). */
  EXPECT_NE(r.accept_body.find("You are Ada's voice."), std::string::npos) << r.accept_body;
  EXPECT_NE(r.accept_body.find("\"cedar\""), std::string::npos);
  EXPECT_NE(r.accept_body.find("send_to_openclaw"), std::string::npos);

  std::string call_id;
  ASSERT_TRUE(wait_until([&] { return !(call_id = launcher_call(rtc)).empty(); }, 5000));
  auto one = launcher_->get("/calls/" + call_id, kControlToken);
  EXPECT_NE(one.body.find("\"route\":\"openai\""), std::string::npos) << one.body;
  EXPECT_NE(one.body.find("+15551230001"), std::string::npos) << one.body;

  /* The launcher ends it: OpenAI is told to hang up. */
  EXPECT_EQ(launcher_->del("/calls/" + call_id, kControlToken).status, 202u);
  ASSERT_TRUE(wait_until([&] { return record(rtc).state == "ended"; }, 5000));
  EXPECT_EQ(record(rtc).ended_by, "api");
  auto metrics = launcher_->get("/metrics", kControlToken);
  EXPECT_NE(metrics.body.find("route=\"openai\""), std::string::npos);
}

/* The whole point of the sideband: the SIP caller asks, the model calls send_to_openclaw on the
 * call's session, our realtimesink (call-id mode, no audio) hands it to the openclawrelay, the
 * agent answers, and the answer goes back over the sideband and is spoken by OpenAI's voice. */
TEST_F(OpenAIRouteTest, CallersQuestionGoesOverTheSidebandToTheAgentAndTheAnswerIsSpoken)
{
  const gint64 began_us = g_get_monotonic_time();
  const std::string question = "What is on my calendar tomorrow?";
  std::string rtc = ring("+15551230010");
  ASSERT_TRUE(wait_until([&] { return record(rtc).sideband_connections >= 1; }, 10000)) << record(rtc).state;
  std::string call_id;
  ASSERT_TRUE(wait_until([&] { return !(call_id = launcher_call(rtc)).empty(); }, 5000));
  /* The sideband's session.update (tools, transcription) is applied before the caller speaks. */
  ASSERT_TRUE(wait_until([&] {
    for (const sim::ReceivedEvent &e : simulator_->received_events())
      if (e.type == "session.update" && e.valid && e.json.find("send_to_openclaw") != std::string::npos)
        return true;
    return false;
  }, 5000));
  const size_t asked_before = simulator_->agent_requests().size();
  const size_t errors_before = simulator_->errors_sent().size();

  ASSERT_EQ(simulator_->sip_caller_says(rtc, question), 1);

  /* The model's function call reached the relay, which asked the agent with the caller's words.
   * (Not necessarily the next request the gateway sees: the previous test's call may still be
   * writing its transcript to memory, late on a loaded machine.) */
  auto asked_with_question = [&](sim::AgentRequestRecord *found) {
    std::vector<sim::AgentRequestRecord> requests = simulator_->agent_requests();
    for (size_t i = asked_before; i < requests.size(); i++)
      if (requests[i].question.find(question) != std::string::npos) {
        *found = requests[i];
        return true;
      }
    return false;
  };
  sim::AgentRequestRecord asked;
  ASSERT_TRUE(wait_until([&] { return asked_with_question(&asked); }, 10000))
      << simulator_->agent_requests().size() - asked_before << " requests since the caller spoke, none with the question";

  /* The function call was answered on the sideband, for its own call_id. */
  ASSERT_TRUE(wait_until([&] {
    sim::SimCallRecord r = record(rtc);
    return r.function_calls.size() == 1 && r.function_calls[0].answered;
  }, 10000));
  sim::SimCallFunctionCall fn = record(rtc).function_calls[0];
  EXPECT_EQ(fn.name, "send_to_openclaw");
  EXPECT_NE(fn.arguments.find(question), std::string::npos) << fn.arguments;
  bool output_received = false;
  for (const sim::ReceivedEvent &e : simulator_->received_events())
    if (e.type == "conversation.item.create" && e.valid && e.json.find("function_call_output") != std::string::npos &&
        e.json.find("\"" + fn.call_id + "\"") != std::string::npos)
      output_received = true;
  EXPECT_TRUE(output_received) << "no valid function_call_output for " << fn.call_id;

  /* The agent's answer, cleaned for speech, is what OpenAI's voice said next. */
  auto answer_spoken = [&] {
    for (const std::string &said : record(rtc).assistant_said)
      if (said.find("Your dentist is at 3 pm.") != std::string::npos)
        return true;
    return false;
  };
  ASSERT_TRUE(wait_until(answer_spoken, 10000)) << [&] {
    std::string all;
    for (const std::string &said : record(rtc).assistant_said)
      all += "[" + said + "] ";
    return all;
  }();
  for (const std::string &said : record(rtc).assistant_said)
    EXPECT_EQ(said.find("**"), std::string::npos) << said;
  ASSERT_EQ(record(rtc).caller_said.size(), 1u);
  EXPECT_EQ(record(rtc).caller_said[0], question);
  auto errors = simulator_->errors_sent();
  for (size_t i = errors_before; i < errors.size(); i++)
    ADD_FAILURE() << "the simulator refused an event: " << errors[i].code << " " << errors[i].message;

  /* The launcher shows the task done. */
  std::string shown;
  EXPECT_TRUE(wait_until([&] {
    shown = launcher_->get("/calls/" + call_id, kControlToken).body;
    json::ObjectPtr call = json::parse_object(shown);
    JsonArray *tasks = call ? json::get_array(call.get(), "tasks") : nullptr;
    if (!tasks || json_array_get_length(tasks) != 1)
      return false;
    JsonObject *task = json_array_get_object_element(tasks, 0);
    return json::get_string(task, "status") == "done" &&
           json::get_string(task, "question").find(question) != std::string::npos;
  }, 5000)) << shown;

  /* The caller hangs up: the call ends cleanly, without a hangup request of ours. */
  ASSERT_TRUE(simulator_->sip_caller_hangs_up(rtc));
  ASSERT_TRUE(wait_until([&] { return launcher_call(rtc).empty(); }, 5000));
  EXPECT_NE(launcher_->get("/calls/" + call_id, kControlToken).body.find("ended at OpenAI"), std::string::npos);
  EXPECT_EQ(record(rtc).ended_by, "caller");
  EXPECT_LT(g_get_monotonic_time() - began_us, 20 * G_USEC_PER_SEC);
}

TEST_F(OpenAIRouteTest, CallerHangingUpEndsTheCall)
{
  std::string rtc = ring("alice");
  ASSERT_TRUE(wait_until([&] { return record(rtc).sideband_connections >= 1; }, 10000));
  std::string call_id;
  ASSERT_TRUE(wait_until([&] { return !(call_id = launcher_call(rtc)).empty(); }, 5000));
  ASSERT_TRUE(simulator_->sip_caller_hangs_up(rtc));
  ASSERT_TRUE(wait_until([&] { return launcher_call(rtc).empty(); }, 5000)) << "the call should be over";
  auto one = launcher_->get("/calls/" + call_id, kControlToken);
  EXPECT_NE(one.body.find("ended at OpenAI"), std::string::npos) << one.body;
  EXPECT_EQ(record(rtc).ended_by, "caller") << "no hangup request for a call OpenAI already ended";
}

TEST_F(OpenAIRouteTest, ReferFromTheControlApi)
{
  std::string rtc = ring("+15551230002");
  std::string call_id;
  ASSERT_TRUE(wait_until([&] { return !(call_id = launcher_call(rtc)).empty() && record(rtc).state == "accepted"; }, 10000));
  HttpReply unauthorised = http_request("POST", launcher_->url("/openai/calls/" + call_id + "/refer"),
                                        R"({"target_uri":"tel:+14155550123"})", bearer("nope"));
  EXPECT_EQ(unauthorised.status, 401u);
  HttpReply bad = http_request("POST", launcher_->url("/openai/calls/" + call_id + "/refer"),
                               R"({"target_uri":"mailto:x@y"})", bearer(kControlToken));
  EXPECT_EQ(bad.status, 400u);
  HttpReply referred = http_request("POST", launcher_->url("/openai/calls/" + call_id + "/refer"),
                                    R"({"target_uri":"tel:+14155550123"})", bearer(kControlToken));
  EXPECT_EQ(referred.status, 200u) << referred.body;
  ASSERT_EQ(record(rtc).refers.size(), 1u);
  EXPECT_EQ(record(rtc).refers[0], "tel:+14155550123");
  HttpReply hung = http_request("POST", launcher_->url("/openai/calls/" + rtc + "/hangup"), "", bearer(kControlToken));
  EXPECT_EQ(hung.status, 200u) << hung.body;
  EXPECT_EQ(record(rtc).state, "ended");
  ASSERT_TRUE(wait_until([&] { return launcher_call(rtc).empty(); }, 5000));
}

TEST_F(OpenAIRouteTest, CallerNotAllowedIsRejectedWithTheConfiguredStatus)
{
  std::string rtc = ring("+4930123456");
  ASSERT_TRUE(wait_until([&] { return record(rtc).state == "rejected"; }, 5000)) << record(rtc).state;
  EXPECT_EQ(record(rtc).reject_status, 403);
  EXPECT_EQ(record(rtc).webhook_status, 200u) << "the webhook is answered 200 either way";
  EXPECT_TRUE(launcher_call(rtc).empty());
}

TEST_F(OpenAIRouteTest, ForgedStaleOrUnsignedWebhooksAreRefusedAndChangeNothing)
{
  std::string forged = ring("+15551230003", openai::generate_webhook_secret());
  std::string stale = ring("+15551230004", g_secret, -301);
  std::string unsigned_call = ring("+15551230005", "");
  ASSERT_TRUE(wait_until([&] {
    return record(forged).webhook_status && record(stale).webhook_status && record(unsigned_call).webhook_status;
  }, 5000));
  EXPECT_EQ(record(forged).webhook_status, 401u);
  EXPECT_EQ(record(stale).webhook_status, 401u);
  EXPECT_EQ(record(unsigned_call).webhook_status, 400u);
  g_usleep(200 * 1000);
  for (const std::string &rtc : {forged, stale, unsigned_call})
    EXPECT_EQ(record(rtc).state, "incoming") << rtc;
  EXPECT_TRUE(launcher_->wait_for_event("openai.webhook_rejected", 1000, 3));
  HttpReply get = http_request("GET", launcher_->url("/openai/webhook"));
  EXPECT_EQ(get.status, 405u);
}

TEST_F(OpenAIRouteTest, TokenIsMintedWithTheRouteSessionAndNeverTheApiKey)
{
  HttpReply minted = http_request("POST", launcher_->url("/api/token"), "", bearer(kApiToken2));
  ASSERT_EQ(minted.status, 200u) << minted.body;
  json::ObjectPtr body = json::parse_object(minted.body);
  ASSERT_TRUE(body);
  std::string token = json::get_string(body.get(), "token");
  EXPECT_EQ(token.rfind("ek_", 0), 0u) << minted.body;
  EXPECT_GT(json::get_int(body.get(), "expires_at"), g_get_real_time() / G_USEC_PER_SEC);
  EXPECT_EQ(minted.body.find(kSimKey), std::string::npos);
  auto secrets = simulator_->client_secrets();
  ASSERT_FALSE(secrets.empty());
  EXPECT_EQ(secrets.back().value, token);
  EXPECT_NE(secrets.back().request_body.find("You are Ada's voice."), std::string::npos);
  EXPECT_NE(secrets.back().request_body.find("send_to_openclaw"), std::string::npos);

  EXPECT_EQ(http_request("POST", launcher_->url("/api/token"), "", bearer("wrong-token-0123456789")).status, 401u);
  EXPECT_EQ(http_request("POST", launcher_->url("/api/token")).status, 401u);
  EXPECT_EQ(http_request("GET", launcher_->url("/api/token"), "", bearer(kApiToken)).status, 405u);
}

TEST_F(OpenAIRouteTest, SendPollAndPushTheAgentsAnswer)
{
  sim::test::WsClient ws;
  sim::test::ConnectOptions options;
  options.api_key.clear();
  std::string ws_url = "ws://127.0.0.1:" + std::to_string(launcher_->port()) + "/ws?sessionId=s1&token=" + kApiToken;
  ASSERT_TRUE(ws.connect(ws_url, options));

  HttpReply sent = http_request("POST", launcher_->url("/api/send"),
                                R"({"message":"When is my dentist?","sessionId":"s1"})", bearer(kApiToken));
  ASSERT_EQ(sent.status, 200u) << sent.body;
  json::ObjectPtr body = json::parse_object(sent.body);
  std::string task = json::get_string(body.get(), "taskId");
  ASSERT_FALSE(task.empty());

  const sim::test::Event *pushed = ws.wait_for("result", 10000);
  ASSERT_TRUE(pushed);
  EXPECT_EQ(json::get_string(pushed->object.get(), "taskId"), task);
  std::string text = json::get_string(pushed->object.get(), "text");
  EXPECT_NE(text.find("Your dentist is at 3 pm."), std::string::npos) << text;
  EXPECT_EQ(text.find("**"), std::string::npos) << "cleaned for speech: " << text;
  EXPECT_EQ(text.find("https://"), std::string::npos) << text;

  HttpReply polled = http_request("GET", launcher_->url("/api/result/" + task), "", bearer(kApiToken));
  ASSERT_EQ(polled.status, 200u);
  json::ObjectPtr result = json::parse_object(polled.body);
  EXPECT_EQ(json::get_string(result.get(), "status"), "done");
  EXPECT_EQ(json::get_string(result.get(), "text"), text);

  /* The question went to the agent in the browser session's own OpenClaw session. */
  auto requests = simulator_->agent_requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().question, "When is my dentist?");
  EXPECT_EQ(requests.back().session_key, "agent:main:voice:direct:s1");

  EXPECT_EQ(http_request("GET", launcher_->url("/api/result/task_nope"), "", bearer(kApiToken)).status, 404u);
  EXPECT_EQ(http_request("POST", launcher_->url("/api/send"), R"({"sessionId":"s1"})", bearer(kApiToken)).status, 400u);
  EXPECT_EQ(http_request("POST", launcher_->url("/api/send"), "[1,2]", bearer(kApiToken)).status, 400u);

  sim::test::WsClient refused;
  ASSERT_TRUE(refused.connect("ws://127.0.0.1:" + std::to_string(launcher_->port()) + "/ws?token=wrong", options));
  EXPECT_TRUE(refused.wait_closed(3000));
  EXPECT_EQ(refused.close_code(), SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
}

TEST_F(OpenAIRouteTest, RateLimitedPerAddress)
{
  /* 30 a minute with a burst of 30: some of 40 quick polls must be refused, with Retry-After. */
  int refused = 0;
  std::string retry_after;
  for (int i = 0; i < 40; i++) {
    HttpReply r = http_request("GET", launcher_->url("/api/result/task_none"), "", bearer(kApiToken));
    if (r.status == 429) {
      refused++;
      retry_after = r.headers["retry-after"];
    }
  }
  EXPECT_GE(refused, 5);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(atoi(retry_after.c_str()), 1);
}

TEST_F(OpenAIRouteTest, CompatSendsOnlyTheLastUserTurnToTheConfiguredSession)
{
  const char *conversation = R"({"model":"openclaw","messages":[
    {"role":"system","content":"You are an ElevenLabs agent."},
    {"role":"user","content":"Hello"},
    {"role":"assistant","content":"Hi! How can I help?"},
    {"role":"user","content":[{"type":"text","text":"When is my dentist?"}]}]})";
  size_t before = simulator_->agent_requests().size();
  HttpReply reply = http_request("POST", launcher_->url("/v1/chat/completions"), conversation, bearer(kCompatToken));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  json::ObjectPtr body = json::parse_object(reply.body);
  ASSERT_TRUE(body);
  EXPECT_EQ(json::get_string(body.get(), "object"), "chat.completion");
  EXPECT_NE(reply.body.find("Your dentist is at 3 pm."), std::string::npos) << reply.body;

  auto requests = simulator_->agent_requests();
  ASSERT_EQ(requests.size(), before + 1);
  const sim::AgentRequestRecord &asked = requests.back();
  EXPECT_EQ(asked.question, "When is my dentist?");
  EXPECT_EQ(asked.session_key, "agent:main:main");
  EXPECT_EQ(asked.body.find("Hi! How can I help?"), std::string::npos) << "the platform's history stays out: " << asked.body;
  EXPECT_EQ(asked.body.find("ElevenLabs agent"), std::string::npos) << asked.body;
  for (const auto &[name, value] : asked.headers)
    EXPECT_EQ(value.find(kCompatToken), std::string::npos) << "our client's token must not reach the agent";
}
