/* The fake OpenClaw gateway is as strict as the real one: a plain HTTP client (libsoup, synchronous,
 * on the test thread) checks its door, agent and session selection, refusals and answers. */
#include <gtest/gtest.h>

#include <libsoup/soup.h>

#include <set>

#include "common/json.h"
#include "realtime_simulator.h"

using namespace clawvoice;

namespace {

struct Reply {
  guint status = 0;
  std::string content_type;
  std::string retry_after;
  std::string allow;
  std::string body;
};

class FakeGatewayTest : public ::testing::Test {
 protected:
  void start(sim::AgentOptions agent = {})
  {
    sim::Options options;
    options.agent = std::move(agent);
    sim_ = std::make_unique<sim::RealtimeSimulator>(options);
    std::string error;
    ASSERT_TRUE(sim_->start(&error)) << error;
    session_ = soup_session_new_with_options("timeout", 5, nullptr);
  }

  void TearDown() override
  {
    g_clear_object(&session_);
    if (sim_)
      sim_->stop();
  }

  Reply send(const char *method, const std::string &path, const std::string &body,
             const std::vector<std::pair<std::string, std::string>> &headers,
             const char *content_type = "application/json")
  {
    SoupMessage *msg = soup_message_new(method, (sim_->gateway_url() + path).c_str());
    for (const auto &[name, value] : headers)
      soup_message_headers_replace(soup_message_get_request_headers(msg), name.c_str(), value.c_str());
    if (!body.empty()) {
      GBytes *bytes = g_bytes_new(body.data(), body.size());
      soup_message_set_request_body_from_bytes(msg, content_type, bytes);
      g_bytes_unref(bytes);
    }
    GError *error = nullptr;
    GBytes *answer = soup_session_send_and_read(session_, msg, nullptr, &error);
    Reply reply;
    EXPECT_NE(answer, nullptr) << (error ? error->message : "");
    g_clear_error(&error);
    reply.status = soup_message_get_status(msg);
    SoupMessageHeaders *h = soup_message_get_response_headers(msg);
    auto get = [h](const char *name) {
      const char *v = soup_message_headers_get_one(h, name);
      return std::string(v ? v : "");
    };
    reply.content_type = get("Content-Type");
    reply.retry_after = get("Retry-After");
    reply.allow = get("Allow");
    if (answer) {
      gsize size = 0;
      const char *data = static_cast<const char *>(g_bytes_get_data(answer, &size));
      reply.body.assign(data ? data : "", size);
      g_bytes_unref(answer);
    }
    g_object_unref(msg);
    return reply;
  }

  Reply chat(const std::string &body, std::vector<std::pair<std::string, std::string>> headers = {},
             const char *content_type = "application/json")
  {
    headers.emplace_back("Authorization", "Bearer any-token");
    return send("POST", "/v1/chat/completions", body, headers, content_type);
  }

  static std::string error_message(const Reply &reply)
  {
    json::ObjectPtr root = json::parse_object(reply.body);
    JsonObject *error = root ? json::get_object(root.get(), "error") : nullptr;
    return error ? json::get_string(error, "message") : "(no error object: " + reply.body + ")";
  }

  std::unique_ptr<sim::RealtimeSimulator> sim_;
  SoupSession *session_ = nullptr;
};

const char kAsk[] = R"({"model":"openclaw","messages":[{"role":"user","content":"Hi"}]})";

}  // namespace

TEST_F(FakeGatewayTest, UnauthorizedBodyIsExactlyTheGatewaysAndTheTokenIsMasked)
{
  sim::AgentOptions agent;
  agent.token = "right";
  start(agent);
  Reply reply = send("POST", "/v1/chat/completions", kAsk,
                     {{"Authorization", "Bearer wrong-secret"}});
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(reply.body, R"({"error":{"message":"Unauthorized","type":"unauthorized"}})");
  Reply none = send("POST", "/v1/chat/completions", kAsk, {});
  EXPECT_EQ(none.status, 401u);
  auto records = sim_->agent_requests();
  ASSERT_EQ(records.size(), 2u);
  for (const auto &[name, value] : records[0].headers) {
    EXPECT_EQ(value.find("wrong-secret"), std::string::npos);
    if (name == "Authorization") {
      EXPECT_EQ(value, "Bearer ***");
    }
  }
  EXPECT_EQ(records[0].error, "Unauthorized");
}

TEST_F(FakeGatewayTest, DoorRefusesWrongMethodAndContentType)
{
  start();
  Reply get = send("GET", "/v1/chat/completions", "", {{"Authorization", "Bearer t"}});
  EXPECT_EQ(get.status, 405u);
  EXPECT_EQ(get.allow, "POST");
  Reply text = chat(kAsk, {}, "text/plain");
  EXPECT_EQ(text.status, 415u);
  EXPECT_EQ(error_message(text), "Content-Type must be application/json.");
  Reply elsewhere = send("POST", "/v1/chat/completions/extra", kAsk, {{"Authorization", "Bearer t"}});
  EXPECT_EQ(elsewhere.status, 404u);
}

TEST_F(FakeGatewayTest, MalformedBodiesAreRefusedWithTheGatewaysMessages)
{
  start();
  struct Case {
    const char *body;
    const char *message_start;
  } cases[] = {
      {"{not json", "Invalid JSON body"},
      {"[1,2]", "The request body must be a JSON object."},
      {R"({"model":"openclaw"})", "`messages` must be a non-empty array."},
      {R"({"messages":[]})", "`messages` must be a non-empty array."},
      {R"({"messages":["hi"]})", "`messages[0]` must be an object."},
      {R"({"messages":[{"content":"hi"}]})", "`messages[0].role` must be a string."},
      {R"({"messages":[{"role":"robot","content":"hi"}]})", "`messages[0].role` must be one of"},
      {R"({"messages":[{"role":"user","content":42}]})", "`messages[0].content` must be a string"},
      {R"({"messages":[{"role":"system","content":"be brief"}]})", "Missing user message in `messages`."},
      {R"({"messages":[{"role":"user","content":"  "}]})", "Missing user message in `messages`."},
      {R"({"stream":"yes","messages":[{"role":"user","content":"hi"}]})", "`stream` must be a boolean."},
      {R"({"model":7,"messages":[{"role":"user","content":"hi"}]})", "`model` must be a string."},
      {R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})", "Unknown model 'gpt-4o'"},
  };
  for (const Case &c : cases) {
    Reply reply = chat(c.body);
    EXPECT_EQ(reply.status, 400u) << c.body;
    EXPECT_TRUE(g_str_has_prefix(error_message(reply).c_str(), c.message_start))
        << c.body << " → " << reply.body;
    json::ObjectPtr root = json::parse_object(reply.body);
    ASSERT_TRUE(root) << reply.body;
    EXPECT_EQ(json::get_string(json::get_object(root.get(), "error"), "type"), "invalid_request_error");
  }
}

TEST_F(FakeGatewayTest, AgentComesFromTheHeaderFirstThenTheModel)
{
  sim::AgentOptions agent;
  agent.agents = {"main", "ops", "home"};
  start(agent);
  auto ask = [](const char *model) {
    return std::string(R"({"model":")") + model + R"(","messages":[{"role":"user","content":"Hi"}]})";
  };
  EXPECT_EQ(chat(ask("openclaw")).status, 200u);
  EXPECT_EQ(chat(ask("openclaw/default")).status, 200u);
  EXPECT_EQ(chat(ask("openclaw/ops")).status, 200u);
  EXPECT_EQ(chat(ask("openclaw:home")).status, 200u);
  EXPECT_EQ(chat(ask("agent:ops")).status, 200u);
  EXPECT_EQ(chat(ask("openclaw/ops"), {{"x-openclaw-agent-id", "home"}}).status, 200u);
  Reply unknown = chat(ask("openclaw"), {{"x-openclaw-agent-id", "stranger"}});
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_EQ(error_message(unknown), "Unknown agent 'stranger'.");
  auto records = sim_->agent_requests();
  ASSERT_EQ(records.size(), 7u);
  std::vector<std::string> agents;
  for (const auto &r : records)
    agents.push_back(r.agent_id);
  EXPECT_EQ(agents, (std::vector<std::string>{"main", "main", "ops", "home", "ops", "home", ""}));
}

TEST_F(FakeGatewayTest, SessionFromHeaderOrUserElseFresh)
{
  start();
  EXPECT_EQ(chat(kAsk, {{"x-openclaw-session-key", "agent:main:voice:42"}}).status, 200u);
  EXPECT_EQ(chat(R"({"user":"bob","messages":[{"role":"user","content":"Hi"}]})").status, 200u);
  EXPECT_EQ(chat(kAsk).status, 200u);
  EXPECT_EQ(chat(kAsk).status, 200u);
  for (const char *key : {"subagent:a", "cron:b", "acp:c"}) {
    Reply refused = chat(kAsk, {{"x-openclaw-session-key", key}});
    EXPECT_EQ(refused.status, 400u) << key;
    EXPECT_NE(error_message(refused).find("reserved"), std::string::npos);
  }
  auto records = sim_->agent_requests();
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(records[0].session_key, "agent:main:voice:42");
  EXPECT_EQ(records[1].session_key, "agent:main:openai-user:bob");
  EXPECT_TRUE(g_str_has_prefix(records[2].session_key.c_str(), "agent:main:openai:"));
  EXPECT_NE(records[2].session_key, records[3].session_key);
  EXPECT_EQ(records[0].message_channel, "webchat");   /* the gateway's default */
}

TEST_F(FakeGatewayTest, NonStreamingAnswerIsAChatCompletion)
{
  start();
  Reply reply = chat(R"({"model":"openclaw","stream":false,"messages":[
      {"role":"system","content":"Be brief."},
      {"role":"user","content":[{"type":"text","text":"What is two plus two?"}]}]})");
  ASSERT_EQ(reply.status, 200u) << reply.body;
  EXPECT_TRUE(g_str_has_prefix(reply.content_type.c_str(), "application/json"));
  json::ObjectPtr root = json::parse_object(reply.body);
  ASSERT_TRUE(root);
  EXPECT_EQ(json::get_string(root.get(), "object"), "chat.completion");
  JsonObject *choice = json_array_get_object_element(json::get_array(root.get(), "choices"), 0);
  EXPECT_EQ(json::get_string(choice, "finish_reason"), "stop");
  JsonObject *message = json::get_object(choice, "message");
  EXPECT_EQ(json::get_string(message, "role"), "assistant");
  EXPECT_EQ(json::get_string(message, "content"), "You asked: What is two plus two. Here is the answer.");
}

TEST_F(FakeGatewayTest, StreamHasRoleThenContentThenDoneAndNoStopChunk)
{
  sim::AgentOptions agent;
  agent.reply_text = "Twelve chars";
  start(agent);
  Reply reply = chat(R"({"model":"openclaw","stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "text/event-stream; charset=utf-8");
  EXPECT_TRUE(g_str_has_suffix(reply.body.c_str(), "\n\ndata: [DONE]\n\n"));
  EXPECT_EQ(reply.body.find("\"stop\""), std::string::npos);
  gchar **frames = g_strsplit(reply.body.c_str(), "\n\n", -1);
  ASSERT_GE(g_strv_length(frames), 3u);
  json::ObjectPtr role = json::parse_object(frames[0] + 6);
  ASSERT_TRUE(role) << frames[0];
  JsonObject *delta = json::get_object(json_array_get_object_element(json::get_array(role.get(), "choices"), 0), "delta");
  EXPECT_EQ(json::get_string(delta, "role"), "assistant");
  json::ObjectPtr content = json::parse_object(frames[1] + 6);
  ASSERT_TRUE(content) << frames[1];
  JsonObject *c0 = json_array_get_object_element(json::get_array(content.get(), "choices"), 0);
  EXPECT_EQ(json::get_string(json::get_object(c0, "delta"), "content"), "Twelve chars");
  EXPECT_TRUE(JSON_NODE_HOLDS_NULL(json_object_get_member(c0, "finish_reason")));
  EXPECT_EQ(json::get_string(content.get(), "object"), "chat.completion.chunk");
  g_strfreev(frames);
}

TEST_F(FakeGatewayTest, HooksNeedTheirOwnTokenAndAMessage)
{
  start();
  EXPECT_EQ(send("POST", "/hooks/agent", R"({"message":"x"})", {{"Authorization", "Bearer t"}}).status,
            404u);   /* hooks are off without a hooks token */
  sim_->stop();
  sim::AgentOptions agent;
  agent.hooks_token = "hk";
  start(agent);
  EXPECT_EQ(send("POST", "/hooks/agent", R"({"message":"x"})", {{"Authorization", "Bearer no"}}).status,
            401u);
  Reply missing = send("POST", "/hooks/agent", R"({"name":"Voice"})", {{"Authorization", "Bearer hk"}});
  EXPECT_EQ(missing.status, 400u);
  EXPECT_EQ(missing.body, R"({"ok":false,"error":"message required"})");
  Reply ok = send("POST", "/hooks/agent", R"({"message":"Booked.","name":"Voice","sessionKey":"s"})",
                  {{"x-openclaw-token", "hk"}});
  ASSERT_EQ(ok.status, 200u);
  json::ObjectPtr root = json::parse_object(ok.body);
  ASSERT_TRUE(root);
  EXPECT_TRUE(json::get_bool(root.get(), "ok"));
  auto hooks = sim_->agent_hooks();
  ASSERT_EQ(hooks.size(), 3u);
  EXPECT_EQ(hooks[2].run_id, json::get_string(root.get(), "runId"));
  EXPECT_EQ(hooks[2].message, "Booked.");
  EXPECT_EQ(hooks[2].session_key, "s");
  for (const auto &[name, value] : hooks[2].headers)
    if (name == "x-openclaw-token") {
      EXPECT_EQ(value, "***");
    }
}

TEST_F(FakeGatewayTest, LockoutAnswers429WithRetryAfterUntilItEnds)
{
  sim::AgentOptions agent;
  agent.token = "right";
  agent.max_auth_failures = 3;
  agent.lockout_s = 1;
  start(agent);
  for (int i = 0; i < 3; i++)
    EXPECT_EQ(send("POST", "/v1/chat/completions", kAsk, {{"Authorization", "Bearer bad"}}).status, 401u);
  Reply locked = send("POST", "/v1/chat/completions", kAsk, {{"Authorization", "Bearer right"}});
  EXPECT_EQ(locked.status, 429u);
  EXPECT_EQ(locked.retry_after, "1");
  EXPECT_EQ(error_message(locked), "Too many failed authentication attempts. Please try again later.");
  g_usleep(1100 * 1000);
  EXPECT_EQ(send("POST", "/v1/chat/completions", kAsk, {{"Authorization", "Bearer right"}}).status, 200u);
}
