/* clawvoice — realtimesink benchmark: what one live stream through realtimesink costs.
 *
 *   realtimesink-bench                 1, 10 and 50 streams (about 2.5 minutes)
 *   realtimesink-bench 20 100          other stream counts
 *   realtimesink-bench --help          durations, simulator path, reply text
 *
 * Prints figures, not a verdict: CPU per stream (% of one core, and ms per second of audio),
 * resident memory, and realtimesink's own added delays from its `stats` property, for N live
 * pipelines in one process (sharing the network thread, as in the launcher):
 *
 *   audiotestsrc is-live=true (1.2 s tone every 10 s, staggered) ! S16LE 24 kHz mono, 20 ms frames
 *       ! realtimesink url=ws://127.0.0.1:PORT/v1/realtime ! fakesink sync=true
 *
 * and a baseline without realtimesink (the same caller source into fakesink, plus a live 20 ms
 * source into fakesink sync=true standing in for the reply stream), so that the cost attributable
 * to realtimesink can be shown by subtraction. See tests/bench/README.md for what each figure means.
 *
 * The simulator (clawvoice-sim) runs as a separate process, so its CPU is not counted, and each
 * configuration runs in a child process of its own (this program, re-executed), so that CPU time
 * and resident memory are not muddled by the previous run. Exits 0 when the figures were produced,
 * non-zero only when the benchmark could not run. */
#include <gst/gst.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" void gst_plugin_clawvoice_register(void);

#ifndef CLAWVOICE_SIM_BIN
#define CLAWVOICE_SIM_BIN "clawvoice-sim"
#endif

namespace {

/* ---- Knobs ---- */

constexpr const char *kApiKey = "sk-bench";
constexpr const char *kDefaultReply =
    "Thanks for calling. Tomorrow in Paris it will be mostly sunny, with a light westerly breeze "
    "and a high of twenty two degrees.";
constexpr guint kFrameSamples = 480;   /* 20 ms at 24 kHz */
constexpr GstClockTime kTalkCycle = 10 * GST_SECOND;    /* the caller speaks once per cycle... */
constexpr GstClockTime kTalkOn = 1200 * GST_MSECOND;    /* ...for this long, then listens */

struct Settings {
  std::vector<int> counts;
  double warmup_s = 3.0;
  double seconds = 20.0;
  double baseline_seconds = 8.0;
  bool baseline = true;
  std::string sim_bin = CLAWVOICE_SIM_BIN;
  std::string reply = kDefaultReply;
  double burst_speed = 4.0;
  int response_delay_ms = 150;
  int sink_deadline_ms = -1;
};

/* ---- Process figures ---- */

double cpu_seconds_self(double *user = nullptr, double *sys = nullptr)
{
  struct rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double u = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  double s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  if (user)
    *user = u;
  if (sys)
    *sys = s;
  return u + s;
}

long status_kb(const char *pid_dir, const char *field)
{
  std::ifstream in(std::string("/proc/") + pid_dir + "/status");
  std::string line;
  size_t len = strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':')
      return strtol(line.c_str() + len + 1, nullptr, 10);
  }
  return -1;
}

long rss_kb()
{
  return status_kb("self", "VmRSS");
}

/* utime+stime (s) and comm of /proc/<path>/stat, e.g. "self/task/123" or "4567". */
bool read_stat(const std::string &path, std::string *comm, double *cpu)
{
  std::ifstream in("/proc/" + path + "/stat");
  std::string text;
  if (!std::getline(in, text))
    return false;
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos)
    return false;
  if (comm)
    *comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; i++) {   /* fields 3.. after "pid (comm)" */
    if (i == 14)
      utime = strtoull(field.c_str(), nullptr, 10);
    if (i == 15)
      stime = strtoull(field.c_str(), nullptr, 10);
  }
  if (cpu)
    *cpu = (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
  return true;
}

/* CPU seconds per thread of this process, keyed by tid, with the thread's name. */
std::map<std::string, std::pair<std::string, double>> thread_cpu()
{
  std::map<std::string, std::pair<std::string, double>> out;
  GDir *dir = g_dir_open("/proc/self/task", 0, nullptr);
  if (!dir)
    return out;
  while (const gchar *tid = g_dir_read_name(dir)) {
    std::string comm;
    double cpu = 0;
    if (read_stat(std::string("self/task/") + tid, &comm, &cpu))
      out[tid] = {comm, cpu};
  }
  g_dir_close(dir);
  return out;
}

/* "rt12:src" → "rt:src": threads of the same role across streams. */
std::string thread_role(const std::string &comm)
{
  std::string role;
  for (char c : comm)
    if (!isdigit((unsigned char) c))
      role += c;
  return role;
}

/* ---- Child: one configuration (baseline or realtimesink) with N streams ---- */

struct Talk {
  GstClockTime offset;   /* staggers the streams' turns over the cycle */
};

/* The caller's voice: a tone for kTalkOn of every kTalkCycle, silence otherwise, so the server
 * VAD sees turns and the model answers in the pauses. */
GstPadProbeReturn talk_probe(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  const auto *talk = static_cast<const Talk *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer))
    return GST_PAD_PROBE_OK;
  if ((GST_BUFFER_PTS(buffer) + talk->offset) % kTalkCycle < kTalkOn)
    return GST_PAD_PROBE_OK;
  buffer = gst_buffer_make_writable(buffer);
  gst_buffer_memset(buffer, 0, 0, gst_buffer_get_size(buffer));
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  return GST_PAD_PROBE_OK;
}

struct BusTally {
  std::mutex lock;
  int errors = 0;
  int warnings = 0;
  std::string first_error;
};

/* Every message is counted and dropped where it is posted: nothing piles up on the buses, and the
 * main thread stays asleep. */
GstBusSyncReply bus_sync(GstBus *, GstMessage *message, gpointer data)
{
  auto *tally = static_cast<BusTally *>(data);
  GstMessageType type = GST_MESSAGE_TYPE(message);
  if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
    GError *error = nullptr;
    gchar *debug = nullptr;
    if (type == GST_MESSAGE_ERROR)
      gst_message_parse_error(message, &error, &debug);
    else
      gst_message_parse_warning(message, &error, &debug);
    std::lock_guard<std::mutex> lock(tally->lock);
    if (type == GST_MESSAGE_ERROR)
      tally->errors++;
    else
      tally->warnings++;
    if (tally->first_error.empty()) {
      tally->first_error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
          (error ? error->message : "?") + " (" + (debug ? debug : "") + ")";
    }
    g_clear_error(&error);
    g_free(debug);
  }
  gst_message_unref(message);
  return GST_BUS_DROP;
}

/* Measures, on realtimesink's src pad, how late each period leaves compared with when it was due
 * (its end on the clock: a live source hands a period out once complete). Includes the src task's
 * wake-up from its clock wait; excludes anything downstream does with the buffer. */
struct OutputProbe {
  GstClock *clock = nullptr;
  GstElement *element = nullptr;
  std::atomic<bool> *measuring = nullptr;
  std::mutex lock;
  std::vector<gint64> samples;   /* µs */
};

GstPadProbeReturn output_probe(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *probe = static_cast<OutputProbe *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!buffer || !probe->measuring->load(std::memory_order_relaxed) || !GST_BUFFER_PTS_IS_VALID(buffer))
    return GST_PAD_PROBE_OK;
  GstClockTime now = gst_clock_get_time(probe->clock);
  GstClockTime duration = GST_BUFFER_DURATION_IS_VALID(buffer) ? GST_BUFFER_DURATION(buffer) : 0;
  GstClockTime due = gst_element_get_base_time(probe->element) + GST_BUFFER_PTS(buffer) + duration;
  std::lock_guard<std::mutex> lock(probe->lock);
  probe->samples.push_back(GST_CLOCK_DIFF(due, now) / 1000);
  return GST_PAD_PROBE_OK;
}

struct Stream {
  GstElement *pipeline = nullptr;
  GstElement *rt = nullptr;   /* realtimesink, or nullptr in the baseline */
  Talk talk{};
  std::unique_ptr<OutputProbe> out;
};

gint64 percentile(std::vector<gint64> v, double p)
{
  if (v.empty())
    return -1;
  size_t index = std::min(v.size() - 1, (size_t) (p / 100.0 * (double) v.size()));
  std::nth_element(v.begin(), v.begin() + (long) index, v.end());
  return v[index];
}

struct Counters {
  guint64 frames_in = 0, frames_sent = 0, frames_dropped = 0, deltas = 0, periods_out = 0;
  guint64 barge_ins = 0, truncations = 0, protocol_errors = 0;
  gint reconnects = 0;
  int not_connected = 0;
  std::vector<gint64> send_p50, send_p99, out_p50, out_p99;
};

Counters collect(const std::vector<Stream> &streams)
{
  Counters c;
  for (const Stream &s : streams) {
    if (!s.rt)
      continue;
    GstStructure *st = nullptr;
    g_object_get(s.rt, "stats", &st, nullptr);
    if (!st)
      continue;
    guint64 v = 0;
    gint64 d = 0;
    gint r = 0;
    if (gst_structure_get_uint64(st, "audio-frames-in", &v)) c.frames_in += v;
    if (gst_structure_get_uint64(st, "audio-frames-sent", &v)) c.frames_sent += v;
    if (gst_structure_get_uint64(st, "audio-frames-dropped", &v)) c.frames_dropped += v;
    if (gst_structure_get_uint64(st, "audio-deltas", &v)) c.deltas += v;
    if (gst_structure_get_uint64(st, "periods-out", &v)) c.periods_out += v;
    if (gst_structure_get_uint64(st, "barge-ins", &v)) c.barge_ins += v;
    if (gst_structure_get_uint64(st, "truncations", &v)) c.truncations += v;
    if (gst_structure_get_uint64(st, "protocol-errors", &v)) c.protocol_errors += v;
    if (gst_structure_get_int(st, "reconnects", &r)) c.reconnects += r;
    const gchar *state = gst_structure_get_string(st, "connection");
    if (!state || strcmp(state, "connected") != 0)
      c.not_connected++;
    if (gst_structure_get_int64(st, "send-delay-p50-us", &d)) c.send_p50.push_back(d);
    if (gst_structure_get_int64(st, "send-delay-p99-us", &d)) c.send_p99.push_back(d);
    if (gst_structure_get_int64(st, "output-delay-p50-us", &d)) c.out_p50.push_back(d);
    if (gst_structure_get_int64(st, "output-delay-p99-us", &d)) c.out_p99.push_back(d);
    gst_structure_free(st);
  }
  return c;
}

gint64 worst(const std::vector<gint64> &v)
{
  return v.empty() ? -1 : *std::max_element(v.begin(), v.end());
}

gint64 median(std::vector<gint64> v)
{
  if (v.empty())
    return -1;
  std::nth_element(v.begin(), v.begin() + (long) (v.size() / 2), v.end());
  return v[v.size() / 2];
}

std::string build_launch(bool with_rt, int i)
{
  gchar *caller = g_strdup_printf(
      "audiotestsrc name=talk%d is-live=true wave=sine freq=%d volume=0.3 samplesperbuffer=%u "
      "! audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved ",
      i, 200 + (i % 7) * 30, kFrameSamples);
  gchar *rest;
  if (with_rt) {
    rest = g_strdup_printf("! realtimesink name=rt%d ! fakesink name=out%d sync=true", i, i);
  } else {
    /* Stand-ins: realtimesink's sink pad takes the caller's frames without waiting on the clock;
     * its src pad is a live source of 20 ms periods played by a syncing sink. */
    rest = g_strdup_printf(
        "! fakesink name=in%d sync=false "
        "audiotestsrc name=reply%d is-live=true wave=silence samplesperbuffer=%u "
        "! audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved "
        "! fakesink name=out%d sync=true",
        i, i, kFrameSamples, i);
  }
  std::string launch = std::string(caller) + rest;
  g_free(caller);
  g_free(rest);
  return launch;
}

void sleep_s(double seconds)
{
  g_usleep((gulong) (seconds * 1e6));
}

int child_main(const std::string &mode, int n, const std::string &url, double warmup_s, double seconds,
    long sim_pid, int sink_deadline_ms)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the orchestrating parent */
  gst_init(nullptr, nullptr);
  gst_plugin_clawvoice_register();
  const bool with_rt = mode == "realtimesink";

  /* Load the plugins before the first memory figure: a one-time cost, not a per-stream one. */
  for (const char *factory : {"audiotestsrc", "capsfilter", "fakesink", "realtimesink"}) {
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (!e) {
      fprintf(stderr, "bench: no element %s\n", factory);
      return 2;
    }
    gst_object_unref(e);
  }
  long rss_before = rss_kb();

  BusTally tally;
  std::atomic<bool> measuring{false};
  GstClock *system_clock = gst_system_clock_obtain();
  std::vector<Stream> streams((size_t) n);
  for (int i = 0; i < n; i++) {
    Stream &s = streams[(size_t) i];
    GError *error = nullptr;
    std::string launch = build_launch(with_rt, i);
    s.pipeline = gst_parse_launch_full(launch.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error);
    if (!s.pipeline || error) {
      fprintf(stderr, "bench: cannot build pipeline: %s\n%s\n", error ? error->message : "?", launch.c_str());
      return 2;
    }
    s.talk.offset = kTalkCycle / (GstClockTime) n * (GstClockTime) i;
    gchar *name = g_strdup_printf("talk%d", i);
    GstElement *talk = gst_bin_get_by_name(GST_BIN(s.pipeline), name);
    g_free(name);
    GstPad *pad = gst_element_get_static_pad(talk, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, talk_probe, &s.talk, nullptr);
    gst_object_unref(pad);
    gst_object_unref(talk);
    if (with_rt) {
      name = g_strdup_printf("rt%d", i);
      s.rt = gst_bin_get_by_name(GST_BIN(s.pipeline), name);
      g_free(name);
      g_object_set(s.rt, "url", url.c_str(), "api-key", kApiKey, nullptr);
      s.out = std::make_unique<OutputProbe>();
      s.out->clock = system_clock;
      s.out->element = s.rt;
      s.out->measuring = &measuring;
      pad = gst_element_get_static_pad(s.rt, "src");
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, output_probe, s.out.get(), nullptr);
      gst_object_unref(pad);
      if (sink_deadline_ms >= 0) {
        name = g_strdup_printf("out%d", i);
        GstElement *out = gst_bin_get_by_name(GST_BIN(s.pipeline), name);
        g_free(name);
        g_object_set(out, "processing-deadline", (guint64) sink_deadline_ms * GST_MSECOND, nullptr);
        gst_object_unref(out);
      }
    }
    gst_pipeline_use_clock(GST_PIPELINE(s.pipeline), system_clock);
    GstBus *bus = gst_element_get_bus(s.pipeline);
    gst_bus_set_sync_handler(bus, bus_sync, &tally, nullptr);
    gst_object_unref(bus);
  }
  for (Stream &s : streams) {
    if (gst_element_set_state(s.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      std::lock_guard<std::mutex> lock(tally.lock);
      tally.errors++;
      if (tally.first_error.empty())
        tally.first_error = "a pipeline did not go to PLAYING";
    }
  }

  /* Warm-up: sessions connect and settle. Then the measured window. */
  sleep_s(warmup_s);
  Counters start = collect(streams);
  auto threads0 = thread_cpu();
  double sim0 = 0;
  bool sim_ok = sim_pid > 0 && read_stat(std::to_string(sim_pid), nullptr, &sim0);
  double user0, sys0;
  double cpu0 = cpu_seconds_self(&user0, &sys0);
  gint64 t0 = g_get_monotonic_time();
  measuring.store(true);

  sleep_s(seconds);

  measuring.store(false);
  gint64 t1 = g_get_monotonic_time();
  double user1, sys1;
  double cpu1 = cpu_seconds_self(&user1, &sys1);
  double sim1 = 0;
  sim_ok = sim_ok && read_stat(std::to_string(sim_pid), nullptr, &sim1);
  auto threads1 = thread_cpu();
  long rss_running = rss_kb();
  Counters end = collect(streams);
  std::vector<gint64> probe_p50, probe_p99, probe_all;
  for (Stream &s : streams) {
    if (!s.out)
      continue;
    std::lock_guard<std::mutex> lock(s.out->lock);
    probe_p50.push_back(percentile(s.out->samples, 50));
    probe_p99.push_back(percentile(s.out->samples, 99));
    probe_all.insert(probe_all.end(), s.out->samples.begin(), s.out->samples.end());
  }

  gint64 td0 = g_get_monotonic_time();
  for (Stream &s : streams) {
    /* The whole pipeline at once, as an application would (live: PLAYING→PAUSED must not wait for
     * realtimesink's src task, blocked in a prerolling fakesink; a regression hangs here and the
     * run is reported as timed out). */
    gst_element_set_state(s.pipeline, GST_STATE_NULL);
    if (s.rt)
      gst_object_unref(s.rt);
    gst_object_unref(s.pipeline);
  }
  streams.clear();
  gst_object_unref(system_clock);
  double teardown_s = (double) (g_get_monotonic_time() - td0) / 1e6;
  long rss_after = rss_kb();

  /* CPU by thread role over the window (threads alive at both ends). */
  std::map<std::string, double> roles;
  for (const auto &[tid, v] : threads1) {
    auto it = threads0.find(tid);
    double before = it != threads0.end() ? it->second.second : 0.0;
    roles[thread_role(v.first)] += v.second - before;
  }
  std::string roles_text;
  for (const auto &[role, cpu] : roles) {
    if (!roles_text.empty())
      roles_text += "|";
    roles_text += role + "=" + std::to_string(cpu);
  }

  std::lock_guard<std::mutex> lock(tally.lock);
  GstStructure *result = gst_structure_new("bench-result",
      "mode", G_TYPE_STRING, mode.c_str(),
      "streams", G_TYPE_INT, n,
      "wall", G_TYPE_DOUBLE, (double) (t1 - t0) / 1e6,
      "cpu", G_TYPE_DOUBLE, cpu1 - cpu0,
      "cpu-user", G_TYPE_DOUBLE, user1 - user0,
      "cpu-sys", G_TYPE_DOUBLE, sys1 - sys0,
      "sim-cpu", G_TYPE_DOUBLE, sim_ok ? sim1 - sim0 : -1.0,
      "rss-before-kb", G_TYPE_INT64, (gint64) rss_before,
      "rss-kb", G_TYPE_INT64, (gint64) rss_running,
      "rss-after-kb", G_TYPE_INT64, (gint64) rss_after,
      "teardown", G_TYPE_DOUBLE, teardown_s,
      "errors", G_TYPE_INT, tally.errors,
      "warnings", G_TYPE_INT, tally.warnings,
      "first-error", G_TYPE_STRING, tally.first_error.c_str(),
      "threads", G_TYPE_STRING, roles_text.c_str(),
      "frames-in", G_TYPE_UINT64, end.frames_in,
      "frames-sent", G_TYPE_UINT64, end.frames_sent,
      "frames-dropped", G_TYPE_UINT64, end.frames_dropped,
      "frames-dropped-window", G_TYPE_UINT64, end.frames_dropped - start.frames_dropped,
      "deltas", G_TYPE_UINT64, end.deltas,
      "periods-out", G_TYPE_UINT64, end.periods_out,
      "periods-out-window", G_TYPE_UINT64, end.periods_out - start.periods_out,
      "barge-ins", G_TYPE_UINT64, end.barge_ins,
      "reconnects", G_TYPE_INT, end.reconnects,
      "protocol-errors", G_TYPE_UINT64, end.protocol_errors,
      "not-connected", G_TYPE_INT, end.not_connected,
      "send-p50", G_TYPE_INT64, worst(end.send_p50),
      "send-p99", G_TYPE_INT64, worst(end.send_p99),
      "send-p99-median", G_TYPE_INT64, median(end.send_p99),
      "out-p50", G_TYPE_INT64, worst(end.out_p50),
      "out-p99", G_TYPE_INT64, worst(end.out_p99),
      "out-p99-median", G_TYPE_INT64, median(end.out_p99),
      "probe-p50", G_TYPE_INT64, worst(probe_p50),
      "probe-p99", G_TYPE_INT64, worst(probe_p99),
      "probe-p99-median", G_TYPE_INT64, median(probe_p99),
      "probe-all-p99", G_TYPE_INT64, percentile(probe_all, 99),
      "probe-all-max", G_TYPE_INT64, worst(probe_all),
      "probe-samples", G_TYPE_INT64, (gint64) probe_all.size(),
      "truncations", G_TYPE_UINT64, end.truncations,
      nullptr);
  gchar *text = gst_structure_to_string(result);
  printf("RESULT %s\n", text);
  fflush(stdout);
  g_free(text);
  gst_structure_free(result);
  return 0;
}

/* ---- Parent: the simulator, one child per configuration, the table ---- */

std::atomic<pid_t> g_sim_pid{-1};
std::atomic<pid_t> g_child_pid{-1};

void kill_and_reap(std::atomic<pid_t> &slot, double grace_s)
{
  pid_t pid = slot.exchange(-1);
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  gint64 deadline = g_get_monotonic_time() + (gint64) (grace_s * 1e6);
  while (g_get_monotonic_time() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid)
      return;
    g_usleep(20000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

void on_fatal_signal(int sig)
{
  /* Async-signal-safe: kill what we started, by pid, and leave. */
  pid_t child = g_child_pid.load(), sim = g_sim_pid.load();
  if (child > 0)
    kill(child, SIGKILL);
  if (sim > 0)
    kill(sim, SIGKILL);
  _exit(128 + sig);
}

struct Simulator {
  std::string url;
  std::string log_path;
  pid_t pid = -1;

  bool start(const Settings &settings, std::string *error)
  {
    char tmpl[] = "/tmp/clawvoice-bench-sim-XXXXXX";
    int log_fd = mkstemp(tmpl);
    if (log_fd < 0) {
      *error = std::string("mkstemp: ") + strerror(errno);
      return false;
    }
    log_path = tmpl;
    std::string burst = std::to_string(settings.burst_speed);
    std::string delay = std::to_string(settings.response_delay_ms);
    std::vector<std::string> args = {settings.sim_bin, "--listen", "127.0.0.1:0", "--api-key", kApiKey,
        "--reply", settings.reply, "--no-tool-calls", "--burst-speed", burst, "--response-delay-ms", delay};
    pid_t child = fork();
    if (child < 0) {
      *error = std::string("fork: ") + strerror(errno);
      close(log_fd);
      return false;
    }
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
      close(log_fd);
      std::vector<char *> argv;
      for (std::string &a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
      _exit(127);
    }
    close(log_fd);
    pid = child;
    g_sim_pid.store(child);

    /* Wait for "clawvoice-sim listening on ws://HOST:PORT/v1/realtime". */
    const std::string marker = "listening on ";
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
      std::ifstream in(log_path);
      std::string line;
      while (std::getline(in, line)) {
        size_t at = line.find(marker);
        if (at != std::string::npos && line.find("/v1/realtime") != std::string::npos) {
          url = line.substr(at + marker.size());
          while (!url.empty() && isspace((unsigned char) url.back()))
            url.pop_back();
          return true;
        }
      }
      int status;
      if (waitpid(child, &status, WNOHANG) == child) {
        g_sim_pid.store(-1);
        pid = -1;
        *error = "the simulator exited: " + log_tail();
        return false;
      }
      g_usleep(20000);
    }
    *error = "the simulator did not say where it listens within 10 s: " + log_tail();
    return false;
  }

  std::string log_tail() const
  {
    std::ifstream in(log_path);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
  }

  void stop(bool keep_log)
  {
    kill_and_reap(g_sim_pid, 3.0);
    pid = -1;
    if (!log_path.empty() && !keep_log)
      unlink(log_path.c_str());
  }
};

struct Result {
  bool ok = false;
  std::string failure;
  GstStructure *s = nullptr;

  double d(const char *f) const { double v = 0; if (s) gst_structure_get_double(s, f, &v); return v; }
  gint64 i64(const char *f) const { gint64 v = 0; if (s) gst_structure_get_int64(s, f, &v); return v; }
  guint64 u64(const char *f) const { guint64 v = 0; if (s) gst_structure_get_uint64(s, f, &v); return v; }
  int i(const char *f) const { gint v = 0; if (s) gst_structure_get_int(s, f, &v); return v; }
  std::string str(const char *f) const { const gchar *v = s ? gst_structure_get_string(s, f) : nullptr; return v ? v : ""; }
};

std::string self_exe()
{
  gchar *path = g_file_read_link("/proc/self/exe", nullptr);
  std::string out = path ? path : "";
  g_free(path);
  return out;
}

Result run_child(const Settings &settings, const std::string &mode, int n, double seconds,
    const std::string &url, pid_t sim_pid)
{
  Result result;
  int out[2];
  if (pipe(out) != 0) {
    result.failure = std::string("pipe: ") + strerror(errno);
    return result;
  }
  std::vector<std::string> args = {self_exe(), "--child", mode, "--streams", std::to_string(n), "--url", url,
      "--warmup", std::to_string(settings.warmup_s), "--seconds", std::to_string(seconds),
      "--sim-pid", std::to_string(sim_pid)};
  if (settings.sink_deadline_ms >= 0) {
    args.push_back("--sink-deadline-ms");
    args.push_back(std::to_string(settings.sink_deadline_ms));
  }
  pid_t child = fork();
  if (child < 0) {
    result.failure = std::string("fork: ") + strerror(errno);
    return result;
  }
  if (child == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char *> argv;
    for (std::string &a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  g_child_pid.store(child);
  close(out[1]);

  /* Read the child's report; give up (and kill it) well past its expected duration. */
  std::string text;
  double limit_s = settings.warmup_s + seconds + 60.0 + n * 0.5;
  gint64 deadline = g_get_monotonic_time() + (gint64) (limit_s * 1e6);
  bool timed_out = false;
  for (;;) {
    gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {out[0], POLLIN, 0};
    int r = poll(&pfd, 1, (int) std::min<gint64>(left_ms, 1000));
    if (r < 0 && errno == EINTR)
      continue;
    if (r > 0) {
      char buf[4096];
      ssize_t got = read(out[0], buf, sizeof buf);
      if (got <= 0)
        break;   /* the child closed its end: done */
      text.append(buf, (size_t) got);
    }
  }
  close(out[0]);
  int status = 0;
  if (timed_out) {
    kill_and_reap(g_child_pid, 2.0);
    result.failure = "timed out after " + std::to_string((int) limit_s) + " s";
    return result;
  }
  waitpid(child, &status, 0);
  g_child_pid.store(-1);

  size_t at = text.find("RESULT ");
  if (at == std::string::npos) {
    result.failure = WIFSIGNALED(status) ? "the run died with signal " + std::to_string(WTERMSIG(status))
                                         : "the run exited with status " + std::to_string(WEXITSTATUS(status));
    return result;
  }
  std::string line = text.substr(at + 7);
  line = line.substr(0, line.find('\n'));
  result.s = gst_structure_from_string(line.c_str(), nullptr);
  if (!result.s) {
    result.failure = "unreadable report: " + line;
    return result;
  }
  result.ok = true;
  return result;
}

std::string cpu_model()
{
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "?";
}

std::string fmt(const char *format, ...) G_GNUC_PRINTF(1, 2);
std::string fmt(const char *format, ...)
{
  va_list ap;
  va_start(ap, format);
  gchar *s = g_strdup_vprintf(format, ap);
  va_end(ap);
  std::string out = s;
  g_free(s);
  return out;
}

std::string us(gint64 v)
{
  return v < 0 ? "-" : std::to_string(v);
}

struct Row {
  int n;
  Result base, rt;
};

std::string load_average()
{
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one.empty() ? "?" : one + " (1 min), " + five + " (5 min)";
}

void print_report(const Settings &settings, const std::vector<Row> &rows, const std::string &sim_url,
    const std::string &load_before)
{
  guint major, minor, micro, nano;
  gst_version(&major, &minor, &micro, &nano);
  printf("\nrealtimesink benchmark\n");
  printf("  machine: %u CPUs (%s), GStreamer %u.%u.%u\n", g_get_num_processors(), cpu_model().c_str(), major,
      minor, micro);
  printf("  load average before the runs: %s; other processes share the CPUs and add to the delays\n",
      load_before.c_str());
  printf("  caller: live S16LE 24 kHz mono in 20 ms frames, a %.1f s tone every %.0f s (turns staggered "
         "across streams)\n", (double) kTalkOn / GST_SECOND, (double) kTalkCycle / GST_SECOND);
  printf("  model: clawvoice-sim in its own process (not counted) at %s, burst speed %.1f, a %zu-character "
         "reply per turn\n", sim_url.c_str(), settings.burst_speed, settings.reply.size());
  printf("  window: %.0f s (realtimesink) / %.0f s (baseline) after %.0f s of warm-up; CPU = user+sys of the "
         "bench process over the window\n", settings.seconds, settings.baseline_seconds, settings.warmup_s);
  printf("  send = realtimesink stats send-delay (sink pad -> socket); out = due on the clock -> leaves the "
         "src pad (probe); out(stat) = stats output-delay\n\n");

  printf("%-7s %-12s %8s %8s %7s %7s %11s %11s %13s %12s %7s %7s %4s\n", "streams", "pipeline", "CPU%/str",
      "ms/aud-s", "RSS MB", "MB/str", "send p50/99", "out p50/99", "out(stat)", "frames", "reply s", "sim", "err");
  printf("%-7s %-12s %8s %8s %7s %7s %11s %11s %13s %12s %7s %7s %4s\n", "", "", "(1 core)", "per str", "total",
      "", "µs worst", "µs worst", "p50/99 µs", "in/dropped", "per str", "CPU%", "");
  for (const Row &row : rows) {
    for (const Result *r : {&row.base, &row.rt}) {
      bool is_rt = r == &row.rt;
      if (!is_rt && !settings.baseline)
        continue;
      const char *name = is_rt ? "realtimesink" : "baseline";
      if (!r->ok) {
        printf("%-7d %-12s  did not run: %s\n", row.n, name, r->failure.c_str());
        continue;
      }
      double wall = r->d("wall"), cpu = r->d("cpu");
      double per = cpu / wall / row.n * 100.0;
      double rss = (double) (r->i64("rss-kb") - r->i64("rss-before-kb")) / 1024.0;
      double sim = r->d("sim-cpu");
      std::string send = is_rt ? us(r->i64("send-p50")) + "/" + us(r->i64("send-p99")) : "-";
      std::string out = is_rt ? us(r->i64("probe-p50")) + "/" + us(r->i64("probe-p99")) : "-";
      std::string stat = is_rt ? us(r->i64("out-p50")) + "/" + us(r->i64("out-p99")) : "-";
      std::string frames = is_rt ? fmt("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, r->u64("frames-in"),
                                       r->u64("frames-dropped"))
                                 : "-";
      std::string reply = is_rt ? fmt("%.1f", (double) r->u64("periods-out-window") * 0.020 / row.n) : "-";
      std::string sim_cpu = sim >= 0 ? fmt("%.1f", sim / wall * 100.0) : "-";
      printf("%-7d %-12s %8.3f %8.2f %7.1f %7.2f %11s %11s %13s %12s %7s %7s %4d\n", row.n, name, per,
          per * 10.0, rss, rss / row.n, send.c_str(), out.c_str(), stat.c_str(), frames.c_str(), reply.c_str(),
          sim_cpu.c_str(), r->i("errors"));
    }
  }

  printf("\nattributable to realtimesink, per stream (realtimesink minus baseline); targets: < 0.5 %% of one "
         "core, < 2000 µs p99 added delay\n");
  printf("%-7s %9s %9s %8s %13s %13s %15s %13s  %s\n", "streams", "CPU%/str", "ms/aud-s", "MB/str",
      "send p99 µs", "out p99 µs", "out p99 µs", "out(stat)", "targets");
  printf("%-7s %9s %9s %8s %13s %13s %15s %13s\n", "", "(1 core)", "", "", "worst/median", "worst/median",
      "all frames/max", "p99 worst");
  for (const Row &row : rows) {
    if (!row.rt.ok || (settings.baseline && !row.base.ok)) {
      printf("%-7d  -\n", row.n);
      continue;
    }
    auto per = [&](const Result &r) { return r.d("cpu") / r.d("wall") / row.n * 100.0; };
    auto mb = [&](const Result &r) {
      return (double) (r.i64("rss-kb") - r.i64("rss-before-kb")) / 1024.0 / row.n;
    };
    const Result &r = row.rt;
    double cpu = per(r) - (settings.baseline ? per(row.base) : 0.0);
    double mem = mb(r) - (settings.baseline ? mb(row.base) : 0.0);
    gint64 send = r.i64("send-p99"), out = r.i64("probe-p99");
    std::vector<std::string> missed;
    if (cpu >= 0.5)
      missed.push_back("CPU");
    if (send >= 2000)
      missed.push_back("send delay");
    if (out >= 2000)
      missed.push_back("output delay");
    std::string verdict = missed.empty() ? "met" : "NOT met:";
    for (const std::string &m : missed)
      verdict += " " + m;
    printf("%-7d %9.3f %9.2f %8.2f %13s %13s %15s %13s  %s\n", row.n, cpu, cpu * 10.0, mem,
        (us(send) + "/" + us(r.i64("send-p99-median"))).c_str(),
        (us(out) + "/" + us(r.i64("probe-p99-median"))).c_str(),
        (us(r.i64("probe-all-p99")) + "/" + us(r.i64("probe-all-max"))).c_str(), us(r.i64("out-p99")).c_str(),
        verdict.c_str());
  }

  printf("\ndetails (realtimesink runs)\n");
  for (const Row &row : rows) {
    if (!row.rt.ok)
      continue;
    const Result &r = row.rt;
    printf("  %d streams: frames sent %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
           " in the window); deltas %" G_GUINT64_FORMAT ", periods out %" G_GUINT64_FORMAT " (%" G_GINT64_FORMAT
           " timed by the probe); barge-ins %" G_GUINT64_FORMAT ", truncations %" G_GUINT64_FORMAT
           "; reconnects %d, protocol errors %" G_GUINT64_FORMAT ", not connected at the end %d, warnings %d\n"
           "    user/sys %.2f/%.2f s; RSS before %.1f MB, running %.1f MB, after teardown %.1f MB; teardown %.2f s\n",
        row.n, r.u64("frames-sent"), r.u64("frames-dropped"), r.u64("frames-dropped-window"), r.u64("deltas"),
        r.u64("periods-out"), r.i64("probe-samples"), r.u64("barge-ins"), r.u64("truncations"), r.i("reconnects"),
        r.u64("protocol-errors"), r.i("not-connected"), r.i("warnings"), r.d("cpu-user"), r.d("cpu-sys"),
        (double) r.i64("rss-before-kb") / 1024.0, (double) r.i64("rss-kb") / 1024.0,
        (double) r.i64("rss-after-kb") / 1024.0, r.d("teardown"));
    std::string first = r.str("first-error");
    if (!first.empty())
      printf("    first error/warning: %s\n", first.c_str());
    for (const Result *x : {&row.base, &row.rt}) {
      if (!x->ok)
        continue;
      /* CPU by thread role, biggest first. */
      std::vector<std::pair<double, std::string>> roles;
      gchar **parts = g_strsplit(x->str("threads").c_str(), "|", -1);
      for (gchar **p = parts; p && *p; p++) {
        const char *eq = strrchr(*p, '=');
        if (eq)
          roles.push_back({g_ascii_strtod(eq + 1, nullptr), std::string(*p, (size_t) (eq - *p))});
      }
      g_strfreev(parts);
      std::sort(roles.rbegin(), roles.rend());
      printf("    %s CPU by thread, %% of one core per stream:", x == &row.rt ? "realtimesink" : "baseline");
      for (const auto &[cpu, role] : roles) {
        double pct = cpu / x->d("wall") * 100.0 / row.n;
        if (pct >= 0.005)
          printf(" %s %.3f;", role.c_str(), pct);
      }
      printf("\n");
    }
  }
}

}  // namespace

int main(int argc, char **argv)
{
  gchar *child_mode = nullptr, *url = nullptr, *sim_bin = nullptr, *reply = nullptr;
  gint streams = 0, sim_pid = 0, sink_deadline_ms = -1;
  Settings settings;
  gboolean no_baseline = FALSE;
  GOptionEntry entries[] = {
      {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &settings.seconds,
       "Measured window per realtimesink run (default 20)", "S"},
      {"baseline-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &settings.baseline_seconds,
       "Measured window per baseline run (default 8)", "S"},
      {"warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &settings.warmup_s,
       "Warm-up before each window: sessions connect and settle (default 3)", "S"},
      {"no-baseline", 0, 0, G_OPTION_ARG_NONE, &no_baseline, "Skip the runs without realtimesink", nullptr},
      {"sim", 0, 0, G_OPTION_ARG_FILENAME, &sim_bin, "clawvoice-sim to run (default: the one built)", "PATH"},
      {"reply", 0, 0, G_OPTION_ARG_STRING, &reply, "What the model says in every reply", "TEXT"},
      {"burst-speed", 0, 0, G_OPTION_ARG_DOUBLE, &settings.burst_speed,
       "The simulator sends reply audio this many times faster than real time (default 4)", "X"},
      {"sink-deadline-ms", 0, 0, G_OPTION_ARG_INT, &sink_deadline_ms,
       "processing-deadline of the fakesink after realtimesink (default: fakesink's own, 20 ms)", "MS"},
      {"child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &child_mode, "", nullptr},
      {"streams", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &streams, "", nullptr},
      {"url", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &url, "", nullptr},
      {"sim-pid", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &sim_pid, "", nullptr},
      {nullptr}};
  GOptionContext *context = g_option_context_new("[STREAMS...] - realtimesink CPU, memory and delay per stream");
  g_option_context_add_main_entries(context, entries, nullptr);
  GError *error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "realtimesink-bench: %s\n", error->message);
    return 2;
  }
  g_option_context_free(context);

  if (child_mode)
    return child_main(child_mode, streams, url ? url : "", settings.warmup_s, settings.seconds, sim_pid,
        sink_deadline_ms);

  for (int i = 1; i < argc; i++) {
    int n = atoi(argv[i]);
    if (n <= 0) {
      fprintf(stderr, "realtimesink-bench: not a stream count: %s\n", argv[i]);
      return 2;
    }
    settings.counts.push_back(n);
  }
  if (settings.counts.empty())
    settings.counts = {1, 10, 50};
  if (sim_bin)
    settings.sim_bin = sim_bin;
  if (reply)
    settings.reply = reply;
  settings.baseline = !no_baseline;
  settings.sink_deadline_ms = sink_deadline_ms;
  if (settings.seconds <= 0 || settings.baseline_seconds <= 0 || settings.warmup_s < 0) {
    fprintf(stderr, "realtimesink-bench: durations must be positive\n");
    return 2;
  }
  gst_init(nullptr, nullptr);   /* for the version string and GstStructure (de)serialisation only */

  struct sigaction sa{};
  sa.sa_handler = on_fatal_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  if (access(settings.sim_bin.c_str(), X_OK) != 0) {
    fprintf(stderr, "realtimesink-bench: no simulator at %s (build it, or pass --sim PATH)\n",
        settings.sim_bin.c_str());
    return 2;
  }
  std::string load_before = load_average();
  Simulator sim;
  std::string failure;
  if (!sim.start(settings, &failure)) {
    fprintf(stderr, "realtimesink-bench: %s\n", failure.c_str());
    sim.stop(true);
    return 2;
  }
  fprintf(stderr, "bench: simulator pid %d at %s\n", sim.pid, sim.url.c_str());

  std::vector<Row> rows;
  bool any = false;
  for (int n : settings.counts) {
    Row row;
    row.n = n;
    if (settings.baseline) {
      fprintf(stderr, "bench: baseline, %d stream(s), %.0f s...\n", n, settings.warmup_s + settings.baseline_seconds);
      row.base = run_child(settings, "baseline", n, settings.baseline_seconds, sim.url, sim.pid);
      if (!row.base.ok)
        fprintf(stderr, "bench: baseline x%d did not run: %s\n", n, row.base.failure.c_str());
    }
    fprintf(stderr, "bench: realtimesink, %d stream(s), %.0f s...\n", n, settings.warmup_s + settings.seconds);
    row.rt = run_child(settings, "realtimesink", n, settings.seconds, sim.url, sim.pid);
    if (!row.rt.ok)
      fprintf(stderr, "bench: realtimesink x%d did not run: %s\n", n, row.rt.failure.c_str());
    /* Ran = produced figures: at least some caller audio reached the simulator. */
    any = any || (row.rt.ok && row.rt.u64("frames-sent") > 0);
    rows.push_back(std::move(row));
    if (waitpid(sim.pid, nullptr, WNOHANG) == sim.pid) {
      g_sim_pid.store(-1);
      fprintf(stderr, "bench: the simulator died: %s\n", sim.log_tail().c_str());
      break;
    }
  }
  sim.stop(!any);

  print_report(settings, rows, sim.url, load_before);
  for (Row &row : rows) {
    for (Result *r : {&row.base, &row.rt})
      if (r->s)
        gst_structure_free(r->s);
  }
  if (!any) {
    fprintf(stderr, "realtimesink-bench: no realtimesink run completed (simulator log kept in %s)\n",
        sim.log_path.c_str());
    return 1;
  }
  return 0;
}
