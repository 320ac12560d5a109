/* relay-bench: openclawrelay's own delay on both sides of the agent, against the fake gateway on
 * 127.0.0.1 (in-process simulator, same monotonic clock):
 *  - call → gateway: the tool-call buffer pushed on the relay's sink pad (realtimesink's tools pad)
 *    → the fake gateway handling the request (a bound on "first byte": the request was fully read);
 *  - last chunk → voice: the gateway writing the answer's [DONE] → the inject event leaving the
 *    relay's sink pad towards realtimesink (includes SSE parsing and cleaning for speech).
 * Prints p50 / p90 / p99 / max in microseconds and whether each p99 is under the 5 ms target (a
 * figure, not a test: a loaded machine shows in the tail). The first connection is a warm-up. */
#include <gst/check/gstharness.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "clawvoice-contract.h"
#include "common/json.h"
#include "realtime_simulator.h"

extern "C" void gst_plugin_clawvoice_register(void);

using namespace clawvoice;

namespace {

constexpr size_t kWarmup = 10;
std::mutex g_lock;
std::vector<gint64> g_inject_at;

GstPadProbeReturn on_upstream(GstPad *, GstPadProbeInfo *info, gpointer)
{
  GstEvent *e = GST_PAD_PROBE_INFO_EVENT(info);
  const GstStructure *s = gst_event_get_structure(e);
  if (s && gst_structure_has_name(s, CLAWVOICE_EVENT_INJECT)) {
    std::lock_guard<std::mutex> guard(g_lock);
    g_inject_at.push_back(g_get_monotonic_time());
  }
  return GST_PAD_PROBE_OK;
}

void report(const char *what, std::vector<gint64> v, bool *ok)
{
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, (size_t) (q * (double) v.size()))]; };
  gint64 p99 = at(0.99);
  std::printf("%-22s n=%zu  p50=%" G_GINT64_FORMAT " us  p90=%" G_GINT64_FORMAT " us  p99=%" G_GINT64_FORMAT
      " us  max=%" G_GINT64_FORMAT " us\n", what, v.size(), at(0.5), at(0.9), p99, v.back());
  if (p99 > 5000)
    *ok = false;
}

}  // namespace

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  gst_plugin_clawvoice_register();
  const int rounds = argc > 1 ? std::max(10, atoi(argv[1])) : 300;

  sim::Options options;
  options.agent.reply_text = "It will be **sunny** in Paris tomorrow, with a high of 22 degrees.";
  options.agent.on_request = [](const sim::AgentRequest &) {
    sim::AgentReply r;
    r.chunk_chars = 0;   /* one content chunk, then [DONE] */
    return r;
  };
  sim::RealtimeSimulator simulator(options);
  std::string error;
  if (!simulator.start(&error)) {
    std::fprintf(stderr, "simulator: %s\n", error.c_str());
    return 2;
  }

  GstElement *relay = gst_element_factory_make("openclawrelay", nullptr);
  g_object_set(relay, "url", simulator.gateway_url().c_str(), "token", "bench-token", "caller", "+15550000000",
      "progress-delay", 0u, nullptr);
  GstHarness *h = gst_harness_new_with_element(relay, "sink", "src");
  gst_harness_set_src_caps_str(h, CLAWVOICE_TOOL_CALL_CAPS);
  GstPad *sink = gst_element_get_static_pad(relay, "sink");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream, nullptr, nullptr);
  gst_object_unref(sink);

  std::vector<gint64> pushed_at;
  for (int i = 0; i < rounds; i++) {
    std::string call = "{\"call_id\":\"c" + std::to_string(i) + "\",\"name\":\"send_to_openclaw\","
        "\"arguments\":\"{\\\"message\\\":\\\"weather in Paris?\\\"}\"}";
    GstBuffer *buffer = gst_buffer_new_memdup(call.data(), call.size());
    pushed_at.push_back(g_get_monotonic_time());
    gst_harness_push(h, buffer);
    /* One at a time, so each measure is of an idle relay. */
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
      {
        std::lock_guard<std::mutex> guard(g_lock);
        if ((int) g_inject_at.size() > i)
          break;
      }
      g_usleep(200);
    }
    while (GstEvent *e = gst_harness_try_pull_upstream_event(h))
      gst_event_unref(e);
  }

  auto records = simulator.agent_requests();
  std::vector<gint64> to_gateway, to_voice;
  {
    std::lock_guard<std::mutex> guard(g_lock);
    /* The first rounds open the connection and warm the threads up: not counted. */
    for (size_t i = kWarmup; i < records.size() && i < pushed_at.size() && i < g_inject_at.size(); i++) {
      if (records[i].status != 200 || !records[i].completed)
        continue;
      to_gateway.push_back(records[i].received_us - pushed_at[i]);
      to_voice.push_back(g_inject_at[i] - records[i].last_chunk_us);
    }
  }
  gst_harness_teardown(h);
  simulator.stop();
  if (to_gateway.size() < (size_t) (rounds - (int) kWarmup) * 9 / 10) {
    std::fprintf(stderr, "only %zu of %d rounds completed\n", to_gateway.size(), rounds);
    return 2;
  }
  bool ok = true;
  std::printf("openclawrelay, %d sequential tool calls against the fake gateway on 127.0.0.1\n", rounds);
  report("call -> gateway", to_gateway, &ok);
  report("last chunk -> voice", to_voice, &ok);
  std::printf("target: p99 < 5000 us each: %s\n", ok ? "met" : "MISSED");
  return 0;
}
