/* GatewayClient against the simulator's fake OpenClaw gateway on 127.0.0.1: what goes on the wire,
 * streamed answers, sessions, every failure the relay must turn into words, cancel and load. */
#include <gtest/gtest.h>

#include <gio/gio.h>

#include <atomic>
#include <memory>
#include <set>

#include "common/json.h"
#include "gateway_test_support.h"
#include "realtime_simulator.h"

using namespace clawvoice;
using openclaw::ChatRequest;
using openclaw::GatewayClient;
using openclaw::GatewayErrorKind;
using openclaw::GatewayOptions;
using test::ChatOutcome;
using test::eventually;

namespace {

const char kToken[] = "gw-secret-token";

class GatewayClientTest : public ::testing::Test {
 protected:
  void start(sim::AgentOptions agent = {}, unsigned connect_timeout_s = 5)
  {
    if (agent.token.empty())
      agent.token = kToken;
    sim::Options options;
    options.agent = std::move(agent);
    sim_ = std::make_unique<sim::RealtimeSimulator>(options);
    std::string error;
    ASSERT_TRUE(sim_->start(&error)) << error;
    options_.base_url = sim_->gateway_url();
    options_.token = kToken;
    options_.connect_timeout_s = connect_timeout_s;
    thread_ = net::NetThread::acquire();
    client_ = std::make_unique<GatewayClient>(thread_, options_);
  }

  void TearDown() override
  {
    client_.reset();
    if (sim_)
      sim_->stop();
  }

  static ChatRequest ask(const std::string &question, const std::string &session = "voice:test")
  {
    ChatRequest request;
    request.session_key = session;
    request.messages.push_back({"user", question});
    return request;
  }

  /* Asks and waits for the end. */
  std::shared_ptr<ChatOutcome> chat(ChatRequest request, int timeout_ms = 5000)
  {
    auto outcome = ChatOutcome::create();
    client_->chat(std::move(request), outcome->callbacks());
    EXPECT_TRUE(outcome->wait_end(timeout_ms)) << "no on_done/on_error in time";
    return outcome;
  }

  static std::string header(const sim::AgentRequestRecord &r, const std::string &name)
  {
    for (const auto &[n, v] : r.headers)
      if (g_ascii_strcasecmp(n.c_str(), name.c_str()) == 0)
        return v;
    return "(absent)";
  }

  std::unique_ptr<sim::RealtimeSimulator> sim_;
  std::shared_ptr<net::NetThread> thread_;
  GatewayOptions options_;
  std::unique_ptr<GatewayClient> client_;
};

}  // namespace

TEST_F(GatewayClientTest, SendsTheHeadersAndBodyAsSpecified)
{
  start();
  ChatRequest request = ask("What is on my calendar today?", "agent:main:voice:+15551234");
  request.messages.insert(request.messages.begin(), {"system", "Answer for speech."});
  std::string expected_body = openclaw::build_chat_body(options_, request);
  auto outcome = chat(request);
  ASSERT_TRUE(outcome->done) << (outcome->error ? outcome->error->message : "");

  auto records = sim_->agent_requests();
  ASSERT_EQ(records.size(), 1u);
  const auto &r = records[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/chat/completions");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(header(r, "Authorization"), "Bearer ***");   /* present, and masked by the fake */
  EXPECT_EQ(header(r, "x-openclaw-agent-id"), "main");
  EXPECT_EQ(header(r, "x-openclaw-session-key"), "agent:main:voice:+15551234");
  EXPECT_EQ(header(r, "x-openclaw-message-channel"), "voice");
  EXPECT_EQ(header(r, "Accept"), "text/event-stream");
  EXPECT_EQ(header(r, "Content-Type"), "application/json");
  EXPECT_EQ(r.body, expected_body);
  EXPECT_EQ(r.agent_id, "main");
  EXPECT_EQ(r.session_key, "agent:main:voice:+15551234");
  EXPECT_EQ(r.message_channel, "voice");
  EXPECT_EQ(r.question, "What is on my calendar today?");
  EXPECT_TRUE(r.stream);

  json::ObjectPtr body = json::parse_object(r.body);
  ASSERT_TRUE(body);
  EXPECT_EQ(json::get_string(body.get(), "model"), "openclaw");
  EXPECT_TRUE(json::get_bool(body.get(), "stream"));
  EXPECT_FALSE(json_object_has_member(body.get(), "user"));
  JsonArray *messages = json::get_array(body.get(), "messages");
  ASSERT_NE(messages, nullptr);
  ASSERT_EQ(json_array_get_length(messages), 2u);
  JsonObject *last = json_array_get_object_element(messages, 1);
  EXPECT_EQ(json::get_string(last, "role"), "user");
  EXPECT_EQ(json::get_string(last, "content"), "What is on my calendar today?");
  for (const auto &[name, value] : r.headers)
    EXPECT_EQ(value.find(kToken), std::string::npos) << name;
  EXPECT_EQ(r.body.find(kToken), std::string::npos);
}

TEST_F(GatewayClientTest, StreamsDeltasInOrderThenTheFullText)
{
  const std::string answer = "The quick brown fox jumps over the lazy dog, twice — ünïcödé too.";
  sim::AgentOptions agent;
  agent.on_request = [&](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.text = answer;
    reply.chunk_chars = 5;
    reply.chunk_interval_ms = 2;
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Tell me something."));
  ASSERT_TRUE(outcome->done) << (outcome->error ? outcome->error->message : "");
  EXPECT_EQ(outcome->text, answer);
  std::vector<std::string> deltas = outcome->deltas_seen();
  EXPECT_EQ(deltas.size(), (size_t) (g_utf8_strlen(answer.c_str(), -1) + 4) / 5);
  std::string joined;
  for (const auto &d : deltas) {
    EXPECT_LE(g_utf8_strlen(d.c_str(), -1), 5);
    joined += d;
  }
  EXPECT_EQ(joined, answer);
  std::vector<std::string> order = outcome->order_seen();
  ASSERT_GE(order.size(), 3u);
  EXPECT_EQ(order.front(), "sent");
  EXPECT_EQ(order.back(), "done");
  EXPECT_EQ(outcome->after_end, 0);
  EXPECT_TRUE(eventually([&] { return sim_->agent_requests().at(0).completed; }));
}

TEST_F(GatewayClientTest, ContextIsKeptAcrossRequestsWithTheSameSessionKeyOnly)
{
  std::vector<size_t> history_sizes;
  sim::AgentOptions agent;
  agent.on_request = [&](const sim::AgentRequest &request) {
    history_sizes.push_back(request.history.size());
    return sim::AgentReply{};   /* the default answer, which quotes the previous question */
  };
  start(agent);
  auto first = chat(ask("Book a table for two", "agent:main:voice:call-1"));
  ASSERT_TRUE(first->done);
  EXPECT_EQ(first->text, "You asked: Book a table for two. Here is the answer.");
  auto second = chat(ask("Make it three", "agent:main:voice:call-1"));
  ASSERT_TRUE(second->done);
  EXPECT_EQ(second->text,
            "You asked: Make it three. Before that you asked: Book a table for two. Here is the answer.");
  auto other = chat(ask("Make it three", "agent:main:voice:call-2"));
  ASSERT_TRUE(other->done);
  EXPECT_EQ(other->text, "You asked: Make it three. Here is the answer.");
  EXPECT_EQ(history_sizes, (std::vector<size_t>{0, 1, 0}));
  EXPECT_EQ(sim_->agent_session("agent:main:voice:call-1").size(), 2u);
}

TEST_F(GatewayClientTest, WrongTokenIsUnauthorized)
{
  start();
  options_.token = "wrong";
  client_ = std::make_unique<GatewayClient>(thread_, options_);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::Unauthorized);
  EXPECT_EQ(outcome->error->http_status, 401u);
  EXPECT_EQ(outcome->error->message, "HTTP 401: Unauthorized");
  EXPECT_EQ(outcome->error->message.find("wrong"), std::string::npos);
  EXPECT_TRUE(outcome->deltas_seen().empty());
}

TEST_F(GatewayClientTest, RepeatedAuthFailuresAreRateLimitedWithRetryAfter)
{
  sim::AgentOptions agent;
  agent.max_auth_failures = 2;
  agent.lockout_s = 30;
  start(agent);
  GatewayOptions wrong = options_;
  wrong.token = "wrong";
  GatewayClient bad(thread_, wrong);
  for (int i = 0; i < 2; i++) {
    auto outcome = ChatOutcome::create();
    bad.chat(ask("Hello?"), outcome->callbacks());
    ASSERT_TRUE(outcome->wait_end());
    ASSERT_TRUE(outcome->error);
    EXPECT_EQ(outcome->error->kind, GatewayErrorKind::Unauthorized);
  }
  /* Locked out now, even with the right token. */
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::RateLimited);
  EXPECT_EQ(outcome->error->http_status, 429u);
  EXPECT_GT(outcome->error->retry_after_s, 0);
  EXPECT_LE(outcome->error->retry_after_s, 30);
  EXPECT_NE(outcome->error->message.find("Too many failed authentication attempts"),
            std::string::npos);
}

TEST_F(GatewayClientTest, AgentRateLimitCarriesItsRetryAfter)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.fault.kind = sim::AgentFault::Kind::HttpStatus;
    reply.fault.status = 429;
    reply.fault.retry_after_s = 7;
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::RateLimited);
  EXPECT_EQ(outcome->error->retry_after_s, 7);
}

TEST_F(GatewayClientTest, ServerErrorIsReported)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.fault.kind = sim::AgentFault::Kind::HttpStatus;
    reply.fault.status = 500;
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::ServerError);
  EXPECT_EQ(outcome->error->http_status, 500u);
  EXPECT_EQ(outcome->error->message, "HTTP 500: internal error");
}

TEST_F(GatewayClientTest, UnknownAgentIsABadRequest)
{
  start();
  options_.agent_id = "nobody";
  client_ = std::make_unique<GatewayClient>(thread_, options_);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::BadRequest);
  EXPECT_EQ(outcome->error->http_status, 400u);
  EXPECT_NE(outcome->error->message.find("Unknown agent 'nobody'"), std::string::npos);
}

TEST_F(GatewayClientTest, ReservedOrMissingSessionKeysAreRefusedBeforeSending)
{
  start();
  for (const char *key : {"subagent:x", "cron:nightly", "acp:1", ""}) {
    auto outcome = chat(ask("Hello?", key));
    ASSERT_TRUE(outcome->error) << key;
    EXPECT_EQ(outcome->error->kind, GatewayErrorKind::BadRequest) << key;
    EXPECT_EQ(outcome->error->http_status, 0u);
  }
  EXPECT_TRUE(sim_->agent_requests().empty());
}

TEST_F(GatewayClientTest, GarbageInTheStreamIsMalformed)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.text = "First part. Second part.";
    reply.chunk_chars = 12;
    reply.fault.kind = sim::AgentFault::Kind::GarbageStream;
    reply.fault.after_chunks = 1;
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::MalformedStream);
  EXPECT_EQ(outcome->deltas_seen(), std::vector<std::string>{"First part. "});
  EXPECT_EQ(outcome->after_end, 0);
}

TEST_F(GatewayClientTest, SuccessWithoutAnEventStreamIsMalformed)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.fault.kind = sim::AgentFault::Kind::HttpStatus;
    reply.fault.status = 200;
    reply.fault.body = R"({"choices":[]})";
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::MalformedStream);
  EXPECT_NE(outcome->error->message.find("text/event-stream"), std::string::npos);
}

TEST_F(GatewayClientTest, ConnectionDroppedMidStreamIsMalformed)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.text = "One. Two. Three.";
    reply.chunk_chars = 5;
    reply.fault.kind = sim::AgentFault::Kind::DropMidStream;
    reply.fault.after_chunks = 2;
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::MalformedStream);
  EXPECT_EQ(outcome->deltas_seen(), (std::vector<std::string>{"One. ", "Two. "}));
  EXPECT_TRUE(eventually([&] { return !sim_->agent_requests().at(0).completed; }));
}

/* Servers that close the stream with a finish_reason chunk and no [DONE] are answered in full. (A
 * body that just stops after content is the drop above: libsoup cannot tell them apart.) */
TEST_F(GatewayClientTest, CleanEndWithoutDoneAfterContentIsDone)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.text = "An older gateway.";
    reply.fault.kind = sim::AgentFault::Kind::EndWithoutDone;
    return reply;
  };
  start(agent);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->done) << (outcome->error ? outcome->error->message : "");
  EXPECT_EQ(outcome->text, "An older gateway.");
}

TEST_F(GatewayClientTest, RefusedPortIsRefused)
{
  /* A port that was free a moment ago: bind, read it back, close. */
  GSocket *socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new(loopback, 0);
  ASSERT_TRUE(g_socket_bind(socket, address, FALSE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address(socket, nullptr);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(address);
  g_object_unref(loopback);
  g_socket_close(socket, nullptr);
  g_object_unref(socket);

  thread_ = net::NetThread::acquire();
  options_.base_url = "http://127.0.0.1:" + std::to_string(port);
  client_ = std::make_unique<GatewayClient>(thread_, options_);
  auto outcome = chat(ask("Hello?"));
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::Refused);
  EXPECT_EQ(outcome->error->http_status, 0u);
}

TEST_F(GatewayClientTest, NoHeadersInTimeIsATimeout)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.fault.kind = sim::AgentFault::Kind::Hang;
    return reply;
  };
  start(agent, 1);
  gint64 started = g_get_monotonic_time();
  auto outcome = chat(ask("Hello?"), 4000);
  ASSERT_TRUE(outcome->error);
  EXPECT_EQ(outcome->error->kind, GatewayErrorKind::Timeout);
  gint64 elapsed_ms = (g_get_monotonic_time() - started) / 1000;
  EXPECT_GE(elapsed_ms, 900);
  EXPECT_LT(elapsed_ms, 3000);
  EXPECT_TRUE(eventually([&] { return sim_->agent_requests().at(0).client_closed; }))
      << "the gateway did not see the connection close";
}

TEST_F(GatewayClientTest, CancelClosesTheRequestAndNothingComesAfter)
{
  sim::AgentOptions agent;
  agent.first_chunk_delay_ms = 10000;   /* a slow agent */
  start(agent);
  auto outcome = ChatOutcome::create();
  GatewayClient::RequestId id = client_->chat(ask("Think hard."), outcome->callbacks());
  ASSERT_TRUE(eventually([&] {
    auto records = sim_->agent_requests();
    return !records.empty() && records[0].status == 200u;
  }));
  EXPECT_EQ(client_->in_flight(), 1u);
  client_->cancel(id);
  EXPECT_TRUE(eventually([&] { return sim_->agent_requests().at(0).client_closed; }))
      << "the gateway did not see the connection close";
  EXPECT_EQ(client_->in_flight(), 0u);
  g_usleep(200 * 1000);
  EXPECT_FALSE(outcome->has_ended());
  EXPECT_EQ(outcome->order_seen(), std::vector<std::string>{"sent"});
}

TEST_F(GatewayClientTest, CancelFromADeltaStopsTheStream)
{
  sim::AgentOptions agent;
  agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply reply;
    reply.text = "one two three four five six seven eight";
    reply.chunk_chars = 4;
    reply.chunk_interval_ms = 50;
    return reply;
  };
  start(agent);
  auto outcome = ChatOutcome::create();
  auto callbacks = outcome->callbacks();
  auto id = std::make_shared<std::atomic<GatewayClient::RequestId>>(0);
  GatewayClient *client = client_.get();
  auto record_delta = callbacks.on_delta;
  callbacks.on_delta = [record_delta, client, id](const std::string &delta) {
    record_delta(delta);
    client->cancel(id->load());   /* on the network thread: nothing after this */
  };
  id->store(client_->chat(ask("Count."), callbacks));
  ASSERT_TRUE(eventually([&] { return sim_->agent_requests().size() == 1 &&
                                      sim_->agent_requests()[0].client_closed; }));
  g_usleep(200 * 1000);
  EXPECT_EQ(outcome->deltas_seen(), std::vector<std::string>{"one "});
  EXPECT_FALSE(outcome->has_ended());
}

TEST_F(GatewayClientTest, DestroyingTheClientCancelsEverything)
{
  sim::AgentOptions agent;
  agent.first_chunk_delay_ms = 10000;
  start(agent);
  std::vector<std::shared_ptr<ChatOutcome>> outcomes;
  for (int i = 0; i < 3; i++) {
    outcomes.push_back(ChatOutcome::create());
    client_->chat(ask("Question " + std::to_string(i), "voice:" + std::to_string(i)),
                  outcomes.back()->callbacks());
  }
  ASSERT_TRUE(eventually([&] { return sim_->agent_requests().size() == 3; }));
  client_.reset();
  EXPECT_TRUE(eventually([&] {
    for (const auto &r : sim_->agent_requests())
      if (!r.client_closed)
        return false;
    return true;
  }));
  g_usleep(100 * 1000);
  for (const auto &o : outcomes)
    EXPECT_FALSE(o->has_ended());
}

TEST_F(GatewayClientTest, TwentyRequestsInFlightAtOnce)
{
  sim::AgentOptions agent;
  agent.first_chunk_delay_ms = 400;   /* one after the other this would take 8 s */
  start(agent);
  std::vector<std::shared_ptr<ChatOutcome>> outcomes;
  gint64 started = g_get_monotonic_time();
  for (int i = 0; i < 20; i++) {
    outcomes.push_back(ChatOutcome::create());
    client_->chat(ask("Question number " + std::to_string(i), "voice:caller-" + std::to_string(i)),
                  outcomes.back()->callbacks());
  }
  EXPECT_TRUE(eventually([&] { return client_->in_flight() == 20u || outcomes[0]->has_ended(); }, 1000));
  for (int i = 0; i < 20; i++) {
    ASSERT_TRUE(outcomes[i]->wait_end(5000)) << i;
    ASSERT_TRUE(outcomes[i]->done) << i << ": " << outcomes[i]->error->message;
    EXPECT_EQ(outcomes[i]->text,
              "You asked: Question number " + std::to_string(i) + ". Here is the answer.");
  }
  gint64 elapsed_ms = (g_get_monotonic_time() - started) / 1000;
  EXPECT_LT(elapsed_ms, 2000) << "requests were not in flight together";
  std::set<std::string> sessions;
  for (const auto &r : sim_->agent_requests())
    sessions.insert(r.session_key);
  EXPECT_EQ(sessions.size(), 20u);
  EXPECT_EQ(client_->in_flight(), 0u);
}

TEST_F(GatewayClientTest, AgentHookIsPostedAndRecorded)
{
  sim::AgentOptions agent;
  agent.hooks_token = "hooks-secret";
  start(agent);
  std::mutex lock;
  std::condition_variable cv;
  std::vector<std::pair<bool, std::string>> results;
  auto done = [&](bool ok, const std::string &detail) {
    std::lock_guard<std::mutex> guard(lock);
    results.emplace_back(ok, detail);
    cv.notify_all();
  };
  client_->post_agent_hook("hooks-secret", "Call with +1555 ended: table booked for 8pm.",
                           "agent:main:voice:call-1", done);
  client_->post_agent_hook("wrong", "ignored", "", done);
  {
    std::unique_lock<std::mutex> guard(lock);
    ASSERT_TRUE(cv.wait_for(guard, std::chrono::seconds(5), [&] { return results.size() == 2; }));
  }
  auto hooks = sim_->agent_hooks();
  ASSERT_EQ(hooks.size(), 2u);
  const auto &accepted = hooks[0].status == 200u ? hooks[0] : hooks[1];
  const auto &refused = hooks[0].status == 200u ? hooks[1] : hooks[0];
  EXPECT_EQ(accepted.message, "Call with +1555 ended: table booked for 8pm.");
  EXPECT_EQ(accepted.name, "Voice");
  EXPECT_EQ(accepted.session_key, "agent:main:voice:call-1");
  EXPECT_EQ(refused.status, 401u);
  for (const auto &[ok, detail] : results) {
    if (ok)
      EXPECT_EQ(detail, accepted.run_id);
    else
      EXPECT_EQ(detail, "HTTP 401: Unauthorized");
  }
  EXPECT_EQ(client_->in_flight(), 0u);
}
