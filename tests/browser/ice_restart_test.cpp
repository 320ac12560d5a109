/* The browser path's ICE restart, with a webrtcbin caller (tests/bench/browser/browser_peer.h) and
 * the real launcher (simulator backend inside it): the call goes live through a UDP relay the test
 * owns, the relay stops forwarding (the network went away), the launcher must say `reconnecting`;
 * then either the path comes back by itself, or the caller re-offers with new ICE credentials as the
 * page does (restartIce) and the launcher answers it with a new webrtcbin in the same call. */
#include <gio/gio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "browser_peer.h"
#include "launcher_process.h"

using clawvoice::test::browser::BrowserPeer;
using clawvoice::test::launcher::LauncherProcess;
using clawvoice::test::launcher::json_string;

namespace {

const char kControl[] = "control-token-ice-restart-0123456";

/* A UDP relay on 127.0.0.1 between the caller and the launcher: packets from the launcher's port go
 * to the last caller address seen, everything else goes to the launcher. drop(true) discards both
 * ways, as a dead network would. */
class UdpRelay {
 public:
  UdpRelay()
  {
    socket_ = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *address = g_inet_socket_address_new(lo, 0);
    g_socket_bind(socket_, address, TRUE, nullptr);
    g_object_unref(address);
    g_object_unref(lo);
    GSocketAddress *bound = g_socket_get_local_address(socket_, nullptr);
    port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_socket_set_timeout(socket_, 1);
    thread_ = std::thread([this]() { run(); });
  }
  ~UdpRelay()
  {
    running_ = false;
    thread_.join();
    if (caller_)
      g_object_unref(caller_);
    g_object_unref(socket_);
  }
  guint port() const { return port_; }
  void set_launcher_port(guint port) { launcher_port_ = port; }
  guint launcher_port() const { return launcher_port_; }
  void drop(bool on) { dropping_ = on; }
  guint64 forwarded() const { return forwarded_; }

 private:
  void run()
  {
    char buffer[65536];
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    while (running_) {
      GSocketAddress *from = nullptr;
      gssize n = g_socket_receive_from(socket_, &from, buffer, sizeof buffer, nullptr, nullptr);
      if (n <= 0 || !from) {
        if (from)
          g_object_unref(from);
        continue;
      }
      const guint from_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(from));
      GSocketAddress *to = nullptr;
      if (from_port == launcher_port_) {
        to = caller_ ? G_SOCKET_ADDRESS(g_object_ref(caller_)) : nullptr;
        g_object_unref(from);
      } else {
        if (caller_)
          g_object_unref(caller_);
        caller_ = G_INET_SOCKET_ADDRESS(from);
        to = launcher_port_ ? g_inet_socket_address_new(lo, launcher_port_) : nullptr;
      }
      if (to && !dropping_) {
        g_socket_send_to(socket_, to, buffer, n, nullptr, nullptr);
        forwarded_++;
      }
      if (to)
        g_object_unref(to);
    }
    g_object_unref(lo);
  }

  GSocket *socket_ = nullptr;
  guint port_ = 0;
  std::atomic<guint> launcher_port_{0};
  std::atomic<bool> dropping_{false}, running_{true};
  std::atomic<guint64> forwarded_{0};
  GInetSocketAddress *caller_ = nullptr;   /* relay thread only */
  std::thread thread_;
};

bool wait_until(const std::function<bool()> &done, int timeout_ms)
{
  const gint64 end = g_get_monotonic_time() + timeout_ms * 1000LL;
  while (g_get_monotonic_time() < end) {
    if (done())
      return true;
    g_usleep(50000);
  }
  return done();
}

bool saw_state(const BrowserPeer::Report &r, const std::string &state, size_t from = 0)
{
  for (size_t i = from; i < r.states.size(); i++)
    if (r.states[i].state == state)
      return true;
  return false;
}

std::string describe(const BrowserPeer::Report &r)
{
  std::string out = "states:";
  for (const auto &s : r.states)
    out += " " + s.state + (s.reason.empty() ? "" : "(" + s.reason + ")");
  for (const auto &e : r.errors)
    out += "; error: " + e;
  if (!r.error.empty())
    out += "; peer: " + r.error;
  return out;
}

class IceRestartTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    std::string error;
    audio_ = clawvoice::test::browser::encode_peer_audio(clawvoice::test::launcher::data_path("question.wav"), &error);
    ASSERT_TRUE(audio_) << error;
    launcher_ = std::make_unique<LauncherProcess>(std::string(R"({
      "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControl + R"(" },
      "realtime": { "backend": "simulator" },
      "calls": { "ttl_seconds": 120 },
      "routes": { "browser": { "enabled": true, "ice_addresses": ["127.0.0.1"] } }
    })");
    ASSERT_TRUE(launcher_->started()) << launcher_->start_error();
  }
  void TearDown() override
  {
    if (HasFailure() && launcher_)   /* what the launcher said about the call */
      for (const std::string &line : launcher_->lines())
        if (line.find("\"browser.") != std::string::npos || line.find("\"call.") != std::string::npos)
          std::fprintf(stderr, "launcher: %s\n", line.c_str());
    if (peer_)
      peer_->stop();
    peer_.reset();
    if (launcher_)
      launcher_->stop();
  }

  /* A caller whose media goes through @relay only: the launcher's UDP candidates are rewritten to
   * the relay, its TCP ones dropped, and the caller's own are not sent (the launcher learns the
   * caller's address from its checks, which come from the relay). */
  std::shared_ptr<BrowserPeer> relayed_peer(UdpRelay &relay)
  {
    BrowserPeer::Options options;
    options.base_url = launcher_->url("");
    options.audio = audio_.get();
    options.trickle_local_candidates = false;
    UdpRelay *r = &relay;
    options.rewrite_remote_candidate = [r](const std::string &candidate) -> std::string {
      gchar **f = g_strsplit(candidate.c_str(), " ", -1);
      std::string out;
      if (g_strv_length(f) >= 8 && g_ascii_strcasecmp(f[2], "UDP") == 0 && g_strcmp0(f[4], "127.0.0.1") == 0) {
        r->set_launcher_port(atoi(f[5]));
        g_free(f[5]);
        f[5] = g_strdup(std::to_string(r->port()).c_str());
        gchar *joined = g_strjoinv(" ", f);
        out = joined;
        g_free(joined);
      }
      g_strfreev(f);
      return out;
    };
    return std::make_shared<BrowserPeer>(clawvoice::net::NetThread::acquire(), options);
  }

  std::unique_ptr<clawvoice::test::browser::PeerAudio> audio_;
  std::unique_ptr<LauncherProcess> launcher_;
  std::shared_ptr<BrowserPeer> peer_;
};

/* The path dies and comes back by itself: `reconnecting` (the launcher noticed: no RTP for 4 s, as
 * webrtcbin 1.22's ICE never reports a dead path), then `live` again, with no restart needed. */
TEST_F(IceRestartTest, DroppedConnectionIsReconnectingThenLiveWhenThePathComesBack)
{
  UdpRelay relay;
  peer_ = relayed_peer(relay);
  peer_->start();
  ASSERT_TRUE(wait_until([&] { return peer_->last_state() == "live"; }, 20000)) << describe(peer_->report());
  ASSERT_TRUE(wait_until([&] { return peer_->push_next_frame(); }, 1000));
  EXPECT_GT(relay.forwarded(), 0u) << "the call went live without the relay";
  std::atomic<bool> speaking{true};
  std::thread mouth([&] { while (speaking) { peer_->push_next_frame(); g_usleep(20000); } });

  relay.drop(true);
  const gint64 dropped_us = g_get_monotonic_time();
  const size_t before = peer_->report().states.size();
  EXPECT_TRUE(wait_until([&] { return saw_state(peer_->report(), "reconnecting", before); }, 10000))
      << "the launcher did not notice the dropped connection; " << describe(peer_->report());
  BrowserPeer::Report r = peer_->report();
  const gint64 noticed_us = r.states.back().time_us;
  std::printf("dropped → reconnecting after %.1f s\n", (noticed_us - dropped_us) / 1e6);

  relay.drop(false);
  const size_t after = r.states.size();
  EXPECT_TRUE(wait_until([&] { return saw_state(peer_->report(), "live", after); }, 5000)) << describe(peer_->report());
  speaking = false;
  mouth.join();
  EXPECT_FALSE(saw_state(peer_->report(), "failed")) << describe(peer_->report());
}

/* The page's one ICE restart (a new offer with new ICE credentials, after the path died). webrtcbin
 * 1.22 cannot restart ICE (it answers with its old credentials and gathers no new candidates), so the
 * launcher answers with a NEW webrtcbin in the running pipeline: new ICE credentials, candidates on a
 * new port, `reconnecting`, no error, the old webrtcbin stopped, the same call (one pipeline). This
 * caller is itself a webrtcbin 1.22, which cannot follow a restart (its ICE agent keeps its old
 * credentials: the new webrtcbin's checks go unanswered), so here the call then fails after the
 * connect timeout with that reason; Chromium does follow it (browser.test.mjs, "ICE restart"). */
TEST_F(IceRestartTest, RestartOfferAfterADropIsAnsweredByANewWebrtcbin)
{
  UdpRelay relay;
  peer_ = relayed_peer(relay);
  peer_->start();
  ASSERT_TRUE(wait_until([&] { return peer_->last_state() == "live"; }, 20000)) << describe(peer_->report());
  const std::string session_id = peer_->report().session_id;
  std::atomic<bool> speaking{true};
  std::thread mouth([&] { while (speaking) { peer_->push_next_frame(); g_usleep(20000); } });

  relay.drop(true);
  const size_t before = peer_->report().states.size();
  ASSERT_TRUE(wait_until([&] { return saw_state(peer_->report(), "reconnecting", before); }, 10000))
      << describe(peer_->report());
  const guint first_port = relay.launcher_port();
  peer_->restart_ice();
  relay.drop(false);

  ASSERT_TRUE(wait_until([&] { return peer_->report().answers == 2; }, 5000)) << describe(peer_->report());
  ASSERT_TRUE(launcher_->wait_for_event("browser.answer_sent", 5000, 2));
  const auto answers = launcher_->events("browser.answer_sent");
  const std::string first_ufrag = json_string(answers[0], "ice_ufrag"), second_ufrag = json_string(answers[1], "ice_ufrag");
  EXPECT_FALSE(first_ufrag.empty()) << answers[0];
  EXPECT_FALSE(second_ufrag.empty()) << answers[1];
  EXPECT_NE(first_ufrag, second_ufrag) << "the restart was answered with the old ICE credentials";
  EXPECT_TRUE(wait_until([&] { return relay.launcher_port() != first_port; }, 5000))
      << "no candidate on a new port after the restart";
  EXPECT_EQ(launcher_->events("browser.webrtcbin_replaced").size(), 1u);
  EXPECT_TRUE(launcher_->wait_for_event("browser.old_webrtcbin_stopped", 5000)) << "the old webrtcbin did not stop";
  EXPECT_TRUE(peer_->report().errors.empty()) << describe(peer_->report());

  /* This caller cannot follow (see above): the call ends with the restart's own timeout. */
  ASSERT_TRUE(wait_until([&] { return saw_state(peer_->report(), "failed", before); }, 30000)) << describe(peer_->report());
  speaking = false;
  mouth.join();
  BrowserPeer::Report r = peer_->report();
  EXPECT_NE(r.states.back().reason.find("of the ICE restart"), std::string::npos) << describe(r);
  EXPECT_EQ(launcher_->events("call.active").size(), 1u) << "the call was rebuilt, not continued";
  EXPECT_TRUE(launcher_->events("call.error").empty()) << "the swap put an error on the pipeline's bus";
  ASSERT_TRUE(wait_until([&] {
    return launcher_->get("/calls/" + session_id, kControl).body.find("\"failed\"") != std::string::npos;
  }, 5000)) << launcher_->get("/calls/" + session_id, kControl).body;
  EXPECT_TRUE(launcher_->wait_for_event("call.ended", 5000));
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
