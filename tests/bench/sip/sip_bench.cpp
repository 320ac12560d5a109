/* clawvoice — SIP path benchmark: N simultaneous SIP calls through the real launcher.
 *
 *   sip-bench                   N = 50, 100, 200
 *   sip-bench 10 20             other call counts
 *   sip-bench --window 20       seconds measured per N (default 12)
 *
 * For each N: a fresh clawvoice-launcher process (pipelines/sip.launch: rtpnetsrc (the socket read
 * and put in order on the call's network thread) → depayloader → realtimesink → payloader → udpsink,
 * μ-law untouched) on 127.0.0.1, whose backend is
 * the Realtime simulator running in this process. sipp places the N calls (tests/bench/sip/
 * bench_call.xml: INVITE with a PCMU offer, ACK, then it waits for our BYE); every offer names ONE
 * UDP socket of this process as the caller's media address. This process is the callers' RTP: a
 * sender thread speaks tests/data/question.wav into every call in 20 ms packets on a real-time
 * schedule (then silence, as a phone does), a receiver thread timestamps every reply packet (the
 * launcher sends from each call's own port: symmetric RTP tells the calls apart). Figures as in
 * twilio-bench (README.md here); prints figures, exits non-zero only when it could not run. */
#include <gio/gio.h>
#include <glib.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "call_report.h"
#include "common/g711.h"
#include "launcher_process.h"
#include "mulaw_audio.h"
#include "bench_args.h"
#include "process_sample.h"
#include "realtime_simulator.h"

using namespace clawvoice;
using clawvoice::bench::ProcessSample;
using clawvoice::bench::load_average;
using clawvoice::bench::prometheus_histogram;
using clawvoice::bench::prometheus_value;
using clawvoice::bench::PrometheusHistogram;
using clawvoice::bench::sample_process;
using clawvoice::test::launcher::LauncherProcess;
using clawvoice::test::launcher::free_udp_port;
using clawvoice::test::launcher::json_string;
using clawvoice::test::twilio_emu::Percentiles;
using clawvoice::test::twilio_emu::percentiles;

namespace {

const char kControlToken[] = "bench-control-token-5ip0123456789";
const char kSimKey[] = "sk-bench-sip";
const char kReply[] =
    "Thank you for calling. This is a long answer so that the reply keeps playing for the whole "
    "measured window: the weather is mild, the sea is calm, the trains run on time, and the baker "
    "by the river opens at seven every morning except on Sundays and public holidays. The library "
    "on the square lends books, records and tools, the market sells fish on Fridays, and the ferry "
    "to the island leaves every hour from the old harbour, weather permitting, until late evening. "
    "In the summer a second ferry runs at the half hours, the museum stays open until nine on "
    "Thursdays, the swimming pool by the park opens its outdoor basin, and the orchestra plays in "
    "the bandstand on Sunday afternoons; in the winter the skating rink on the square is flooded "
    "as soon as the nights freeze, the market moves into the old hall, and the ferry runs only "
    "until six, so the last bus back from the harbour leaves a little after seven in the evening.";
const gint64 kPacketUs = 20000;

/* Sum of the second field of /proc/PID/task/TID/schedstat: how long the process's threads waited
 * for a CPU. On a shared machine this says whether delays are the launcher's work or its turn. */
double runqueue_wait_s(GPid pid)
{
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  GDir *tasks = g_dir_open(dir.c_str(), 0, nullptr);
  if (!tasks)
    return 0;
  double ns = 0;
  while (const char *tid = g_dir_read_name(tasks)) {
    gchar *text = nullptr;
    if (g_file_get_contents((dir + "/" + tid + "/schedstat").c_str(), &text, nullptr, nullptr)) {
      gchar **f = g_strsplit(text, " ", 3);
      if (g_strv_length(f) >= 2)
        ns += g_ascii_strtod(f[1], nullptr);
      g_strfreev(f);
      g_free(text);
    }
  }
  g_dir_close(tasks);
  return ns / 1e9;
}

/* A log line's numeric member @key (json_string() reads strings only); 0 if absent. */
guint16 json_port(const std::string &line, const std::string &key)
{
  size_t at = line.find("\"" + key + "\":");
  return at == std::string::npos ? 0 : (guint16) g_ascii_strtoull(line.c_str() + at + key.size() + 3, nullptr, 10);
}

/* One reply packet as it arrived. */
struct Arrival {
  gint64 time_us;
  guint16 seq;
  guint32 ts;
  bool marker, voiced;
};

/* One call's RTP, seen from the caller. */
struct Peer {
  guint16 launcher_port = 0;   /* where the call's RTP goes and comes from */
  gint64 next_due_us = 0;      /* the sender's schedule */
  guint32 sent = 0;
  std::vector<gint64> sent_us;       /* sender thread only until the run ends */
  std::vector<Arrival> arrivals;     /* receiver thread only until the run ends */
  std::atomic<size_t> voiced{0};
};

/* The callers' media: one socket, a sender and a receiver thread. */
class RtpPeers {
 public:
  RtpPeers(const std::vector<guint8> &speech) : speech_(speech)
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
    int size = 8 << 20;   /* 200 calls × 50 packets/s: no drops in our own buffers */
    setsockopt(g_socket_get_fd(socket_), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(g_socket_get_fd(socket_), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    g_socket_set_timeout(socket_, 1);
    for (auto &slot : by_port_)
      slot.store(-1);
    receiver_ = std::thread([this]() { receive_loop(); });
    sender_ = std::thread([this]() { send_loop(); });
  }
  ~RtpPeers()
  {
    stop();
    g_object_unref(socket_);
  }

  guint16 port() const { return port_; }

  /* A call was answered: start speaking to @launcher_port at the next free phase. */
  void add(guint16 launcher_port, gint64 start_us)
  {
    std::lock_guard<std::mutex> lock(lock_);
    auto peer = std::make_unique<Peer>();
    peer->launcher_port = launcher_port;
    peer->next_due_us = start_us;
    peer->sent_us.reserve(4096);
    peer->arrivals.reserve(4096);
    by_port_[launcher_port].store((int) peers_.size());
    peers_.push_back(std::move(peer));
    count_.store(peers_.size());
  }

  size_t size() const { return count_.load(); }
  size_t voiced_calls() const
  {
    size_t n = 0;
    for (size_t i = 0; i < count_.load(); i++)
      n += peers_[i]->voiced.load() > 0;
    return n;
  }

  void stop()
  {
    if (stopping_.exchange(true))
      return;
    sender_.join();
    receiver_.join();
  }

  /* After stop(). */
  const std::vector<std::unique_ptr<Peer>> &peers() const { return peers_; }
  guint64 sender_late_over_5ms() const { return late_over_5ms_; }
  double sender_max_late_ms() const { return max_late_us_ / 1000.0; }
  bool realtime() const { return realtime_; }

 private:
  void send_loop()
  {
    /* SCHED_FIFO when allowed, so the callers' clock does not suffer from the launcher's load. */
    sched_param param{};
    param.sched_priority = 10;
    realtime_ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0;
    /* The packets due in one pass (calls share twenty 1 ms phases) leave in one sendmmsg(): the
     * callers are the harness, and their syscalls would otherwise take a tenth of the machine
     * from the launcher being measured. */
    constexpr size_t kBatch = 64;
    std::vector<std::array<guint8, 12 + 160>> packets(kBatch);
    std::vector<sockaddr_in> to(kBatch);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> messages(kBatch);
    std::vector<Peer *> batch_peers(kBatch);
    std::vector<gint64> batch_due(kBatch);
    size_t queued = 0;
    auto flush = [&]() {
      if (queued == 0)
        return;
      for (size_t sent = 0; sent < queued;) {
        int n = sendmmsg(g_socket_get_fd(socket_), messages.data() + sent, (unsigned) (queued - sent), 0);
        if (n <= 0)
          break;   /* a full buffer: those are lost, as on a network */
        sent += (size_t) n;
      }
      const gint64 now = g_get_monotonic_time();
      for (size_t m = 0; m < queued; m++) {
        Peer *peer = batch_peers[m];
        const gint64 late = now - batch_due[m];
        if (late > 5000)
          late_over_5ms_++;
        max_late_us_ = std::max(max_late_us_, late);
        peer->sent_us.push_back(now);
      }
      queued = 0;
    };
    while (!stopping_) {
      const gint64 now = g_get_monotonic_time();
      gint64 next = now + 1000;
      size_t n = count_.load();
      for (size_t i = 0; i < n; i++) {
        Peer *peer;
        {
          std::lock_guard<std::mutex> lock(lock_);
          peer = peers_[i].get();
        }
        while (peer->next_due_us <= now) {
          if (queued == kBatch)
            flush();
          const size_t k = peer->sent;
          const size_t offset = k * 160;
          guint8 *packet = packets[queued].data();
          packet[0] = 0x80;
          packet[1] = (k == 0 ? 0x80 : 0) | 0;   /* marker on the first packet; PT 0 (PCMU) */
          packet[2] = (guint8) (k >> 8);
          packet[3] = (guint8) k;
          const guint32 ts = (guint32) (k * 160);
          packet[4] = ts >> 24; packet[5] = ts >> 16; packet[6] = ts >> 8; packet[7] = ts;
          const guint32 ssrc = 0x5eed0000u + (guint32) i;
          packet[8] = ssrc >> 24; packet[9] = ssrc >> 16; packet[10] = ssrc >> 8; packet[11] = ssrc;
          for (size_t b = 0; b < 160; b++)
            packet[12 + b] = offset + b < speech_.size() ? speech_[offset + b] : 0xff;   /* then μ-law silence */
          to[queued] = sockaddr_in{};
          to[queued].sin_family = AF_INET;
          to[queued].sin_port = htons(peer->launcher_port);
          to[queued].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          iov[queued] = iovec{packet, 12 + 160};
          messages[queued] = mmsghdr{};
          messages[queued].msg_hdr.msg_name = &to[queued];
          messages[queued].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          messages[queued].msg_hdr.msg_iov = &iov[queued];
          messages[queued].msg_hdr.msg_iovlen = 1;
          batch_peers[queued] = peer;
          batch_due[queued] = peer->next_due_us;
          queued++;
          peer->sent++;
          peer->next_due_us += kPacketUs;
        }
        next = std::min(next, peer->next_due_us);
      }
      flush();
      const gint64 wait = next - g_get_monotonic_time();
      if (wait > 0)
        g_usleep(std::min<gint64>(wait, 1000));
    }
  }

  void receive_loop()
  {
    /* recvmmsg() into fixed buffers: no address object per packet, one syscall per burst. */
    constexpr size_t kBatch = 64;
    std::vector<std::array<guint8, 2048>> bufs(kBatch);
    std::vector<sockaddr_in> from(kBatch);
    std::vector<iovec> iov(kBatch);
    std::vector<mmsghdr> messages(kBatch);
    const int fd = g_socket_get_fd(socket_);
    while (!stopping_) {
      pollfd readable{fd, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0)
        continue;
      for (size_t m = 0; m < kBatch; m++) {
        iov[m] = iovec{bufs[m].data(), bufs[m].size()};
        messages[m] = mmsghdr{};
        messages[m].msg_hdr.msg_name = &from[m];
        messages[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        messages[m].msg_hdr.msg_iov = &iov[m];
        messages[m].msg_hdr.msg_iovlen = 1;
      }
      int got = recvmmsg(fd, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
      const gint64 now = g_get_monotonic_time();
      for (int m = 0; m < got; m++) {
        const guint8 *buf = bufs[m].data();
        const size_t n = messages[m].msg_len;
        if (n < 12)
          continue;
        const guint16 port = ntohs(from[m].sin_port);
        int index = by_port_[port].load();
        if (index < 0 || (buf[1] & 0x7f) != 0)
          continue;   /* not a call's PCMU */
        Peer *peer;
        {
          std::lock_guard<std::mutex> lock(lock_);
          peer = peers_[index].get();
        }
        std::vector<int16_t> pcm = g711::decode_ulaw(buf + 12, n - 12);
        double sum = 0;
        for (int16_t s : pcm)
          sum += (double) s * s;
        const bool voiced = !pcm.empty() && std::sqrt(sum / pcm.size()) > 500.0;   /* ~-36 dBFS */
        peer->arrivals.push_back(Arrival{now, (guint16) ((buf[2] << 8) | buf[3]),
                                         (guint32) ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]),
                                         (buf[1] & 0x80) != 0, voiced});
        if (voiced)
          peer->voiced++;
      }
    }
  }

  const std::vector<guint8> &speech_;
  GSocket *socket_ = nullptr;
  guint16 port_ = 0;
  std::mutex lock_;   /* peers_ (the vector; each Peer's fields belong to one thread) */
  std::vector<std::unique_ptr<Peer>> peers_;
  std::atomic<size_t> count_{0};
  std::array<std::atomic<int>, 65536> by_port_;
  std::atomic<bool> stopping_{false};
  std::thread sender_, receiver_;
  guint64 late_over_5ms_ = 0;
  gint64 max_late_us_ = 0;
  bool realtime_ = false;
};

/* sipp placing the calls; killed by its pid. */
class Sipp {
 public:
  Sipp(const std::string &work_dir, guint16 sip_port, guint16 rtp_port, size_t calls)
  {
    std::string rate = std::to_string(std::min<size_t>(50, calls));
    std::vector<std::string> argv = {"sipp", "-sf", CLAWVOICE_SIP_BENCH_SCENARIO, "127.0.0.1:" + std::to_string(sip_port),
        "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-m", std::to_string(calls), "-l",
        std::to_string(calls), "-r", rate, "-key", "rtp_port", std::to_string(rtp_port), "-nostdin",
        "-trace_err", "-error_file", work_dir + "/sipp.err", "-max_socket", "1024"};
    std::vector<char *> cargv;
    for (std::string &a : argv)
      cargv.push_back(a.data());
    cargv.push_back(nullptr);
    GError *error = nullptr;
    if (!g_spawn_async(work_dir.c_str(), cargv.data(), nullptr,
                       GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                   G_SPAWN_STDERR_TO_DEV_NULL),
                       nullptr, nullptr, &pid_, &error)) {
      error_ = error->message;
      g_error_free(error);
      pid_ = 0;
    }
  }
  ~Sipp() { wait(0); }
  bool started() const { return pid_ != 0; }
  const std::string &error() const { return error_; }
  /* Its exit status, or -1 when it had to be killed after @timeout_ms. */
  int wait(guint timeout_ms)
  {
    if (!pid_)
      return -2;
    if (exited_)
      return status_;
    const gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    do {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return status_;
      }
      g_usleep(20000);
    } while (g_get_monotonic_time() < deadline);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    exited_ = true;
    status_ = -1;
    return -1;
  }

 private:
  GPid pid_ = 0;
  bool exited_ = false;
  int status_ = -1;
  std::string error_;
};

struct Row {
  size_t calls = 0, answered = 0;
  double cpu_pct_per_call = 0, cpu_pct_total = 0, wait_pct = 0;
  double rss_idle_mb = 0, rss_mb = 0, mb_per_call = 0;
  int threads = 0;
  guint64 out_packets = 0, out_lost = 0, out_late = 0;
  gint64 in_lost = 0;
  double dropped_frames = 0;
  double heard_s_per_call = 0;
  Percentiles in_delay, out_delay, out_jitter;
  /* Inside the launcher (its clawvoice_input_delay_seconds histogram over the window): from a
   * packet's arrival (the kernel's receive time) to its audio leaving for the voice. */
  double launcher_in_p50_ms = -1, launcher_in_p99_ms = -1, launcher_in_within_20ms = 0, launcher_in_count = 0;
  double warmup_s = 0;
  int sipp_status = 0;
  guint64 sender_late = 0;
  double sender_max_late_ms = 0;
  bool sender_realtime = false;
  std::string load;
};

Row run(sim::RealtimeSimulator &simulator, const std::vector<guint8> &speech, size_t n, double window_s,
        std::string *error)
{
  Row row;
  row.calls = n;
  const guint16 rtp_min = 42000;
  LauncherProcess launcher(std::string(R"({
    "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
    "calls": { "max_concurrent": )" + std::to_string(n + 10) + R"( },
    "realtime": { "backend": "openai", "url": ")" + simulator.url() + R"(", "api_key": ")" + kSimKey + R"(" },
    "routes": { "sip": { "listen": "127.0.0.1:0", "rtp_port_min": )" + std::to_string(rtp_min) +
      R"(, "rtp_port_max": )" + std::to_string(rtp_min + 2 * n + 200) + R"(, "rtp_timeout_seconds": 60,
      "answer_delay_ms": 0 } }
  })");
  if (!launcher.started() || !launcher.wait_for_event("sip.listening", 5000)) {
    *error = launcher.started() ? "the launcher did not log sip.listening" : launcher.start_error();
    return row;
  }
  guint16 sip_port = 0;
  for (const std::string &line : launcher.events("sip.listening")) {
    std::string listen = json_string(line, "listen");
    sip_port = (guint16) g_ascii_strtoull(listen.c_str() + listen.rfind(':') + 1, nullptr, 10);
  }
  g_usleep(500000);
  const ProcessSample idle = sample_process(launcher.pid());
  row.rss_idle_mb = idle.rss_mb;

  gchar *dir = g_dir_make_tmp("clawvoice-sip-bench-XXXXXX", nullptr);
  std::string work_dir = dir;
  g_free(dir);

  const int64_t sim_base_ms = simulator.input_audio_ms();   /* the simulator outlives each run */
  RtpPeers peers(speech);
  Sipp sipp(work_dir, sip_port, peers.port(), n);
  if (!sipp.started()) {
    *error = "sipp: " + sipp.error();
    return row;
  }

  /* Setup: each answered call (sip.answered, its port from sip.invite) gets the caller's audio,
   * phases spread over the 20 ms period so packets do not all leave at once. */
  std::set<std::string> answered;
  const gint64 setup_deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (answered.size() < n && g_get_monotonic_time() < setup_deadline) {
    std::map<std::string, guint16> ports;
    for (const std::string &line : launcher.events("sip.invite"))
      ports[json_string(line, "call_id")] = json_port(line, "rtp_port");
    for (const std::string &line : launcher.events("sip.answered")) {
      std::string id = json_string(line, "call_id");
      if (answered.count(id) || !ports[id])
        continue;
      answered.insert(id);
      const gint64 phase = (gint64) (answered.size() * 7919 % 20) * 1000;
      peers.add(ports[id], g_get_monotonic_time() + 1000 + phase);
    }
    if (answered.size() < n)
      g_usleep(100000);
  }
  row.answered = answered.size();

  /* Warm-up: the question is spoken (4.3 s), then the replies start. The simulator synthesises
   * each call's reply (espeak-ng, one at a time, in this process) before it speaks: wait until
   * EVERY call hears speech (at most 90 s), so that no synthesis competes with the window and all
   * calls have audio both ways; then one more second. The reply lasts about a minute. */
  const gint64 warm_start = g_get_monotonic_time();
  g_usleep(5 * G_USEC_PER_SEC);
  while (g_get_monotonic_time() - warm_start < 90 * G_USEC_PER_SEC && peers.voiced_calls() < peers.size())
    g_usleep(200000);
  g_usleep(G_USEC_PER_SEC);
  row.warmup_s = (g_get_monotonic_time() - warm_start) / 1e6;

  const PrometheusHistogram launcher_in_begin =
      prometheus_histogram(launcher.get("/metrics", kControlToken).body, "clawvoice_input_delay_seconds");
  const ProcessSample begin = sample_process(launcher.pid());
  const double wait_begin_s = runqueue_wait_s(launcher.pid());
  const gint64 window_start = g_get_monotonic_time();
  const gint64 window_end = window_start + (gint64) (window_s * G_USEC_PER_SEC);
  std::vector<std::pair<gint64, int64_t>> received;   /* (time, simulator's input ms), every 2 ms */
  while (g_get_monotonic_time() < window_end) {
    received.emplace_back(g_get_monotonic_time(), simulator.input_audio_ms());
    g_usleep(2000);
  }
  const ProcessSample end = sample_process(launcher.pid());
  const double wait_end_s = runqueue_wait_s(launcher.pid());
  const PrometheusHistogram launcher_in =
      prometheus_histogram(launcher.get("/metrics", kControlToken).body, "clawvoice_input_delay_seconds")
          .since(launcher_in_begin);
  row.launcher_in_count = launcher_in.count();
  row.launcher_in_p50_ms = launcher_in.percentile(50) * 1000;
  row.launcher_in_p99_ms = launcher_in.percentile(99) * 1000;
  row.launcher_in_within_20ms = launcher_in.share_at_most(0.020) * 100;
  const double wall_s = (g_get_monotonic_time() - window_start) / 1e6;
  row.load = load_average();
  peers.stop();
  g_usleep(300000);   /* what is in flight reaches the simulator */
  const int64_t received_total_ms = simulator.input_audio_ms() - sim_base_ms;
  std::string page = launcher.get("/metrics", kControlToken).body;
  row.dropped_frames = prometheus_value(page, "clawvoice_audio_frames_dropped_total");

  /* Inbound: the k-th caller packet sent (all calls, in send order) against the instant the
   * simulator had received k packets' worth of audio. */
  std::vector<gint64> sent_times;
  guint64 sent_total = 0;
  for (const auto &p : peers.peers()) {
    sent_times.insert(sent_times.end(), p->sent_us.begin(), p->sent_us.end());
    sent_total += p->sent_us.size();
  }
  std::sort(sent_times.begin(), sent_times.end());
  std::vector<double> in_delay;
  for (size_t k = 1; k < received.size(); k++) {
    if (received[k].second == received[k - 1].second)
      continue;   /* only the instants where more audio had just arrived */
    const int64_t frames = (received[k].second - sim_base_ms) / 20;
    if (frames <= 0 || (size_t) frames > sent_times.size())
      continue;
    in_delay.push_back((received[k].first - sent_times[frames - 1]) / 1000.0);
  }
  row.in_delay = percentiles(in_delay);
  row.in_lost = (gint64) sent_total - received_total_ms / 20;

  /* Outbound, per call, for packets arriving in the window: a run is consecutive packets (no
   * marker, timestamps advancing with the sequence numbers, < 200 ms apart); each packet's
   * real-time schedule is its RTP timestamp from the run's most punctual packet, so "delay" is how
   * late it came against playing the run in real time. Sequence gaps are lost packets. */
  std::vector<double> out_delay, jitter;
  guint64 heard = 0;
  for (const auto &p : peers.peers()) {
    const auto &a = p->arrivals;
    size_t run_begin = 0;
    for (size_t k = 0; k <= a.size(); k++) {
      bool run_ends = k == a.size();
      if (!run_ends && k > run_begin) {
        const Arrival &prev = a[k - 1], &cur = a[k];
        const guint16 dseq = (guint16) (cur.seq - prev.seq);
        run_ends = cur.marker || dseq == 0 || dseq > 100 || cur.ts - prev.ts != 160u * dseq ||
                   cur.time_us - prev.time_us > 200000;
      }
      if (!run_ends)
        continue;
      /* [run_begin, k) is one run */
      double base = 1e18;
      for (size_t j = run_begin; j < k; j++)
        base = std::min(base, a[j].time_us - (a[j].ts - a[run_begin].ts) / 8.0 * 1000.0);
      for (size_t j = run_begin; j < k; j++) {
        if (a[j].time_us < window_start || a[j].time_us >= window_end)
          continue;
        const double late_ms = (a[j].time_us - (base + (a[j].ts - a[run_begin].ts) / 8.0 * 1000.0)) / 1000.0;
        out_delay.push_back(late_ms);
        row.out_packets++;
        row.out_late += late_ms > 20.0;
        heard += a[j].voiced;
        if (j > run_begin) {
          const guint16 dseq = (guint16) (a[j].seq - a[j - 1].seq);
          row.out_lost += dseq - 1;
          jitter.push_back(std::fabs((a[j].time_us - a[j - 1].time_us) / 1000.0 - 20.0 * dseq));
        }
      }
      run_begin = k;
    }
  }
  row.out_delay = percentiles(out_delay);
  row.out_jitter = percentiles(jitter);
  const double live = std::max<size_t>(1, peers.size());
  row.heard_s_per_call = heard * 0.020 / live;
  row.cpu_pct_total = (end.cpu_s - begin.cpu_s) / wall_s * 100.0;
  row.cpu_pct_per_call = row.cpu_pct_total / live;
  row.wait_pct = (wait_end_s - wait_begin_s) / wall_s * 100.0;
  row.rss_mb = end.rss_mb;
  row.mb_per_call = (end.rss_mb - idle.rss_mb) / live;
  row.threads = end.threads;
  row.sender_late = peers.sender_late_over_5ms();
  row.sender_max_late_ms = peers.sender_max_late_ms();
  row.sender_realtime = peers.realtime();

  if (row.out_packets == 0 || row.answered < n) {
    /* Something is wrong with the calls themselves: say what the launcher said. */
    size_t shown = 0;
    for (const std::string &line : launcher.lines())
      if ((line.find("\"level\":\"error\"") != std::string::npos || line.find("\"level\":\"warning\"") != std::string::npos ||
           line.find("call.ended") != std::string::npos) && shown++ < 8)
        std::fprintf(stderr, "sip-bench: launcher: %s\n", line.c_str());
  }
  launcher.stop(15000);   /* its BYEs end sipp's calls */
  row.sipp_status = sipp.wait(10000);
  std::string cmd = "rm -rf '" + work_dir + "'";
  (void) system(cmd.c_str());
  return row;
}

}  // namespace

int main(int argc, char **argv)
{
  bench::BenchArgs args;
  int code = bench::parse_bench_args(argc, argv,
      {"sip-bench", 12, 600, {50, 100, 200}, 1000}, &args);
  if (code >= 0)
    return code;
  const double window_s = args.window_s;
  const std::vector<size_t> counts = args.counts;
  gchar *sipp = g_find_program_in_path("sipp");
  g_free(sipp);
  if (!sipp) {
    std::fprintf(stderr, "sip-bench: sipp (Debian package sip-tester) is not installed\n");
    return 1;
  }

  std::vector<guint8> question;
  std::string error;
  if (!test::twilio_emu::load_wav_as_mulaw(test::launcher::data_path("question.wav"), &question, &error)) {
    std::fprintf(stderr, "sip-bench: %s\n", error.c_str());
    return 1;
  }
  sim::Options options;
  options.api_key = kSimKey;
  options.tool_calls = false;
  options.reply_text = kReply;
  options.response_delay_ms = 0;
  options.keep_received_events = false;   /* every caller frame's text: nobody reads them */
  sim::RealtimeSimulator simulator(options);
  if (!simulator.start(&error)) {
    std::fprintf(stderr, "sip-bench: simulator: %s\n", error.c_str());
    return 1;
  }

  std::printf("sip-bench: launcher %s, window %.0f s, callers speak question.wav then silence over RTP (PCMU)\n",
              test::launcher::launcher_binary().c_str(), window_s);
  std::printf("%6s %6s %9s %8s %7s %8s %8s %5s %7s %7s %7s %7s %8s %8s %8s %8s %8s %6s  %s\n", "calls", "answ",
              "CPU%/call", "CPU%tot", "wait%", "RSS MB", "MB/call", "thr", "in lost", "out pk", "o lost", "o late",
              "in p50", "in p99", "out p50", "out p99", "jit p99", "heard", "load 1/5/15");
  for (size_t n : counts) {
    Row row = run(simulator, question, n, window_s, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "sip-bench: N=%zu: %s\n", n, error.c_str());
      return 1;
    }
    std::printf("%6zu %6zu %9.3f %8.1f %7.1f %8.1f %8.2f %5d %7lld %7llu %7llu %7llu %8.1f %8.1f %8.1f %8.1f %8.1f %6.1f  %s\n",
                row.calls, row.answered, row.cpu_pct_per_call, row.cpu_pct_total, row.wait_pct, row.rss_mb, row.mb_per_call,
                row.threads, (long long) row.in_lost, (unsigned long long) row.out_packets,
                (unsigned long long) row.out_lost, (unsigned long long) row.out_late, row.in_delay.p50,
                row.in_delay.p99, row.out_delay.p50, row.out_delay.p99, row.out_jitter.p99, row.heard_s_per_call,
                row.load.c_str());
    std::printf("       (warm-up %.1f s; idle RSS %.1f MB; launcher dropped %.0f frames; in max %.1f ms, out max %.1f ms; "
                "callers' sender: %llu packets >5 ms late, worst %.1f ms%s; sipp exit %d)\n",
                row.warmup_s, row.rss_idle_mb, row.dropped_frames, row.in_delay.max, row.out_delay.max,
                (unsigned long long) row.sender_late, row.sender_max_late_ms,
                row.sender_realtime ? ", SCHED_FIFO" : "", row.sipp_status);
    std::printf("       (inside the launcher, a packet's arrival to its audio leaving for the voice: p50 %.1f ms, "
                "p99 %.1f ms, %.2f %% within 20 ms, of %.0f packets)\n",
                row.launcher_in_p50_ms, row.launcher_in_p99_ms, row.launcher_in_within_20ms, row.launcher_in_count);
    std::fflush(stdout);
  }
  return 0;
}
