/* clawvoice — browser path benchmark: N simultaneous browser-style WebRTC calls through the real
 * launcher.
 *
 *   browser-bench                   N = 10, 20, 40
 *   browser-bench 5 30              other call counts
 *   browser-bench --window 20       seconds measured per N (default 10)
 *
 * For each N: a fresh clawvoice-launcher process (pipelines/browser.launch: webrtcbin ↔ Opus ↔
 * realtimesink) on 127.0.0.1, whose backend is the Realtime simulator running in this process (its
 * CPU, espeak-ng synthesis included, is not the launcher's); N webrtcbin peers in this process
 * (browser_peer.h), each doing what the voice page does (POST /api/session, WS /signal, offer, trickle
 * ICE) and, once `live`, saying tests/data/question.wav in real time (20 ms Opus frames from one
 * clock thread) then silence, and hearing a long spoken reply. After a warm-up (until 90 % of the
 * calls hear their reply) the launcher's CPU and memory are read at the start and end of the
 * window. Prints figures, not a verdict (README.md here says what each column means); exits
 * non-zero only when it could not run. */
#include <gst/gst.h>
#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "browser_peer.h"
#include "launcher_process.h"
#include "bench_args.h"
#include "process_sample.h"
#include "realtime_simulator.h"
#include "speech_synth.h"

using namespace clawvoice;
using clawvoice::test::browser::BrowserPeer;
using clawvoice::test::launcher::LauncherProcess;

using clawvoice::bench::load_average;
using clawvoice::bench::sample_process;

namespace {

const char kControlToken[] = "bench-control-token-0123456789";
const char kSimKey[] = "sk-bench-browser";
const char kReply[] =
    "Thank you for calling. This is a long answer so that the reply keeps playing for the whole "
    "measured window: the weather is mild, the sea is calm, the trains run on time, and the baker "
    "by the river opens at seven every morning except on Sundays and public holidays. The library "
    "on the square lends books, records and tools, the market sells fish on Fridays, and the ferry "
    "to the island leaves every hour from the old harbour, weather permitting, until late evening.";
constexpr gint kLoud = 1000;    /* a decoded 20 ms frame with this peak is reply speech */
constexpr gint kQuiet = 300;    /* below this, silence */
constexpr double kJitterBufferMs = 60;   /* a packet later than this would be concealed */

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v)
{
  Percentiles p;
  if (v.empty())
    return p;
  std::sort(v.begin(), v.end());
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, (size_t) (v.size() * 0.99))];
  p.max = v.back();
  return p;
}

/* The longest pause inside the reply as synthesised (20 ms frames below kQuiet between the first and
 * last loud frame), in ms: a silence longer than this in what a peer hears is a hole. */
double longest_natural_pause_ms()
{
  sim::SynthRequest request;
  request.text = kReply;
  request.rate = 24000;
  std::vector<int16_t> pcm = sim::SpeechSynthesizer::synthesize(request);
  std::vector<gint> peaks;
  for (size_t at = 0; at + 480 <= pcm.size(); at += 480) {
    gint peak = 0;
    for (size_t i = at; i < at + 480; i++)
      peak = std::max<gint>(peak, std::abs((gint) pcm[i]));
    peaks.push_back(peak);
  }
  size_t first = 0, last = 0;
  for (size_t i = 0; i < peaks.size(); i++)
    if (peaks[i] >= kLoud) {
      if (!first)
        first = i;
      last = i;
    }
  double longest = 0, run = 0;
  for (size_t i = first; i <= last && i < peaks.size(); i++) {
    run = peaks[i] < kQuiet ? run + 20 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

/* Sets the nice value of every thread of this process (Linux: nice is per thread, and a new thread
 * or child process takes its creator's). The callers and the model are stand-ins for what runs on
 * other machines in production: served first (−5) while a launcher runs, they do not add their own
 * scheduling delays to what is measured, and the launcher (spawned at 0 before this) gets what CPU
 * they leave. False if not allowed. */
bool set_nice_of_all_threads(int nice)
{
  DIR *tasks = opendir("/proc/self/task");
  if (!tasks)
    return false;
  bool all = true;
  while (dirent *entry = readdir(tasks)) {
    if (entry->d_name[0] == '.')
      continue;
    all = setpriority(PRIO_PROCESS, (id_t) atoi(entry->d_name), nice) == 0 && all;
  }
  closedir(tasks);
  return all;
}

/* Pushes every live peer's next 20 ms frame on one absolute 20 ms schedule. */
class CallerClock {
 public:
  explicit CallerClock(std::vector<std::shared_ptr<BrowserPeer>> *peers) : peers_(peers)
  {
    thread_ = std::thread([this]() { run(); });
  }
  ~CallerClock() { stop(); }
  void stop()
  {
    running_ = false;
    if (thread_.joinable())
      thread_.join();
  }
  double worst_late_ms() const { return worst_late_us_ / 1000.0; }
  guint64 late_ticks() const { return late_ticks_; }
  guint64 ticks() const { return ticks_; }

 private:
  void run()
  {
    /* Real-time priority when allowed, so the callers' clock does not suffer from the load. */
    sched_param param{};
    param.sched_priority = 10;
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (running_) {
      next.tv_nsec += 20000000;
      if (next.tv_nsec >= 1000000000) {
        next.tv_nsec -= 1000000000;
        next.tv_sec++;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      const gint64 late = (now.tv_sec - next.tv_sec) * 1000000LL + (now.tv_nsec - next.tv_nsec) / 1000;
      worst_late_us_ = std::max<gint64>(worst_late_us_, late);
      late_ticks_ += late > 5000;
      ticks_++;
      for (auto &p : *peers_)
        p->push_next_frame();
    }
  }
  std::vector<std::shared_ptr<BrowserPeer>> *peers_;
  std::atomic<bool> running_{true};
  std::atomic<gint64> worst_late_us_{0};
  std::atomic<guint64> late_ticks_{0}, ticks_{0};
  std::thread thread_;
};

struct Row {
  size_t calls = 0, live = 0, heard = 0;
  double cpu_pct_per_call = 0, cpu_pct_total = 0, bench_cpu_pct = 0;
  double rss_idle_mb = 0, rss_mb = 0, mb_per_call = 0;
  int threads = 0;
  guint64 holes = 0, lost = 0, late = 0, packets = 0;
  double in_flight_ms_per_call = 0;
  Percentiles in_delay, out_late, out_jitter;
  double heard_s_per_call = 0;
  double warmup_s = 0, setup_s = 0;
  std::string first_error;
  size_t failed = 0;
  double clock_worst_ms = 0;
  guint64 clock_late = 0, clock_ticks = 0;
  bool callers_first = false;   /* this process ran at nice −5, the launcher at 0 */
};

Row run(sim::RealtimeSimulator &simulator, const test::browser::PeerAudio &audio, size_t n, double window_s,
        double natural_pause_ms, std::string *error)
{
  Row row;
  row.calls = n;
  /* BROWSER_BENCH_LAUNCH=FILE: measure another pipeline for the browser route (A/B of a change). */
  const char *launch = g_getenv("BROWSER_BENCH_LAUNCH");
  const std::string launch_key = launch && *launch ? std::string(R"("launch": ")") + launch + R"(", )" : "";
  LauncherProcess launcher(std::string(R"({
    "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
    "calls": { "max_concurrent": )" + std::to_string(n + 10) + R"(, "ttl_seconds": 600 },
    "realtime": { "backend": "openai", "url": ")" + simulator.url() + R"(", "api_key": ")" + kSimKey + R"(" },
    "routes": { "browser": { "enabled": true, )" + launch_key + R"("ice_addresses": ["127.0.0.1"], "token_ttl_seconds": 60 } }
  })");
  if (!launcher.started()) {
    *error = launcher.start_error();
    return row;
  }
  row.callers_first = set_nice_of_all_threads(-5);   /* the launcher was spawned at 0 */
  g_usleep(500000);
  const bench::ProcessSample idle = sample_process(launcher.pid());
  row.rss_idle_mb = idle.rss_mb;
  const int64_t sim_base_ms = simulator.input_audio_ms();   /* the simulator outlives each run */

  auto net = net::NetThread::acquire();
  std::vector<std::shared_ptr<BrowserPeer>> peers;
  const std::string base = launcher.url("");
  const std::string base_url = base.back() == '/' ? base.substr(0, base.size() - 1) : base;
  for (size_t i = 0; i < n; i++) {
    BrowserPeer::Options options;
    options.base_url = base_url;
    options.audio = &audio;
    peers.push_back(std::make_shared<BrowserPeer>(net, options));
  }
  CallerClock clock(&peers);
  const gint64 setup_start = g_get_monotonic_time();
  const gint64 stagger_us = std::min<gint64>(100000, 4000000 / n);
  for (auto &p : peers) {
    p->start();
    g_usleep(stagger_us);
  }

  /* Set-up, then warm-up: every call live (at most 30 s), then the question is spoken (4.3 s) and
   * the replies start; wait until 90 % of the calls hear their reply (at most 60 s). */
  while (g_get_monotonic_time() - setup_start < 30 * G_USEC_PER_SEC) {
    size_t settled = 0;
    for (auto &p : peers) {
      const std::string s = p->last_state();
      settled += s == "live" || s == "failed" || s == "ended" || !p->report().error.empty();
    }
    if (settled == peers.size())
      break;
    g_usleep(100000);
  }
  row.setup_s = (g_get_monotonic_time() - setup_start) / 1e6;
  const gint64 warm_start = g_get_monotonic_time();
  g_usleep(5 * G_USEC_PER_SEC);
  while (g_get_monotonic_time() - warm_start < 60 * G_USEC_PER_SEC) {
    size_t replying = 0;
    for (auto &p : peers)
      replying += p->heard_reply(kLoud);
    if (replying * 10 >= peers.size() * 9)
      break;
    g_usleep(200000);
  }
  g_usleep(G_USEC_PER_SEC);
  row.warmup_s = (g_get_monotonic_time() - warm_start) / 1e6;

  const bench::ProcessSample begin = sample_process(launcher.pid());
  const bench::ProcessSample bench_begin = sample_process(getpid());
  const gint64 window_start = g_get_monotonic_time();
  const gint64 window_end = window_start + static_cast<gint64>(window_s * G_USEC_PER_SEC);
  /* Inbound: when the model had received how much caller audio (all calls), every 2 ms. */
  std::vector<std::pair<gint64, int64_t>> received;
  while (g_get_monotonic_time() < window_end) {
    received.emplace_back(g_get_monotonic_time(), simulator.input_audio_ms());
    g_usleep(2000);
  }
  const bench::ProcessSample end = sample_process(launcher.pid());
  const bench::ProcessSample bench_end = sample_process(getpid());
  const double wall_s = (g_get_monotonic_time() - window_start) / 1e6;
  std::string page = launcher.get("/metrics", kControlToken).body;
  clock.stop();
  row.clock_worst_ms = clock.worst_late_ms();
  row.clock_late = clock.late_ticks();
  row.clock_ticks = clock.ticks();

  std::vector<gint64> sent_times;
  std::vector<double> late_ms, jitter_ms;
  guint64 heard_frames = 0;
  for (auto &p : peers) {
    BrowserPeer::Report r = p->report();
    if (!r.error.empty() || r.last_state == "failed") {
      row.failed++;
      if (row.first_error.empty())
        row.first_error = !r.error.empty() ? r.error : (r.errors.empty() ? "state failed: " + (r.states.empty() ? std::string() : r.states.back().reason) : r.errors.front());
    }
    row.live += r.last_state == "live";
    for (gint64 t : r.sent_us)
      sent_times.push_back(t);

    /* Outbound, per packet in the window: arrival minus its RTP timestamp's place on the sender's
     * clock, relative to the call's earliest packet in the window (0 = as early as any). */
    std::vector<std::pair<gint64, double>> offsets;   /* (arrival, arrival − media time) */
    gint64 media_us = 0;
    for (size_t k = 0; k < r.rtp.size(); k++) {
      if (k > 0) {
        media_us += (gint32) (r.rtp[k].timestamp - r.rtp[k - 1].timestamp) * 1000000LL / 48000;
        const guint16 gap = (guint16) (r.rtp[k].seq - r.rtp[k - 1].seq);
        if (r.rtp[k].time_us >= window_start && r.rtp[k].time_us < window_end && gap > 1 && gap < 1000)
          row.lost += gap - 1;
      }
      if (r.rtp[k].time_us >= window_start && r.rtp[k].time_us < window_end)
        offsets.emplace_back(r.rtp[k].time_us, (r.rtp[k].time_us - media_us) / 1000.0);
    }
    if (!offsets.empty()) {
      double floor_ms = offsets.front().second;
      for (auto &o : offsets)
        floor_ms = std::min(floor_ms, o.second);
      for (size_t k = 0; k < offsets.size(); k++) {
        const double late = offsets[k].second - floor_ms;
        late_ms.push_back(late);
        row.late += late > kJitterBufferMs;
        if (k > 0)
          jitter_ms.push_back(std::fabs((offsets[k].first - offsets[k - 1].first) / 1000.0 - 20.0));
      }
      row.packets += offsets.size();
    }

    /* Holes: silences inside the reply (first to last loud frame) longer than any pause of the
     * synthesised reply itself, plus 40 ms. */
    size_t first = SIZE_MAX, last = 0;
    for (size_t k = 0; k < r.decoded.size(); k++) {
      if (r.decoded[k].time_us >= window_end)
        break;
      if (r.decoded[k].peak >= kLoud) {
        first = std::min(first, k);
        last = k;
      }
      if (r.decoded[k].time_us >= window_start)
        heard_frames++;
    }
    row.heard += first != SIZE_MAX;
    double run = 0;
    for (size_t k = first; first != SIZE_MAX && k <= last; k++) {
      if (r.decoded[k].peak < kQuiet) {
        run += r.decoded[k].samples / 48.0;
      } else {
        row.holes += run > natural_pause_ms + 40;
        run = 0;
      }
    }
  }

  /* Inbound delay: for the k-th caller frame sent (all calls, in send order), the time until the
   * simulator had received k frames' worth of audio. Frames go out only once a call is live, so
   * every one of them can arrive. */
  std::sort(sent_times.begin(), sent_times.end());
  std::vector<double> in_delay;
  for (size_t k = 1; k < received.size(); k++) {
    if (received[k].second == received[k - 1].second)
      continue;
    const int64_t frames = (received[k].second - sim_base_ms) / 20;
    if (frames <= 0 || static_cast<size_t>(frames) > sent_times.size())
      continue;
    in_delay.push_back((received[k].first - sent_times[frames - 1]) / 1000.0);
  }
  const size_t sent_by_window_end = std::upper_bound(sent_times.begin(), sent_times.end(), window_end) - sent_times.begin();
  row.in_flight_ms_per_call =
      (sent_by_window_end * 20.0 - (received.empty() ? 0 : received.back().second - sim_base_ms)) / std::max<size_t>(1, n);
  row.in_delay = percentiles(in_delay);
  row.out_late = percentiles(late_ms);
  row.out_jitter = percentiles(jitter_ms);
  row.heard_s_per_call = heard_frames * 0.020 / n;
  row.cpu_pct_total = (end.cpu_s - begin.cpu_s) / wall_s * 100.0;
  row.cpu_pct_per_call = row.cpu_pct_total / std::max<size_t>(1, row.live);
  row.bench_cpu_pct = (bench_end.cpu_s - bench_begin.cpu_s) / wall_s * 100.0;
  row.rss_mb = end.rss_mb;
  row.mb_per_call = (end.rss_mb - idle.rss_mb) / std::max<size_t>(1, row.live);
  row.threads = end.threads;
  (void) page;

  for (auto &p : peers)
    p->hang_up();
  g_usleep(300000);
  for (auto &p : peers)
    p->stop();
  peers.clear();
  launcher.stop();
  set_nice_of_all_threads(0);   /* the next launcher is spawned at 0 */
  return row;
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  bench::BenchArgs args;
  int code = bench::parse_bench_args(argc, argv,
      {"browser-bench", 10, 120, {10, 20, 40}, 200}, &args);
  if (code >= 0)
    return code;
  const double window_s = args.window_s;
  const std::vector<size_t> counts = args.counts;

  std::string error;
  auto audio = test::browser::encode_peer_audio(test::launcher::data_path("question.wav"), &error);
  if (!audio) {
    std::fprintf(stderr, "browser-bench: %s\n", error.c_str());
    return 1;
  }
  const double natural_pause_ms = longest_natural_pause_ms();

  sim::Options options;
  options.api_key = kSimKey;
  options.tool_calls = false;
  options.reply_text = kReply;
  options.response_delay_ms = 0;
  sim::RealtimeSimulator simulator(options);
  if (!simulator.start(&error)) {
    std::fprintf(stderr, "browser-bench: simulator: %s\n", error.c_str());
    return 1;
  }

  std::printf("browser-bench: launcher %s, window %.0f s, %ld processors, caller speaks question.wav then silence;\n"
              "  longest pause in the reply itself %.0f ms (a longer silence mid-reply is a hole)\n",
              test::launcher::launcher_binary().c_str(), window_s, sysconf(_SC_NPROCESSORS_ONLN), natural_pause_ms);
  std::printf("%5s %5s %5s %9s %8s %7s %7s %5s %6s %5s %5s %6s %7s %7s %7s %7s %7s %7s %6s\n", "calls", "live",
              "heard", "CPU%/call", "CPU%tot", "RSS MB", "MB/call", "thr", "holes", "lost", "late", "in p50",
              "in p99", "inflt", "out p50", "out p99", "out max", "jit p99", "heard");
  for (size_t n : counts) {
    const std::string load_before = load_average();
    Row row = run(simulator, *audio, n, window_s, natural_pause_ms, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "browser-bench: N=%zu: %s\n", n, error.c_str());
      return 1;
    }
    std::printf("%5zu %5zu %5zu %9.2f %8.1f %7.1f %7.2f %5d %6llu %5llu %5llu %6.1f %7.1f %7.1f %7.1f %7.1f %7.1f "
                "%7.1f %6.1f\n",
                row.calls, row.live, row.heard, row.cpu_pct_per_call, row.cpu_pct_total, row.rss_mb, row.mb_per_call,
                row.threads, (unsigned long long) row.holes, (unsigned long long) row.lost,
                (unsigned long long) row.late, row.in_delay.p50, row.in_delay.p99, row.in_flight_ms_per_call,
                row.out_late.p50, row.out_late.p99, row.out_late.max, row.out_jitter.p99, row.heard_s_per_call);
    std::printf("       (set-up %.1f s, warm-up %.1f s; idle RSS %.1f MB; %llu reply packets in the window; this "
                "process (peers + simulator) %.0f %% CPU; callers' clock %llu of %llu ticks >5 ms late, worst "
                "%.1f ms; %s; load average %s before, %s after)\n",
                row.setup_s, row.warmup_s, row.rss_idle_mb, (unsigned long long) row.packets, row.bench_cpu_pct,
                (unsigned long long) row.clock_late, (unsigned long long) row.clock_ticks, row.clock_worst_ms,
                row.callers_first ? "callers and model at nice -5, launcher 0" : "callers, model and launcher at one priority",
                load_before.c_str(), load_average().c_str());
    if (row.failed)
      std::printf("       %zu of %zu calls failed; first: %s\n", row.failed, n, row.first_error.c_str());
    std::fflush(stdout);
  }
  return 0;
}
