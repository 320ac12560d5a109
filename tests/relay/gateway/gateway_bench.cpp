/* gateway-bench: the client's own latency, against the fake gateway in the same process.
 *
 *   send: chat() called → request headers handed to the socket (on_request_sent)
 *   done: the fake wrote the last chunk ([DONE]) → on_done ran on the network thread
 *
 * Both are what the relay adds between the model's tool call and the gateway, and between the
 * gateway's answer and the model; the target is < 5 ms p99 each. Sequential requests first
 * (a quiet call), then bursts of 20 in flight (a busy host). Prints one line per figure. */
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/latency_stats.h"
#include "gateway_test_support.h"
#include "realtime_simulator.h"

using namespace clawvoice;

namespace {

struct Figures {
  LatencyStats send;
  LatencyStats done;
  int failures = 0;
};

void run_batch(openclaw::GatewayClient &client, sim::RealtimeSimulator &sim, int first, int count,
               Figures *figures)
{
  std::vector<std::shared_ptr<test::ChatOutcome>> outcomes;
  std::vector<gint64> called;
  for (int i = first; i < first + count; i++) {
    openclaw::ChatRequest request;
    request.session_key = "bench:" + std::to_string(i % 50);
    request.messages.push_back({"user", "q" + std::to_string(i)});
    outcomes.push_back(test::ChatOutcome::create());
    called.push_back(g_get_monotonic_time());
    client.chat(std::move(request), outcomes.back()->callbacks());
  }
  for (auto &o : outcomes)
    if (!o->wait_end(10000) || !o->done)
      figures->failures++;
  std::map<std::string, gint64> last_chunk;
  for (const auto &r : sim.agent_requests())
    last_chunk[r.question] = r.last_chunk_us;
  for (int k = 0; k < count; k++) {
    const auto &o = outcomes[k];
    if (!o->done)
      continue;
    figures->send.add(o->sent_us - called[k]);
    gint64 written = last_chunk["q" + std::to_string(first + k)];
    if (written > 0)
      figures->done.add(o->done_us - written);
  }
}

void report(const char *name, const Figures &f)
{
  auto ms = [](gint64 us) { return (double) us / 1000.0; };
  printf("%-22s send p50 %.3f ms p99 %.3f ms | done p50 %.3f ms p99 %.3f ms | n=%llu failures=%d\n",
         name, ms(f.send.percentile(50)), ms(f.send.percentile(99)), ms(f.done.percentile(50)),
         ms(f.done.percentile(99)), (unsigned long long) f.send.count(), f.failures);
}

}  // namespace

int main()
{
  sim::Options options;
  options.agent.token = "bench";
  options.agent.on_request = [](const sim::AgentRequest &request) {
    sim::AgentReply reply;
    reply.text = "Answer to " + request.question + ": it is done.";
    reply.chunk_chars = 12;
    return reply;
  };
  sim::RealtimeSimulator sim(options);
  std::string error;
  if (!sim.start(&error)) {
    fprintf(stderr, "gateway-bench: %s\n", error.c_str());
    return 1;
  }
  openclaw::GatewayOptions gateway;
  gateway.base_url = sim.gateway_url();
  gateway.token = "bench";
  auto thread = net::NetThread::acquire();
  int failures = 0;
  {
    openclaw::GatewayClient client(thread, gateway);
    Figures warm_up;   /* connections, allocations */
    run_batch(client, sim, 0, 20, &warm_up);
    Figures sequential;
    for (int i = 0; i < 500; i++)
      run_batch(client, sim, 1000 + i, 1, &sequential);
    report("sequential (500)", sequential);
    Figures burst;
    for (int i = 0; i < 25; i++)
      run_batch(client, sim, 10000 + i * 20, 20, &burst);
    report("20 in flight (500)", burst);
    failures = sequential.failures + burst.failures;
    bool met = sequential.send.percentile(99) < 5000 && sequential.done.percentile(99) < 5000 &&
               burst.send.percentile(99) < 5000 && burst.done.percentile(99) < 5000;
    printf("target p99 < 5 ms: %s\n", met ? "met" : "MISSED");
  }
  sim.stop();
  return failures == 0 ? 0 : 1;
}
