/* clawvoice — Twilio path benchmark: N simultaneous phone calls through the real launcher (or, to
 * compare, a plain Node.js bridge).
 *
 *   twilio-bench                   N = 50, 100, 200 (about 1.5 minutes per N)
 *   twilio-bench 10 20             other call counts
 *   twilio-bench --window 20       seconds measured per N (default 12)
 *   twilio-bench --node-bridge     the same calls through a plain Node.js bridge instead
 *   twilio-bench --list-holes      also list each hole in the audio a caller heard (when, how long)
 *
 * For each N: a fresh clawvoice-launcher process (pipelines/twilio.launch: mulawbridge ↔
 * realtimesink, μ-law untouched) on 127.0.0.1 — or, with --node-bridge, node-bridge/bridge.mjs (a
 * passthrough modelled on Twilio's published Node.js sample) — whose backend is the Realtime
 * simulator running in this process; N emulated Twilio calls on one emulator thread, each speaking
 * tests/data/question.wav in real time, then silence, and hearing a long spoken reply. After a
 * warm-up (until 90 % of the calls hear their reply) the bridge process's CPU
 * (utime+stime from /proc/PID/stat) and resident memory (VmRSS from /proc/PID/status) are read at
 * the start and end of the window. Prints figures, not a verdict (README.md here says what
 * each column means); exits non-zero only when it could not run. */
#include <glib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "bridge_under_test.h"
#include "launcher_process.h"
#include "node_bridge_process.h"
#include "process_sample.h"
#include "media_stream_call.h"
#include "mulaw_audio.h"
#include "realtime_simulator.h"
#include "twiml.h"
#include "webhook.h"

using namespace clawvoice;
using namespace clawvoice::test::twilio_emu;
using clawvoice::bench::BridgeKind;
using clawvoice::bench::load_average;
using clawvoice::bench::sample_process;

namespace {

const char kAuthToken[] = "bench-twilio-auth-token-31c9";
const char kSimKey[] = "sk-bench-twilio";
const char kReply[] =
    "Thank you for calling. This is a long answer so that the reply keeps playing for the whole "
    "measured window: the weather is mild, the sea is calm, the trains run on time, and the baker "
    "by the river opens at seven every morning except on Sundays and public holidays. The library "
    "on the square lends books, records and tools, the market sells fish on Fridays, and the ferry "
    "to the island leaves every hour from the old harbour, weather permitting, until late evening.";

struct Row {
  size_t calls = 0;
  size_t streaming = 0;
  double cpu_pct_per_call = 0, cpu_pct_total = 0;
  double rss_idle_mb = 0, rss_mb = 0, mb_per_call = 0;
  int threads = 0;
  guint64 underruns = 0, gaps_at_marks = 0, short_frames = 0, irregular = 0, violations = 0;
  double dropped_frames = 0;   /* negative: the bridge does not count it */
  size_t sim_errors = 0;       /* error events the simulator sent during this run */
  std::string first_sim_error;
  double heard_s_per_call = 0;
  Percentiles in_delay, out_jitter, out_pacing_late;
  Percentiles in_delay_replies;   /* before the window, while the model's replies arrive */
  double replies_s = 0;           /* how long the replies took to arrive, from the warm-up's start */
  double max_lead_ms = 0;
  double warmup_s = 0;
  /* CPU%/call from the first call's webhook to the end of the window: includes call setup and the
   * replies as the model sends them (a bridge that does not pace sends a reply in a burst, before
   * or early in the window, so the window alone misses most of its outbound work). */
  double cpu_pct_per_call_whole_run = 0;
  size_t setup_failed = 0;
  std::string setup_error;
  SchedulerStats emulator;
};

Row run(BridgeKind kind, bool list_holes, sim::RealtimeSimulator &simulator, const std::vector<guint8> &caller_audio,
        size_t n, double window_s, std::string *error)
{
  Row row;
  row.calls = n;
  bench::BridgeSetup setup;
  setup.realtime_url = simulator.url();
  setup.api_key = kSimKey;
  setup.twilio_auth_token = kAuthToken;
  setup.max_calls = n + 10;
  std::unique_ptr<bench::BridgeUnderTest> bridge = bench::start_bridge(kind, setup, error);
  if (!bridge)
    return row;
  g_usleep(500000);
  const bench::ProcessSample idle = sample_process(bridge->pid());
  row.rss_idle_mb = idle.rss_mb;
  const gint64 calls_start = g_get_monotonic_time();

  const int64_t sim_base_ms = simulator.input_audio_ms();   /* the simulator outlives each run */
  const size_t sim_errors_before = simulator.errors_sent().size();
  auto thread = std::make_shared<EmulatorThread>("twilio-bench");
  std::vector<std::unique_ptr<MediaStreamCall>> calls;
  TwimlOptions twiml_options;
  twiml_options.allow_ws_loopback = true;
  const std::string voice = bridge->voice_webhook_url();
  const gint64 stagger_us = std::min<gint64>(20000, 4000000 / n);   /* spread the 20 ms phases */
  for (size_t i = 0; i < n; i++) {
    CallIdentity id = CallIdentity::random();
    HttpReply reply = post_voice_webhook(voice, voice, voice_webhook_params(id), kAuthToken);
    TwimlResult twiml = parse_connect_stream_twiml(reply.body, twiml_options);
    if (reply.status != 200 || !twiml.ok()) {
      /* A refused or timed-out setup is a figure too, not the end of the run. */
      row.setup_failed++;
      if (row.setup_error.empty())
        row.setup_error = "call " + std::to_string(i) + ": webhook " + std::to_string(reply.status) +
                          (reply.error.empty() ? "" : " (" + reply.error + ")") +
                          (reply.status == 200 ? ": " + twiml.describe() : "");
      continue;
    }
    CallOptions options;
    options.stream_url = twiml.stream.url;
    options.custom_parameters = twiml.stream.parameters;
    options.ids.account_sid = id.account_sid;
    options.ids.call_sid = id.call_sid;
    options.caller_audio = caller_audio;
    options.record_played_audio = false;
    calls.push_back(std::make_unique<MediaStreamCall>(thread, options));
    calls.back()->start();
    g_usleep(stagger_us);
  }

  /* Inbound delay: how long after the emulator had sent a given amount of caller audio (all
   * calls together) the model had received that much. Sampled every 2 ms, from here to the end of
   * the window; the sent side is rebuilt from the per-frame send times afterwards. */
  std::vector<std::pair<gint64, int64_t>> received;   /* (time, simulator's input ms) */
  auto sample_received = [&] { received.emplace_back(g_get_monotonic_time(), simulator.input_audio_ms()); };

  /* Warm-up: the question is spoken (4.3 s), then the model's replies arrive, faster than real
   * time and all calls at once (a reply is sent in a quarter of its length). Wait until 90 % of
   * the calls hear their reply and the simulator has sent every reply whole (at most 60 s), then
   * one more second: the window measures the relay in its steady state, caller audio in and
   * paced reply out; the delay while the replies poured in is reported apart. */
  const gint64 warm_start = g_get_monotonic_time();
  auto replies_arrived = [&] {
    size_t replying = 0;
    for (auto &c : calls)
      replying += c->wait_for([](const CallReport &r) { return r.bytes_received > 0; }, 0);
    return replying * 10 >= calls.size() * 9 && simulator.responses_in_flight() == 0;
  };
  for (int k = 0; g_get_monotonic_time() - warm_start < 60 * G_USEC_PER_SEC; k++) {
    sample_received();
    if (k % 50 == 0 && g_get_monotonic_time() - warm_start > 5 * G_USEC_PER_SEC && replies_arrived())
      break;
    g_usleep(2000);
  }
  row.replies_s = (g_get_monotonic_time() - warm_start) / 1e6;
  for (gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC; g_get_monotonic_time() < until; g_usleep(2000))
    sample_received();
  row.warmup_s = (g_get_monotonic_time() - warm_start) / 1e6;
  const bench::ProcessSample begin = sample_process(bridge->pid());
  const gint64 window_start = g_get_monotonic_time();
  const gint64 window_end = window_start + static_cast<gint64>(window_s * G_USEC_PER_SEC);
  std::vector<guint64> heard_at_start;
  for (auto &c : calls)
    heard_at_start.push_back(c->report().played_frames.size());

  while (g_get_monotonic_time() < window_end) {
    sample_received();
    g_usleep(2000);
  }
  const bench::ProcessSample end = sample_process(bridge->pid());
  const double wall_s = (g_get_monotonic_time() - window_start) / 1e6;

  /* Figures from the emulator's reports. */
  std::vector<gint64> sent_times;   /* every caller frame of every call, 20 ms each */
  std::vector<double> jitter, pacing_late;
  guint64 heard_frames = 0;
  for (size_t i = 0; i < calls.size(); i++) {
    CallReport r = calls[i]->report();
    row.streaming += r.state == CallState::Streaming;
    row.violations += r.violations.size();
    row.underruns += std::count_if(r.underruns.begin(), r.underruns.end(),
                                   [&](const Underrun &u) { return u.dry_at_us >= window_start; });
    row.gaps_at_marks += std::count_if(r.gaps_at_marks.begin(), r.gaps_at_marks.end(),
                                       [&](const Underrun &u) { return u.dry_at_us >= window_start; });
    if (list_holes) {
      /* When in the window, and how long Twilio's buffer had been fed nothing before it ran dry
       * (many calls at the same moment: the bridge stalled as a whole). */
      for (const auto *holes : {&r.underruns, &r.gaps_at_marks})
        for (const Underrun &u : *holes)
          if (u.dry_at_us >= window_start)
            std::printf("       hole%s in call %zu: at %.3f s, %.1f ms after the last audio came, dry %.1f ms\n",
                        holes == &r.underruns ? "" : " at a mark", i, (u.dry_at_us - window_start) / 1e6,
                        (u.dry_at_us - u.previous_audio_us) / 1e3, u.gap_us / 1e3);
    }
    row.short_frames += r.short_frames;
    row.irregular += r.irregular_payloads;
    row.max_lead_ms = std::max(row.max_lead_ms, r.max_buffered_ms());
    heard_frames += r.played_frames.size() - heard_at_start[i];
    for (const auto &f : r.sent_media)
      sent_times.push_back(f.sent_us);
    /* Outbound: each media frame's arrival against real-time pacing from the first frame of its
     * run (a run: frames less than 100 ms apart), and the inter-arrival jitter, in the window. */
    gint64 run_start = 0;
    size_t run_index = 0;
    for (size_t k = 0; k < r.received_media.size(); k++) {
      const auto &m = r.received_media[k];
      if (k == 0 || m.time_us - r.received_media[k - 1].time_us > 100000) {
        run_start = m.time_us;
        run_index = 0;
      }
      if (m.time_us >= window_start && m.time_us < window_end) {
        pacing_late.push_back(std::max<double>(0, (m.time_us - run_start - 20000.0 * run_index) / 1000.0));
        if (run_index > 0)
          jitter.push_back(std::fabs((m.time_us - r.received_media[k - 1].time_us) / 1000.0 - 20.0));
      }
      run_index += (m.bytes + 159) / 160;
    }
  }
  std::sort(sent_times.begin(), sent_times.end());
  std::vector<double> in_delay, in_delay_replies;
  for (size_t k = 1; k < received.size(); k++) {
    if (received[k].second == received[k - 1].second)
      continue;   /* only the instants where more audio had just arrived */
    const int64_t frames = (received[k].second - sim_base_ms) / 20;
    if (frames <= 0 || static_cast<size_t>(frames) > sent_times.size())
      continue;
    const double delay_ms = (received[k].first - sent_times[frames - 1]) / 1000.0;
    (received[k].first < window_start ? in_delay_replies : in_delay).push_back(delay_ms);
  }
  row.in_delay = percentiles(in_delay);
  row.in_delay_replies = percentiles(in_delay_replies);
  row.out_jitter = percentiles(jitter);
  row.out_pacing_late = percentiles(pacing_late);
  row.heard_s_per_call = calls.empty() ? 0 : heard_frames * 0.020 / calls.size();
  row.cpu_pct_total = (end.cpu_s - begin.cpu_s) / wall_s * 100.0;
  const double live = std::max<size_t>(1, calls.size());
  row.cpu_pct_per_call = row.cpu_pct_total / live;
  row.cpu_pct_per_call_whole_run =
      (end.cpu_s - idle.cpu_s) / ((window_start - calls_start) / 1e6 + wall_s) * 100.0 / live;
  row.rss_mb = end.rss_mb;
  row.mb_per_call = (end.rss_mb - idle.rss_mb) / live;
  row.threads = end.threads;
  row.emulator = thread->stats();

  row.dropped_frames = bridge->dropped_frames();
  const std::vector<sim::ErrorSent> sim_errors = simulator.errors_sent();
  row.sim_errors = sim_errors.size() - std::min(sim_errors.size(), sim_errors_before);
  if (row.sim_errors)
    row.first_sim_error = sim_errors[sim_errors_before].code + ": " + sim_errors[sim_errors_before].message;

  for (auto &c : calls)
    c->stop();
  for (auto &c : calls)
    c->wait_closed(5000);
  calls.clear();
  bridge->stop();
  return row;
}

}  // namespace

int main(int argc, char **argv)
{
  /* --node-bridge is ours; the rest is every launcher benchmark's command line. */
  BridgeKind kind = BridgeKind::Launcher;
  bool list_holes = false;
  std::vector<char *> rest;
  for (int i = 0; i < argc; i++) {
    if (i > 0 && std::string(argv[i]) == "--node-bridge")
      kind = BridgeKind::NodeBridge;
    else if (i > 0 && std::string(argv[i]) == "--list-holes")
      list_holes = true;
    else
      rest.push_back(argv[i]);
  }
  bench::BenchArgs args;
  int code = bench::parse_bench_args(static_cast<int>(rest.size()), rest.data(),
      {"twilio-bench", 12, 600, {50, 100, 200}, 1000}, &args);
  if (code == 0)
    std::printf("       --node-bridge: run the calls through node-bridge/bridge.mjs (a plain Node.js\n"
                "       passthrough bridge) instead of clawvoice-launcher\n"
                "       --list-holes: list each hole in the audio the callers heard\n");
  if (code >= 0)
    return code;
  if (kind == BridgeKind::NodeBridge) {
    const std::string missing = bench::node_bridge_missing();
    if (!missing.empty()) {
      std::fprintf(stderr, "twilio-bench: --node-bridge: %s\n", missing.c_str());
      return 1;
    }
  }
  const double window_s = args.window_s;
  const std::vector<size_t> counts = args.counts;

  std::vector<guint8> question;
  std::string error;
  if (!load_wav_as_mulaw(test::launcher::data_path("question.wav"), &question, &error)) {
    std::fprintf(stderr, "twilio-bench: %s\n", error.c_str());
    return 1;
  }

  sim::Options options;
  options.api_key = kSimKey;
  options.tool_calls = false;
  options.reply_text = kReply;
  options.response_delay_ms = 0;
  options.keep_received_events = false;   /* hours of audio: nobody reads them */
  sim::RealtimeSimulator simulator(options);
  if (!simulator.start(&error)) {
    std::fprintf(stderr, "twilio-bench: simulator: %s\n", error.c_str());
    return 1;
  }

  std::printf("twilio-bench: %s, window %.0f s, caller speaks question.wav then silence\n",
              bench::describe_bridge(kind).c_str(), window_s);
  std::printf("%6s %6s %9s %8s %8s %8s %7s %5s %9s %9s %8s %8s %9s %9s %9s %7s %7s %6s\n", "calls",
              "stream", "CPU%/call", "CPU%tot", "RSS MB", "MB/call", "thr", "viol", "underrun",
              "dropped", "short", "irreg", "in p50", "in p99", "out p50", "out p99", "jit p99",
              "heard");
  for (size_t n : counts) {
    Row row = run(kind, list_holes, simulator, question, n, window_s, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "twilio-bench: N=%zu: %s\n", n, error.c_str());
      return 1;
    }
    const std::string dropped = row.dropped_frames < 0 ? "-" : std::to_string(std::llround(row.dropped_frames));
    std::printf("%6zu %6zu %9.3f %8.1f %8.1f %8.2f %7d %5llu %9llu %9s %8llu %8llu %9.1f %9.1f %9.1f "
                "%7.1f %7.1f %6.1f\n",
                row.calls, row.streaming, row.cpu_pct_per_call, row.cpu_pct_total, row.rss_mb,
                row.mb_per_call, row.threads, static_cast<unsigned long long>(row.violations),
                static_cast<unsigned long long>(row.underruns), dropped.c_str(),
                static_cast<unsigned long long>(row.short_frames),
                static_cast<unsigned long long>(row.irregular), row.in_delay.p50, row.in_delay.p99,
                row.out_pacing_late.p50, row.out_pacing_late.p99, row.out_jitter.p99,
                row.heard_s_per_call);
    std::printf("       (replies all sent %.1f s after the last call's setup, caller audio in meanwhile: p50 %.1f ms, p99 %.1f ms)\n",
                row.replies_s, row.in_delay_replies.p50, row.in_delay_replies.p99);
    std::printf("       (dry spells right at a mark with audio again within 300 ms, holes a mark may hide: %llu)\n",
                static_cast<unsigned long long>(row.gaps_at_marks));
    std::printf("       (warm-up %.1f s; whole run %.3f CPU%%/call; idle RSS %.1f MB; max lead in Twilio's buffer %.0f ms; emulator: %llu of %llu "
                "frames >5 ms late, worst %.1f ms; simulator errors %zu; load average %s)\n",
                row.warmup_s, row.cpu_pct_per_call_whole_run, row.rss_idle_mb, row.max_lead_ms,
                static_cast<unsigned long long>(row.emulator.late_over_5ms),
                static_cast<unsigned long long>(row.emulator.runs), row.emulator.max_late_us / 1000.0,
                row.sim_errors, load_average().c_str());
    if (row.sim_errors)
      std::printf("       first simulator error: %s\n", row.first_sim_error.c_str());
    if (row.setup_failed)
      std::printf("       %zu of %zu calls could not be set up; first: %s\n", row.setup_failed, n,
                  row.setup_error.c_str());
    std::fflush(stdout);
  }
  return 0;
}
