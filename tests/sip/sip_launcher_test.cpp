/* The launcher's SIP route, end to end: the real clawvoice-launcher process (with its embedded
 * Realtime simulator as the voice) answering real sipp callers on 127.0.0.1, scenarios in
 * tests/sip/scenarios. Our RTP goes to a UDP socket of this test (the offer's m= port), where it is
 * decoded and measured. Every sipp run is bounded by a timeout and killed by its pid. */
#include <gtest/gtest.h>
#include <gio/gio.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/g711.h"
#include "launcher_process.h"

namespace clawvoice::test::launcher {
namespace {

const char kControlToken[] = "sip-test-control-token-7d1e";
const char kPassword[] = "alice-digest-pass-93";

std::string scenario(const std::string &name)
{
  return std::string(CLAWVOICE_SIP_SCENARIOS_DIR) + "/" + name;
}

bool have_sipp()
{
  gchar *path = g_find_program_in_path("sipp");
  g_free(path);
  return path != nullptr;
}

/* One sipp process. */
class Sipp {
 public:
  Sipp(const std::string &work_dir, const std::string &scenario_file, guint16 sip_port, std::vector<std::string> args)
  {
    local_port_ = free_udp_port();
    media_port_ = free_udp_port_run(4);
    error_file_ = work_dir + "/sipp-" + std::to_string(local_port_) + ".err";
    std::vector<std::string> argv = {"sipp", "-sf", scenario_file, "127.0.0.1:" + std::to_string(sip_port),
                                     "-i", "127.0.0.1", "-p", std::to_string(local_port_), "-mp",
                                     std::to_string(media_port_), "-nostdin", "-trace_err", "-error_file",
                                     error_file_, "-timeout", "40", "-timeout_error", "-recv_timeout", "20000"};
    argv.insert(argv.end(), args.begin(), args.end());
    /* Every scenario's offer names [rtp_port]: where our RTP goes. Unless the test listens there
     * itself, sipp's own media port. */
    if (std::find(args.begin(), args.end(), "rtp_port") == args.end())
      argv.insert(argv.end(), {"-key", "rtp_port", std::to_string(media_port_)});
    message_file_ = work_dir + "/sipp-" + std::to_string(local_port_) + ".msg";
    argv.insert(argv.end(), {"-trace_msg", "-message_file", message_file_});
    std::vector<char *> cargv;
    for (std::string &a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    GError *error = nullptr;
    if (!g_spawn_async(work_dir.c_str(), cargv.data(), nullptr,
                       GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                   G_SPAWN_STDERR_TO_DEV_NULL),
                       nullptr, nullptr, &pid_, &error)) {
      spawn_error_ = error->message;
      g_error_free(error);
      pid_ = 0;
    }
  }
  ~Sipp()
  {
    if (pid_ && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  guint16 local_port() const { return local_port_; }
  std::string caller() const { return "sip:sipp@127.0.0.1:" + std::to_string(local_port_); }

  /* Its exit status (0 = every call of the scenario succeeded), or -1 if it had to be killed. */
  int wait(guint timeout_ms)
  {
    if (!pid_)
      return -2;
    gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    while (g_get_monotonic_time() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      g_usleep(20000);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    exited_ = true;
    return -1;
  }

  /* Every SIP message sipp sent and received. */
  std::string messages() const
  {
    gchar *text = nullptr;
    std::string out;
    if (g_file_get_contents(message_file_.c_str(), &text, nullptr, nullptr)) {
      out = text;
      g_free(text);
    }
    return out;
  }

  std::string errors() const
  {
    gchar *text = nullptr;
    std::string out = spawn_error_;
    if (g_file_get_contents(error_file_.c_str(), &text, nullptr, nullptr)) {
      out += text;
      g_free(text);
    }
    return out;
  }

 private:
  GPid pid_ = 0;
  bool exited_ = false;
  guint16 local_port_ = 0, media_port_ = 0;
  std::string error_file_, spawn_error_, message_file_;
};

/* Our RTP, as the caller receives it. */
class RtpReceiver {
 public:
  RtpReceiver()
  {
    socket_ = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *a = g_inet_socket_address_new(lo, 0);
    g_socket_bind(socket_, a, FALSE, nullptr);
    GSocketAddress *bound = g_socket_get_local_address(socket_, nullptr);
    port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_object_unref(bound);
    g_object_unref(a);
    g_object_unref(lo);
    g_socket_set_timeout(socket_, 1);
    thread_ = std::thread([this]() {
      guint8 buf[2048];
      while (!stop_) {
        gssize n = g_socket_receive(socket_, (gchar *) buf, sizeof buf, nullptr, nullptr);
        if (n < 12)
          continue;
        guint8 pt = buf[1] & 0x7f;
        std::lock_guard<std::mutex> lock(lock_);
        packets_[pt]++;
        sizes_[pt].push_back((size_t) n);
        payload_[pt].push_back(std::vector<guint8>(buf + 12, buf + n));
      }
    });
  }
  ~RtpReceiver()
  {
    stop_ = true;
    thread_.join();
    g_object_unref(socket_);
  }
  guint16 port() const { return port_; }
  size_t packets(guint8 pt) const
  {
    std::lock_guard<std::mutex> lock(lock_);
    auto it = packets_.find(pt);
    return it == packets_.end() ? 0 : it->second;
  }
  /* 20 ms packets whose decoded level is speech-like (RMS above ~-36 dBFS). */
  size_t voiced_packets(guint8 pt) const
  {
    std::lock_guard<std::mutex> lock(lock_);
    size_t voiced = 0;
    auto it = payload_.find(pt);
    if (it == payload_.end())
      return 0;
    for (const auto &p : it->second) {
      std::vector<int16_t> pcm = pt == 8 ? g711::decode_alaw(p.data(), p.size()) : g711::decode_ulaw(p.data(), p.size());
      double sum = 0;
      for (int16_t s : pcm)
        sum += (double) s * s;
      if (!pcm.empty() && std::sqrt(sum / pcm.size()) > 500.0)
        voiced++;
    }
    return voiced;
  }
  bool all_sizes(guint8 pt, size_t size) const
  {
    std::lock_guard<std::mutex> lock(lock_);
    auto it = sizes_.find(pt);
    if (it == sizes_.end())
      return false;
    for (size_t s : it->second)
      if (s != size)
        return false;
    return true;
  }

 private:
  GSocket *socket_ = nullptr;
  guint16 port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex lock_;
  std::map<guint8, size_t> packets_;
  std::map<guint8, std::vector<size_t>> sizes_;
  std::map<guint8, std::vector<std::vector<guint8>>> payload_;
};

guint16 sip_port_of(const LauncherProcess &launcher)
{
  for (const std::string &line : launcher.events("sip.listening")) {
    std::string listen = json_string(line, "listen");
    size_t colon = listen.rfind(':');
    if (colon != std::string::npos)
      return (guint16) g_ascii_strtoull(listen.c_str() + colon + 1, nullptr, 10);
  }
  return 0;
}

std::string sip_config(const std::string &sip_keys, const std::string &calls = R"({ "max_concurrent": 60 })")
{
  return std::string(R"({
    "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
    "calls": )" + calls + R"(,
    "simulator": { "reply": "Hello, I heard you. This is the voice of your agent, speaking over the phone." },
    "routes": { "sip": { "listen": "127.0.0.1:0", )" + sip_keys + R"( } }
  })";
}

/* The log line of @event for the call whose caller is @caller (via sip.invite's call id). */
std::string call_id_of(const LauncherProcess &launcher, const std::string &caller)
{
  for (const std::string &line : launcher.events("sip.invite"))
    if (json_string(line, "caller") == caller)
      return json_string(line, "call_id");
  return "";
}

bool wait_for_call_event(const LauncherProcess &launcher, const std::string &event, const std::string &call_id,
                         guint timeout_ms, std::string *line_out = nullptr)
{
  gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  do {
    for (const std::string &line : launcher.events(event)) {
      if (json_string(line, "call_id") == call_id) {
        if (line_out)
          *line_out = line;
        return true;
      }
    }
    g_usleep(50000);
  } while (g_get_monotonic_time() < deadline);
  return false;
}

class SipLauncher : public ::testing::Test {
 protected:
  static void SetUpTestSuite()
  {
    if (!have_sipp())
      return;
    gchar *dir = g_dir_make_tmp("clawvoice-sip-XXXXXX", nullptr);
    work_dir_ = new std::string(dir);
    g_free(dir);
    /* The caller's audio: the spoken question as raw μ-law, then the silence a phone keeps sending
     * (the voice's turn detection needs it to hear the question end). */
    std::string speech = *work_dir_ + "/speech.ulaw", silence = *work_dir_ + "/silence.alaw";
    std::string cmd = "sox '" + data_path("question.wav") + "' -t ul -r 8000 -c 1 '" + speech + "' pad 0.3 6";
    ASSERT_EQ(system(cmd.c_str()), 0) << cmd;
    cmd = "sox -n -t al -r 8000 -c 1 '" + silence + "' trim 0 6";
    ASSERT_EQ(system(cmd.c_str()), 0) << cmd;
    for (const char *pcap : {"g711a.pcap", "dtmf_2833_1.pcap"}) {
      cmd = std::string("cp /usr/share/sip-tester/") + pcap + " '" + *work_dir_ + "/'";
      ASSERT_EQ(system(cmd.c_str()), 0) << cmd << ": the sip-tester package ships it";
    }
    launcher_ = new LauncherProcess(sip_config(
        R"("rtp_port_min": 32000, "rtp_port_max": 32199, "rtp_timeout_seconds": 3, "answer_delay_ms": 300)"));
    ASSERT_TRUE(launcher_->started()) << launcher_->start_error();
    ASSERT_TRUE(launcher_->wait_for_event("sip.listening", 5000));
    sip_port_ = sip_port_of(*launcher_);
    ASSERT_NE(sip_port_, 0);
  }

  static void TearDownTestSuite()
  {
    if (launcher_) {
      EXPECT_EQ(launcher_->stop(), 0) << "SIGTERM ends the launcher cleanly";
      EXPECT_FALSE(launcher_->output_contains(kControlToken));
      EXPECT_FALSE(launcher_->output_contains("CRITICAL")) << "no GLib or GStreamer assertion failed";
    }
    delete launcher_;
    launcher_ = nullptr;
    if (work_dir_) {
      std::string cmd = "rm -rf '" + *work_dir_ + "'";
      (void) system(cmd.c_str());
    }
    delete work_dir_;
    work_dir_ = nullptr;
  }

  void SetUp() override
  {
    if (!have_sipp())
      GTEST_SKIP() << "sipp (Debian package sip-tester) is not installed";
    ASSERT_NE(launcher_, nullptr);
    ASSERT_TRUE(launcher_->running());
  }

  static std::unique_ptr<Sipp> sipp(const std::string &file, std::vector<std::string> args, guint16 port = 0)
  {
    return std::make_unique<Sipp>(*work_dir_, scenario(file), port ? port : sip_port_, std::move(args));
  }

  /* A call the launcher places (POST /calls): sipp is the callee, on its own port. */
  static std::string place_sip_call(const Sipp &callee, HttpAnswer *answer)
  {
    /* sipp needs a moment to bind its port: an INVITE into a closed port is an ICMP error, not a retry. */
    g_usleep(500000);
    std::string to = "sip:callee@127.0.0.1:" + std::to_string(callee.local_port());
    *answer = launcher_->post_json("/calls", kControlToken, R"({"route":"sip","to":")" + to + R"("})");
    return json_string(answer->body, "id");
  }

  static inline LauncherProcess *launcher_ = nullptr;
  static inline std::string *work_dir_ = nullptr;
  static inline guint16 sip_port_ = 0;
};

/* The count and the +Inf bucket of the launcher's inbound delay histogram (from a packet's arrival
 * to its audio leaving for the voice), and the count within 20 ms. */
struct InputDelayCounts {
  double count = 0, within_20ms = 0;
};
InputDelayCounts input_delay_counts(LauncherProcess &launcher)
{
  const std::string page = launcher.get("/metrics", kControlToken).body;
  auto value = [&](const std::string &sample) {
    size_t at = page.find("\n" + sample + " ");
    return at == std::string::npos ? -1.0 : g_ascii_strtod(page.c_str() + at + sample.size() + 2, nullptr);
  };
  return {value("clawvoice_input_delay_seconds_count"), value("clawvoice_input_delay_seconds_bucket{le=\"0.02\"}")};
}

TEST_F(SipLauncher, PcmuCallerHearsASpokenReplyAndHangsUpCleanly)
{
  const InputDelayCounts before = input_delay_counts(*launcher_);
  RtpReceiver rtp;
  auto caller = sipp("call_pcmu.xml", {"-m", "1", "-d", "9000", "-key", "rtp_port", std::to_string(rtp.port())});
  EXPECT_EQ(caller->wait(30000), 0) << caller->errors();
  std::string id = call_id_of(*launcher_, caller->caller());
  ASSERT_FALSE(id.empty());
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "reason"), "caller hung up") << ended;
  EXPECT_EQ(json_string(ended, "state"), "ended") << ended;
  EXPECT_GT(rtp.packets(0), 50u) << "the reply comes back as PCMU";
  EXPECT_TRUE(rtp.all_sizes(0, 12 + 160)) << "20 ms packets (ptime 20)";
  EXPECT_GT(rtp.voiced_packets(0), 25u) << "at least half a second of it is speech, not silence";
  /* Every caller packet's delay inside the launcher is counted, and on an idle launcher it is short. */
  const InputDelayCounts after = input_delay_counts(*launcher_);
  ASSERT_GE(before.count, 0) << "/metrics has clawvoice_input_delay_seconds";
  EXPECT_GT(after.count - before.count, 100) << "the caller's packets (9 s of audio) were counted";
  EXPECT_GE((after.within_20ms - before.within_20ms) / (after.count - before.count), 0.95)
      << "on an idle launcher nearly every packet leaves within 20 ms of its arrival";
}

TEST_F(SipLauncher, PcmaPcapCallerIsAnsweredInPcmaAndItsDigitReachesTheLog)
{
  RtpReceiver rtp;
  auto caller = sipp("call_pcma.xml", {"-m", "1", "-d", "6000", "-key", "rtp_port", std::to_string(rtp.port())});
  EXPECT_EQ(caller->wait(40000), 0) << caller->errors();
  std::string id = call_id_of(*launcher_, caller->caller());
  ASSERT_FALSE(id.empty());
  std::string dtmf;
  EXPECT_TRUE(wait_for_call_event(*launcher_, "call.dtmf", id, 3000, &dtmf));
  EXPECT_EQ(json_string(dtmf, "digit"), "1") << dtmf;
  EXPECT_EQ(rtp.packets(0), 0u) << "no PCMU in a PCMA call";
  EXPECT_GT(rtp.packets(8), 50u);
  EXPECT_GT(rtp.voiced_packets(8), 25u);
}

/* sip.launch has rtpnetsrc depayload=true and rtpnetsink; a launch file of one's own may still use
 * the stock elements (udpsrc ! rtpjitterbuffer, rtpptdemux and the depayloaders, output-selector,
 * the payloaders, valve and udpsink): the route finds and sets them by the same names. */
TEST_F(SipLauncher, ALaunchFileOfTheStockRtpElementsCarriesTheCallToo)
{
  const std::string launch = *work_dir_ + "/stock-sip.launch";
  {
    std::ofstream file(launch);
    file << "udpsrc name=rtpin caps=\"application/x-rtp,media=audio,clock-rate=8000\" ! rtpjitterbuffer latency=60 !\n"
            "  rtpptdemux name=pt\n"
            "pt.src_0 ! rtppcmudepay ! in.\n"
            "pt.src_8 ! rtppcmadepay ! in.\n"
            "funnel name=in ! realtimesink name=rt ! output-selector name=codec pad-negotiation-mode=active\n"
            "codec.src_0 ! rtppcmupay min-ptime=20000000 max-ptime=20000000 ! out.\n"
            "codec.src_1 ! rtppcmapay min-ptime=20000000 max-ptime=20000000 ! out.\n"
            "funnel name=out ! valve name=mute drop=true ! udpsink name=rtpout sync=false async=false close-socket=false\n"
            "rtpdtmfdepay name=dtmf ! fakesink sync=false async=false\n";
  }
  LauncherProcess stock(sip_config(R"("rtp_port_min": 32300, "rtp_port_max": 32399, "rtp_timeout_seconds": 3, )"
                                   R"("answer_delay_ms": 300, "launch": ")" + launch + "\""));
  ASSERT_TRUE(stock.started()) << stock.start_error();
  ASSERT_TRUE(stock.wait_for_event("sip.listening", 5000));
  const guint16 port = sip_port_of(stock);
  ASSERT_NE(port, 0);
  RtpReceiver rtp;
  auto caller = sipp("call_pcma.xml", {"-m", "1", "-d", "6000", "-key", "rtp_port", std::to_string(rtp.port())}, port);
  EXPECT_EQ(caller->wait(40000), 0) << caller->errors();
  std::string id = call_id_of(stock, caller->caller());
  ASSERT_FALSE(id.empty());
  std::string dtmf;
  EXPECT_TRUE(wait_for_call_event(stock, "call.dtmf", id, 3000, &dtmf)) << "rtpdtmfdepay's message, via pt";
  EXPECT_EQ(json_string(dtmf, "digit"), "1") << dtmf;
  EXPECT_EQ(rtp.packets(0), 0u) << "the codec selector's PCMA pad, not PCMU";
  EXPECT_GT(rtp.packets(8), 50u);
  EXPECT_GT(rtp.voiced_packets(8), 25u);
  EXPECT_TRUE(rtp.all_sizes(8, 12 + 160)) << "20 ms packets";
  EXPECT_EQ(stock.stop(), 0);
  EXPECT_FALSE(stock.output_contains("CRITICAL"));
  if (HasFailure())
    for (const std::string &line : stock.lines())
      std::cout << "launcher: " << line << "\n";
}

TEST_F(SipLauncher, CancelBeforeAnswerGets487AndEndsTheCall)
{
  auto caller = sipp("cancel.xml", {"-m", "1"});
  EXPECT_EQ(caller->wait(15000), 0) << caller->errors();
  std::string id = call_id_of(*launcher_, caller->caller());
  ASSERT_FALSE(id.empty());
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "reason"), "caller cancelled") << ended;
}

TEST_F(SipLauncher, DeleteOfTheCallSendsBye)
{
  auto caller = sipp("remote_bye.xml", {"-m", "1"});
  std::string id;
  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (id.empty() && g_get_monotonic_time() < deadline) {
    id = call_id_of(*launcher_, caller->caller());
    g_usleep(20000);
  }
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_for_call_event(*launcher_, "sip.answered", id, 5000));
  HttpAnswer answer = launcher_->del("/calls/" + id, kControlToken);
  EXPECT_LT(answer.status, 300u) << answer.body;
  EXPECT_EQ(caller->wait(15000), 0) << "sipp got our BYE and answered it: " << caller->errors();
  ASSERT_TRUE(wait_for_call_event(*launcher_, "sip.bye", id, 2000));
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 2000, &ended));
  EXPECT_EQ(json_string(ended, "reason").find("no RTP"), std::string::npos) << ended;
}

TEST_F(SipLauncher, PlacedCallRingsIsAnsweredTalksAndEndsWithOurBye)
{
  RtpReceiver rtp;
  auto callee = sipp("callee_speaks.xml", {"-m", "1", "-key", "rtp_port", std::to_string(rtp.port())});
  HttpAnswer placed;
  std::string id = place_sip_call(*callee, &placed);
  ASSERT_EQ(placed.status, 201u) << placed.body;
  ASSERT_FALSE(id.empty()) << placed.body;
  EXPECT_EQ(json_string(placed.body, "state"), "pending");
  ASSERT_TRUE(wait_for_call_event(*launcher_, "sip.ringing", id, 5000)) << callee->errors();
  std::string answered;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "sip.answered", id, 5000, &answered)) << callee->errors();
  EXPECT_EQ(json_string(answered, "codec"), "PCMU") << answered;

  /* The callee's speech reaches the voice, whose reply comes back to the callee's RTP address. */
  gint64 deadline = g_get_monotonic_time() + 25 * G_USEC_PER_SEC;
  while (rtp.voiced_packets(0) <= 25 && g_get_monotonic_time() < deadline)
    g_usleep(100000);
  EXPECT_GT(rtp.voiced_packets(0), 25u) << "the reply, as speech, in PCMU";
  EXPECT_TRUE(rtp.all_sizes(0, 12 + 160)) << "20 ms packets (ptime 20)";
  HttpAnswer call = launcher_->get("/calls/" + id, kControlToken);
  EXPECT_NE(call.body.find("\"direction\":\"outbound\""), std::string::npos) << call.body;
  EXPECT_EQ(json_string(call.body, "state"), "active") << call.body;

  HttpAnswer hangup = launcher_->del("/calls/" + id, kControlToken);
  EXPECT_LT(hangup.status, 300u) << hangup.body;
  EXPECT_EQ(callee->wait(15000), 0) << "the callee got our BYE and answered it: " << callee->errors();
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "state"), "ended") << ended;
  EXPECT_EQ(json_string(ended, "reason"), "hung up by the control API") << ended;
}

TEST_F(SipLauncher, PlacedCallToABusyCalleeFailsWithItsAnswer)
{
  auto callee = sipp("callee_busy.xml", {"-m", "1"});
  HttpAnswer placed;
  std::string id = place_sip_call(*callee, &placed);
  ASSERT_EQ(placed.status, 201u) << placed.body;
  EXPECT_EQ(callee->wait(15000), 0) << "the callee got the ACK for its 486: " << callee->errors();
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "state"), "failed") << ended;
  EXPECT_EQ(json_string(ended, "reason"), "the callee answered 486 Busy Here") << ended;
}

TEST_F(SipLauncher, HangingUpAPlacedCallWhileItRingsCancelsIt)
{
  auto callee = sipp("callee_never_answers.xml", {"-m", "1"});
  HttpAnswer placed;
  std::string id = place_sip_call(*callee, &placed);
  ASSERT_EQ(placed.status, 201u) << placed.body;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "sip.ringing", id, 5000)) << callee->errors();
  HttpAnswer hangup = launcher_->del("/calls/" + id, kControlToken);
  EXPECT_LT(hangup.status, 300u) << hangup.body;
  EXPECT_EQ(callee->wait(15000), 0) << "the callee got CANCEL, and the ACK for its 487: " << callee->errors();
  EXPECT_TRUE(wait_for_call_event(*launcher_, "sip.cancel_sent", id, 2000));
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "reason"), "hung up by the control API") << ended;
}

TEST_F(SipLauncher, PlacingACallNeedsTheTokenASipUriAndARouteThatCallsOut)
{
  const std::string to = R"("to":"sip:someone@127.0.0.1:5999")";
  EXPECT_EQ(launcher_->post_json("/calls", "", R"({"route":"sip",)" + to + "}").status, 401u);
  EXPECT_EQ(launcher_->post_json("/calls", kControlToken, "{not json").status, 400u);
  EXPECT_EQ(launcher_->post_json("/calls", kControlToken, R"({"route":"sip"})").status, 400u);
  HttpAnswer bad_uri = launcher_->post_json("/calls", kControlToken, R"({"route":"sip","to":"mailto:a@b.c"})");
  EXPECT_EQ(bad_uri.status, 400u) << bad_uri.body;
  EXPECT_NE(bad_uri.body.find("sip: URI"), std::string::npos) << bad_uri.body;
  HttpAnswer no_route = launcher_->post_json("/calls", kControlToken, R"({"route":"twilio",)" + to + "}");
  EXPECT_EQ(no_route.status, 404u) << no_route.body;
  EXPECT_EQ(launcher_->events("sip.inviting").size(), launcher_->events("call.placing").size())
      << "no INVITE for a refused request";
}

TEST_F(SipLauncher, CallerVanishingWithoutByeIsEndedByTheRtpTimeout)
{
  auto caller = sipp("vanish.xml", {"-m", "1"});
  EXPECT_EQ(caller->wait(15000), 0) << caller->errors();
  std::string id = call_id_of(*launcher_, caller->caller());
  ASSERT_FALSE(id.empty());
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 8000, &ended)) << "3 s timeout plus slack";
  EXPECT_EQ(json_string(ended, "reason"), "no RTP from the caller for 3 s") << ended;
  EXPECT_TRUE(wait_for_call_event(*launcher_, "sip.bye", id, 2000)) << "we hang up on our side too";
}

TEST_F(SipLauncher, LostAckMeansThe200IsRetransmitted)
{
  RtpReceiver rtp;
  auto caller = sipp("lost_ack.xml", {"-m", "1", "-key", "rtp_port", std::to_string(rtp.port())});
  EXPECT_EQ(caller->wait(20000), 0) << caller->errors();
  /* sipp waited 1.6 s before its ACK: the 200 must have come at 0, 0.5 and 1.5 s (T1 doubling). */
  std::string log = caller->messages();
  size_t oks = 0;
  for (size_t at = log.find("SIP/2.0 200 OK"); at != std::string::npos; at = log.find("SIP/2.0 200 OK", at + 1)) {
    size_t end = log.find("\n\n", at);
    std::string message = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (message.find("CSeq: 1 INVITE") != std::string::npos)
      oks++;
  }
  EXPECT_GE(oks, 3u) << "the 200 OK is retransmitted until the ACK arrives";
  std::string id = call_id_of(*launcher_, caller->caller());
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "reason"), "caller hung up") << "the late ACK kept the call: " << ended;
}

TEST_F(SipLauncher, HoldByReinviteIsAnsweredRecvonlyAndIsNoRtpTimeout)
{
  RtpReceiver rtp;
  auto caller = sipp("hold.xml", {"-m", "1", "-d", "4500", "-key", "rtp_port", std::to_string(rtp.port())});
  EXPECT_EQ(caller->wait(20000), 0) << caller->errors();
  std::string id = call_id_of(*launcher_, caller->caller());
  ASSERT_FALSE(id.empty());
  std::string ended;
  ASSERT_TRUE(wait_for_call_event(*launcher_, "call.ended", id, 5000, &ended));
  EXPECT_EQ(json_string(ended, "reason"), "caller hung up") << ended;
  EXPECT_FALSE(wait_for_call_event(*launcher_, "sip.rtp_timeout", id, 0));
}

TEST_F(SipLauncher, OffersWeCannotTakeGet400And488)
{
  auto caller = sipp("bad_sdp.xml", {"-m", "1"});
  EXPECT_EQ(caller->wait(15000), 0) << caller->errors();
}

TEST_F(SipLauncher, MalformedSipIsAnsweredOrDroppedAndNothingCrashes)
{
  GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any = g_inet_socket_address_new(lo, 0);
  ASSERT_TRUE(g_socket_bind(s, any, FALSE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address(s, nullptr);
  guint16 me = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  GSocketAddress *to = g_inet_socket_address_new(lo, sip_port_);
  g_socket_set_timeout(s, 2);
  auto send = [&](const std::string &text) { g_socket_send_to(s, to, text.data(), text.size(), nullptr, nullptr); };
  auto receive = [&]() {
    char buf[4096];
    gssize n = g_socket_receive(s, buf, sizeof buf - 1, nullptr, nullptr);
    return n > 0 ? std::string(buf, n) : std::string();
  };
  std::string via = "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(me) + ";branch=z9hG4bK-";
  send(std::string("\x00\xff\x13garbage\r\n\r\n", 14));
  send("NOT A SIP MESSAGE AT ALL\r\n\r\n");
  /* An INVITE with a broken CSeq and no Call-ID: a 400 (or silence), never a crash. */
  send("INVITE sip:clawvoice@127.0.0.1 SIP/2.0\r\n" + via + "bad1\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n"
       "To: <sip:clawvoice@127.0.0.1>\r\nCSeq: banana INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  std::string reply = receive();
  if (!reply.empty()) {
    EXPECT_EQ(reply.rfind("SIP/2.0 400", 0), 0u) << reply;
  }
  /* A Content-Length larger than the datagram. */
  send("INVITE sip:clawvoice@127.0.0.1 SIP/2.0\r\n" + via + "bad2\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n"
       "To: <sip:clawvoice@127.0.0.1>\r\nCall-ID: bad2@test\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
       "Content-Type: application/sdp\r\nContent-Length: 5000\r\n\r\nv=0\r\n");
  reply = receive();
  if (!reply.empty()) {
    EXPECT_EQ(reply.rfind("SIP/2.0 4", 0), 0u) << reply;
  }
  /* Still serving: OPTIONS (what trunks probe with) gets 200. */
  send("OPTIONS sip:clawvoice@127.0.0.1 SIP/2.0\r\n" + via + "opt1\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n"
       "To: <sip:clawvoice@127.0.0.1>\r\nCall-ID: opt1@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
       "Content-Length: 0\r\n\r\n");
  std::string options;
  for (int i = 0; i < 5 && options.rfind("SIP/2.0 200", 0) != 0; i++)
    options = receive();
  EXPECT_EQ(options.rfind("SIP/2.0 200", 0), 0u) << options;
  /* A BYE for a dialog that does not exist: 481. */
  send("BYE sip:clawvoice@127.0.0.1 SIP/2.0\r\n" + via + "bye1\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\n"
       "To: <sip:clawvoice@127.0.0.1>;tag=nope\r\nCall-ID: nodialog@test\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n"
       "Content-Length: 0\r\n\r\n");
  std::string bye;
  for (int i = 0; i < 5 && bye.rfind("SIP/2.0 481", 0) != 0; i++)
    bye = receive();
  EXPECT_EQ(bye.rfind("SIP/2.0 481", 0), 0u) << bye;
  EXPECT_TRUE(launcher_->running());
  g_object_unref(to);
  g_object_unref(bound);
  g_object_unref(any);
  g_object_unref(lo);
  g_object_unref(s);
}

TEST_F(SipLauncher, FiftySimultaneousCallsComplete)
{
  RtpReceiver rtp;
  auto callers = sipp("call_pcmu.xml", {"-m", "50", "-l", "50", "-r", "25", "-d", "7000", "-key", "rtp_port",
                                        std::to_string(rtp.port())});
  EXPECT_EQ(callers->wait(60000), 0) << callers->errors();
  EXPECT_GT(rtp.voiced_packets(0), 50u * 10) << "replies came back on the calls";
}

/* The launcher's resident memory in kB (VmRSS). */
long rss_kb(GPid pid)
{
  gchar *status = nullptr;
  long kb = -1;
  if (g_file_get_contents(("/proc/" + std::to_string(pid) + "/status").c_str(), &status, nullptr, nullptr)) {
    const char *at = strstr(status, "VmRSS:");
    if (at)
      kb = strtol(at + 6, nullptr, 10);
    g_free(status);
  }
  return kb;
}

/* Trunks probe with OPTIONS every few seconds for as long as the launcher runs; nua makes a handle
 * for each, which is ours to destroy (a leaked one is ~1.6 kB: 2000 probes, +3.3 MB). Each probe's
 * server transaction rightly stays 64·T1 = 32 s to absorb retransmissions, so: 2000 probes, 33 s
 * for their transactions to go, then 2000 more, which must fit in the memory the first ones freed. */
TEST_F(SipLauncher, ManyOptionsProbesLeaveTheMemoryFlat)
{
  LauncherProcess probed(sip_config(R"("rtp_timeout_seconds": 20)"));
  ASSERT_TRUE(probed.started()) << probed.start_error();
  ASSERT_TRUE(probed.wait_for_event("sip.listening", 5000));
  GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *any = g_inet_socket_address_new(lo, 0);
  ASSERT_TRUE(g_socket_bind(s, any, FALSE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address(s, nullptr);
  const std::string me = std::to_string(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
  GSocketAddress *to = g_inet_socket_address_new(lo, sip_port_of(probed));
  g_socket_set_timeout(s, 2);
  size_t answered = 0;
  auto probe = [&](int from, int count) {
    for (int i = from; i < from + count; i++) {
      const std::string n = std::to_string(i);
      const std::string request = "OPTIONS sip:clawvoice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + me +
          ";branch=z9hG4bK-probe" + n + "\r\nFrom: <sip:probe@127.0.0.1>;tag=p" + n +
          "\r\nTo: <sip:clawvoice@127.0.0.1>\r\nCall-ID: probe" + n + "@test\r\nCSeq: 1 OPTIONS\r\n"
          "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
      g_socket_send_to(s, to, request.data(), request.size(), nullptr, nullptr);
      char buf[4096];
      gssize got = g_socket_receive(s, buf, sizeof buf, nullptr, nullptr);
      answered += got > 11 && std::string(buf, 11) == "SIP/2.0 200";
    }
  };
  probe(0, 2000);
  g_usleep(33 * G_USEC_PER_SEC);   /* Timer J: the first probes' transactions are freed */
  const long before = rss_kb(probed.pid());
  probe(2000, 2000);
  const long after = rss_kb(probed.pid());
  EXPECT_EQ(answered, 4000u) << "every probe gets 200 OK";
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 1536) << "2000 more probes grew the launcher from " << before << " kB to " << after << " kB";
  EXPECT_TRUE(probed.running());
  g_object_unref(to);
  g_object_unref(bound);
  g_object_unref(any);
  g_object_unref(lo);
  g_object_unref(s);
}

TEST_F(SipLauncher, OfferedSessionTimerIsConfirmedInThe200)
{
  auto caller = sipp("session_timer.xml", {"-m", "1"});
  EXPECT_EQ(caller->wait(15000), 0) << "Session-Expires: 120;refresher=uac and Require: timer in the 200: "
                                    << caller->errors() << caller->messages();
}

TEST_F(SipLauncher, SessionTimerBelowTheMinimumGets422WithMinSE)
{
  auto caller = sipp("session_timer_too_small.xml", {"-m", "1"});
  EXPECT_EQ(caller->wait(15000), 0) << caller->errors() << caller->messages();
}

/* Other launchers: who may call, and the concurrency limit. */
TEST_F(SipLauncher, PublicAddressIsInTheContactAndTheSdp)
{
  LauncherProcess natted(sip_config(R"("public_address": "192.0.2.10", "rtp_timeout_seconds": 20)"));
  ASSERT_TRUE(natted.started()) << natted.start_error();
  ASSERT_TRUE(natted.wait_for_event("sip.listening", 5000));
  auto caller = sipp("public_address.xml", {"-m", "1"}, sip_port_of(natted));
  EXPECT_EQ(caller->wait(15000), 0) << caller->errors() << caller->messages();
  std::vector<std::string> listening = natted.events("sip.listening");
  ASSERT_FALSE(listening.empty());
  EXPECT_EQ(json_string(listening[0], "contact").find("sip:clawvoice@192.0.2.10:"), 0u) << listening[0];
}

TEST_F(SipLauncher, CallerOutsideTheAllowlistGets403)
{
  LauncherProcess restricted(sip_config(R"("allow": ["10.0.0.0/8", "192.0.2.7"])"));
  ASSERT_TRUE(restricted.started()) << restricted.start_error();
  ASSERT_TRUE(restricted.wait_for_event("sip.listening", 5000));
  auto caller = sipp("forbidden.xml", {"-m", "1"}, sip_port_of(restricted));
  EXPECT_EQ(caller->wait(15000), 0) << caller->errors();
  EXPECT_TRUE(restricted.wait_for_event("sip.refused", 2000));
  EXPECT_TRUE(restricted.events("call.created").empty());
}

TEST_F(SipLauncher, DigestUsersAreChallengedWrongPasswordsRefusedAndTheBusyGet486)
{
  LauncherProcess guarded(sip_config(std::string(R"("realm": "clawvoice-test", "users": { "alice": ")") + kPassword +
                                     R"(" }, "rtp_timeout_seconds": 20)", R"({ "max_concurrent": 1 })"));
  ASSERT_TRUE(guarded.started()) << guarded.start_error();
  ASSERT_TRUE(guarded.wait_for_event("sip.listening", 5000));
  guint16 port = sip_port_of(guarded);
  auto wrong = sipp("auth_refused.xml", {"-m", "1", "-au", "alice", "-ap", "not-the-password"}, port);
  EXPECT_EQ(wrong->wait(15000), 0) << "401, then 403: " << wrong->errors();
  auto nobody = sipp("auth_refused.xml", {"-m", "1", "-au", "mallory", "-ap", kPassword}, port);
  EXPECT_EQ(nobody->wait(15000), 0) << "401, then 403: " << nobody->errors();

  RtpReceiver rtp;
  auto alice = sipp("auth_ok.xml", {"-m", "1", "-d", "5000", "-au", "alice", "-ap", kPassword, "-key", "rtp_port",
                                    std::to_string(rtp.port())}, port);
  ASSERT_TRUE(guarded.wait_for_event("sip.answered", 10000));
  auto second = sipp("auth_busy.xml", {"-m", "1", "-au", "alice", "-ap", kPassword}, port);
  EXPECT_EQ(second->wait(15000), 0) << "401, then 486 Busy Here: " << second->errors();
  EXPECT_EQ(alice->wait(20000), 0) << alice->errors();
  std::vector<std::string> created = guarded.events("call.created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(json_string(created[0], "caller"), "alice") << "the digest user is the caller";
  EXPECT_EQ(guarded.stop(), 0);
  EXPECT_FALSE(guarded.output_contains(kPassword)) << "passwords are never logged";
}

}  // namespace
}  // namespace clawvoice::test::launcher
