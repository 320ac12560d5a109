/* Fault injection: session expiry, network drops mid-reply, injected events. */
#include "sim_test_support.h"

namespace clawvoice::sim::test {
namespace {

using Faults = SimTest;

std::string error_code(const Event *e)
{
  return e ? json::get_string(json::get_object(e->object.get(), "error"), "code") : "<none>";
}

void wait_for_open_count(RealtimeSimulator &sim, int count)
{
  const gint64 end = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
  while (sim.connections_open() != count && g_get_monotonic_time() < end)
    g_usleep(5000);
}

TEST_F(Faults, SessionsExpireAfterTheirMaximum)
{
  Options o = fast_options();
  o.session_max_seconds = 1;
  start(o);
  WsClient &c = connect();
  const Event *e = c.wait_for("error", 3000);
  ASSERT_NE(e, nullptr);
  JsonObject *err = json::get_object(e->object.get(), "error");
  EXPECT_EQ(json::get_string(err, "code"), "session_expired");
  EXPECT_EQ(json::get_string(err, "type"), "invalid_request_error");
  EXPECT_EQ(json::get_string(err, "message"), "Your session hit the maximum duration of 60 minutes.");
  ASSERT_TRUE(c.wait_closed());
  EXPECT_EQ(c.close_code(), 1000);
  wait_for_open_count(*sim, 0);
  EXPECT_EQ(sim->connections_open(), 0);
}

TEST_F(Faults, ExpireSessionsNow)
{
  start();
  WsClient &a = connect();
  WsClient &b = connect();
  sim->expire_sessions_now();
  EXPECT_EQ(error_code(a.wait_for("error")), "session_expired");
  EXPECT_EQ(error_code(b.wait_for("error")), "session_expired");
  EXPECT_TRUE(a.wait_closed());
  EXPECT_TRUE(b.wait_closed());
  EXPECT_EQ(sim->connections_accepted(), 2);
}

TEST_F(Faults, CloseMidReplyDropsTheSocketWithoutACloseFrame)
{
  start();
  sim->close_next_reply_after_ms(500);
  WsClient &c = connect();
  c.send(R"({"type":"response.create"})");
  ASSERT_TRUE(c.wait_closed(10000));
  EXPECT_NE(c.close_code(), 1000);
  EXPECT_TRUE(c.close_code() == 0 || c.close_code() == 1006) << c.close_code();
  const double got = delta_audio_ms(c, AudioFormat{});
  EXPECT_GE(got, 500.0);
  EXPECT_LE(got, 500.0 + fast_options().delta_ms);
  EXPECT_TRUE(c.of_type("response.done").empty());
  wait_for_open_count(*sim, 0);
  EXPECT_EQ(sim->connections_open(), 0);

  /* Armed once: the next reply plays out. */
  WsClient &again = connect();
  EXPECT_NE(request(again, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  EXPECT_FALSE(again.closed());
}

TEST_F(Faults, DropAllConnections)
{
  start();
  WsClient &c = connect();
  sim->drop_all_connections();
  ASSERT_TRUE(c.wait_closed());
  EXPECT_NE(c.close_code(), 1000);
  wait_for_open_count(*sim, 0);
  EXPECT_EQ(sim->connections_open(), 0);
}

TEST_F(Faults, InjectedEventsReachEveryConnection)
{
  start();
  WsClient &a = connect();
  WsClient &b = connect();
  sim->send_raw_text(R"({"type":"rate_limits.updated","event_id":"event_raw1","rate_limits":[]})");
  sim->send_error_event("server_error", "The server had an error while processing your request.");
  for (WsClient *c : {&a, &b}) {
    EXPECT_NE(c->wait_for("rate_limits.updated"), nullptr);
    const Event *e = c->wait_for("error");
    ASSERT_NE(e, nullptr);
    JsonObject *err = json::get_object(e->object.get(), "error");
    EXPECT_EQ(json::get_string(err, "type"), "server_error");
    EXPECT_EQ(json::get_string(err, "code"), "server_error");
  }
  EXPECT_EQ(sim->errors_sent().size(), 2u);
}

TEST_F(Faults, StopClosesConnectionsCleanly)
{
  start();
  WsClient &c = connect();
  c.send(R"({"type":"response.create"})");
  ASSERT_NE(c.wait_for("response.created"), nullptr);
  sim->stop();
  EXPECT_TRUE(c.wait_closed());
  sim->stop();   /* idempotent */
}

}  // namespace
}  // namespace clawvoice::sim::test
