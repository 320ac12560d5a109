/* openai-bench: what the OpenAI routes add, through the real launcher process with the simulator
 * (fake OpenClaw gateway answering at once, and OpenAI's call control) in this process.
 *
 *   compat first token   time from sending POST /v1/chat/completions (stream:true) to the first
 *                        content chunk, straight to the fake gateway and through the launcher's
 *                        openai_compat route; "added" is the difference (target: p99 < 20 ms)
 *   webhook → accept     from the simulator sending a signed realtime.call.incoming webhook to the
 *                        accept request arriving back from the launcher (target: p99 < 50 ms)
 *
 * Prints figures; not a test (`meson test --benchmark --suite openai`). OPENAI_BENCH_N sets the
 * number of requests per measurement (default 200; calls: a quarter of it). */
#include <gio/gio.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "launcher_process.h"
#include "openai/webhook_signature.h"
#include "realtime_simulator.h"

using namespace clawvoice;
using clawvoice::test::launcher::LauncherProcess;

namespace {

const char kSimKey[] = "sk-sim-bench";
const char kAgentToken[] = "agent-token-bench";
const char kCompatToken[] = "compat-token-bench-0123456789";
const char kControlToken[] = "control-token-bench-0123456789";

struct Figures {
  std::vector<double> ms;
  double pct(double p) const
  {
    if (ms.empty())
      return 0;
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    size_t i = std::min(s.size() - 1, (size_t) (p / 100.0 * (s.size() - 1) + 0.5));
    return s[i];
  }
};

/* One streaming request over a fresh connection: ms until the first non-empty "content". -1 on failure. */
double first_content_ms(guint16 port, const std::string &bearer)
{
  GError *error = nullptr;
  GSocketClient *client = g_socket_client_new();
  g_socket_client_set_timeout(client, 10);
  std::string body = R"({"model":"openclaw","stream":true,"messages":[{"role":"user","content":"What time is it?"}]})";
  std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + bearer +
                        "\r\nx-openclaw-session-key: bench\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  gint64 started = g_get_monotonic_time();
  GSocketConnection *conn = g_socket_client_connect_to_host(client, "127.0.0.1", port, nullptr, &error);
  double result = -1;
  if (conn) {
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    if (g_output_stream_write_all(out, request.data(), request.size(), nullptr, nullptr, &error)) {
      std::string seen;
      char buffer[4096];
      for (;;) {
        gssize n = g_input_stream_read(in, buffer, sizeof buffer, nullptr, &error);
        if (n <= 0)
          break;
        seen.append(buffer, n);
        if (result < 0) {
          for (size_t at = seen.find("\"content\":\""); at != std::string::npos; at = seen.find("\"content\":\"", at + 1)) {
            if (at + 11 < seen.size() && seen[at + 11] != '"') {
              result = (g_get_monotonic_time() - started) / 1000.0;
              break;
            }
          }
        }
      }
    }
    g_object_unref(conn);
  }
  g_clear_error(&error);
  g_object_unref(client);
  return result;
}

void print(const char *what, const Figures &f)
{
  printf("  %-34s n=%zu  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", what, f.ms.size(), f.pct(50),
         f.pct(90), f.pct(99), f.pct(100));
}

}  // namespace

int main()
{
  int n = 200;
  if (const char *env = g_getenv("OPENAI_BENCH_N"))
    n = std::max(10, atoi(env));
  std::string secret = openai::generate_webhook_secret();

  sim::Options options;
  options.api_key = kSimKey;
  options.agent.token = kAgentToken;
  options.agent.reply_text = "It is ten past three. Anything else?";
  sim::RealtimeSimulator simulator(options);
  std::string error;
  if (!simulator.start(&error)) {
    fprintf(stderr, "openai-bench: simulator: %s\n", error.c_str());
    return 1;
  }
  LauncherProcess launcher(std::string(R"({
    "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
    "calls": { "max_concurrent": 100 },
    "realtime": { "backend": "openai", "url": ")" + simulator.url() + R"(", "api_key": ")" + kSimKey + R"(" },
    "openclaw": { "backend": "gateway", "url": ")" + simulator.gateway_url() + R"(", "token": ")" + kAgentToken + R"(" },
    "routes": {
      "openai": { "webhook_secret": ")" + secret + R"(" },
      "openai_compat": { "tokens": [")" + kCompatToken + R"("], "rate_limit_per_minute": 100000, "filler": "" }
    }
  })");
  if (!launcher.started()) {
    fprintf(stderr, "openai-bench: launcher: %s\n", launcher.start_error().c_str());
    return 1;
  }

  /* First token: warm both paths, then alternate so drifts hit both alike. */
  for (int i = 0; i < 10; i++) {
    first_content_ms((guint16) simulator.port(), kAgentToken);
    first_content_ms((guint16) launcher.port(), kCompatToken);
  }
  Figures direct, through, added;
  int failures = 0;
  for (int i = 0; i < n; i++) {
    double d = first_content_ms((guint16) simulator.port(), kAgentToken);
    double t = first_content_ms((guint16) launcher.port(), kCompatToken);
    if (d < 0 || t < 0) {
      failures++;
      continue;
    }
    direct.ms.push_back(d);
    through.ms.push_back(t);
    added.ms.push_back(t - d);
  }
  printf("openai-bench: compat first token (fake gateway answering at once, %d pairs, %d failed)\n", n, failures);
  print("straight to the gateway", direct);
  print("through the launcher", through);
  print("added by the launcher (per pair)", added);
  printf("  added at p99: %.2f ms (p99 through - p99 direct)  target < 20 ms: %s\n", through.pct(99) - direct.pct(99),
         through.pct(99) - direct.pct(99) < 20 ? "met" : "MISSED");

  /* Webhook → accept, one call at a time, each hung up by its caller once accepted. */
  Figures accept;
  int calls = std::max(10, n / 4), lost = 0;
  for (int i = 0; i < calls; i++) {
    sim::SipCallRequest request;
    request.webhook_url = launcher.url("/openai/webhook");
    request.webhook_secret = secret;
    std::string rtc = simulator.place_sip_call(request);
    sim::SimCallRecord record;
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline && (!simulator.sip_call(rtc, &record) || record.accepted_us == 0))
      g_usleep(500);
    if (record.accepted_us == 0) {
      lost++;
      continue;
    }
    accept.ms.push_back((record.accepted_us - record.webhook_sent_us) / 1000.0);
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline && simulator.sip_call(rtc, &record) && record.sideband_connections == 0)
      g_usleep(1000);
    simulator.sip_caller_hangs_up(rtc);
  }
  printf("openai-bench: webhook to accept (%d calls, %d not accepted within 5 s)\n", calls, lost);
  print("webhook sent -> accept received", accept);
  printf("  target p99 < 50 ms: %s\n", accept.pct(99) < 50 ? "met" : "MISSED");

  launcher.stop();
  simulator.stop();
  return 0;
}
