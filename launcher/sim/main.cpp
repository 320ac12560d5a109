/* clawvoice-sim — a stand-in for the OpenAI Realtime API (GA) on a local port.
 *
 *   clawvoice-sim --listen 127.0.0.1:8765 --api-key sk-test
 *
 * Prints "clawvoice-sim listening on ws://HOST:PORT/v1/realtime" once it accepts connections,
 * then "clawvoice-sim OpenClaw gateway on http://HOST:PORT" (the fake gateway on the same port),
 * and stops cleanly on SIGINT / SIGTERM. */
#include "realtime_simulator.h"

#include <glib-unix.h>
#include <glib.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using clawvoice::sim::Options;
using clawvoice::sim::RealtimeSimulator;

static gboolean on_signal(gpointer loop)
{
  g_main_loop_quit(static_cast<GMainLoop *>(loop));
  return G_SOURCE_CONTINUE;
}

/* "HOST:PORT" or "[V6]:PORT". */
static bool parse_listen(const char *text, Options *options)
{
  std::string s(text);
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  char *end = nullptr;
  unsigned long port = strtoul(s.c_str() + colon + 1, &end, 10);
  if (!end || *end || port > 65535)
    return false;
  options->host = host;
  options->port = (unsigned) port;
  return true;
}

int main(int argc, char **argv)
{
  g_autofree char *listen = nullptr;
  g_autofree char *api_key = nullptr;
  g_autofree char *reply = nullptr;
  int session_max_seconds = 3600;
  double burst_speed = 4.0;
  int response_delay_ms = 150;
  gboolean no_tool_calls = FALSE;
  g_autofree char *agent_token = nullptr;
  g_autofree char *agent_hooks_token = nullptr;
  g_autofree char *agent_reply = nullptr;
  int agent_delay_ms = 0;
  GOptionEntry entries[] = {
      {"listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
       "Address to listen on (default 127.0.0.1:8765; port 0 picks a free one)", "HOST:PORT"},
      {"api-key", 'k', 0, G_OPTION_ARG_STRING, &api_key,
       "Bearer key clients must present (default: $CLAWVOICE_SIM_API_KEY; none = any key)", "KEY"},
      {"session-max-seconds", 0, 0, G_OPTION_ARG_INT, &session_max_seconds,
       "Session lifetime before error session_expired (default 3600)", "SECONDS"},
      {"burst-speed", 0, 0, G_OPTION_ARG_DOUBLE, &burst_speed,
       "Send reply audio this many times faster than real time (default 4)", "FACTOR"},
      {"response-delay-ms", 0, 0, G_OPTION_ARG_INT, &response_delay_ms,
       "Thinking time before a reply's first delta (default 150)", "MS"},
      {"reply", 0, 0, G_OPTION_ARG_STRING, &reply, "Speak this text in every spoken reply", "TEXT"},
      {"no-tool-calls", 0, 0, G_OPTION_ARG_NONE, &no_tool_calls,
       "Never call tools; always answer with speech", nullptr},
      {"agent-token", 0, 0, G_OPTION_ARG_STRING, &agent_token,
       "Bearer token of the fake OpenClaw gateway (default: $CLAWVOICE_SIM_AGENT_TOKEN; none = any)",
       "TOKEN"},
      {"agent-hooks-token", 0, 0, G_OPTION_ARG_STRING, &agent_hooks_token,
       "Token of the gateway's /hooks/agent (default: none = hooks off)", "TOKEN"},
      {"agent-delay-ms", 0, 0, G_OPTION_ARG_INT, &agent_delay_ms,
       "The agent's thinking time before its answer's first chunk (default 0)", "MS"},
      {"agent-reply", 0, 0, G_OPTION_ARG_STRING, &agent_reply,
       "The agent answers this to every question (default: \"You asked: …. Here is the answer.\")",
       "TEXT"},
      {nullptr}};
  GOptionContext *context = g_option_context_new("- OpenAI Realtime API simulator");
  g_option_context_set_summary(context,
                               "Serves the OpenAI Realtime API (GA) WebSocket protocol on a local "
                               "port, with espeak-ng speech and a server VAD, for tests.");
  g_option_context_add_main_entries(context, entries, nullptr);
  GError *error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "clawvoice-sim: %s\n", error->message);
    g_error_free(error);
    g_option_context_free(context);
    return 2;
  }
  g_option_context_free(context);

  Options options;
  options.port = 8765;
  if (listen && !parse_listen(listen, &options)) {
    fprintf(stderr, "clawvoice-sim: --listen wants HOST:PORT, got '%s'\n", listen);
    return 2;
  }
  if (api_key)
    options.api_key = api_key;
  else if (const char *env = g_getenv("CLAWVOICE_SIM_API_KEY"))
    options.api_key = env;
  if (agent_token)
    options.agent.token = agent_token;
  else if (const char *env = g_getenv("CLAWVOICE_SIM_AGENT_TOKEN"))
    options.agent.token = env;
  if (agent_hooks_token)
    options.agent.hooks_token = agent_hooks_token;
  if (agent_reply)
    options.agent.reply_text = agent_reply;
  if (agent_delay_ms < 0) {
    fprintf(stderr, "clawvoice-sim: --agent-delay-ms must not be negative\n");
    return 2;
  }
  options.agent.first_chunk_delay_ms = (unsigned) agent_delay_ms;
  if (session_max_seconds <= 0 || burst_speed <= 0 || response_delay_ms < 0) {
    fprintf(stderr, "clawvoice-sim: durations and speeds must be positive\n");
    return 2;
  }
  options.session_max_seconds = (unsigned) session_max_seconds;
  options.burst_speed = burst_speed;
  options.response_delay_ms = (unsigned) response_delay_ms;
  if (reply)
    options.reply_text = reply;
  options.tool_calls = !no_tool_calls;

  RealtimeSimulator simulator(options);
  std::string failure;
  if (!simulator.start(&failure)) {
    fprintf(stderr, "clawvoice-sim: %s\n", failure.c_str());
    return 1;
  }
  printf("clawvoice-sim listening on %s\n", simulator.url().c_str());
  printf("clawvoice-sim OpenClaw gateway on %s\n", simulator.gateway_url().c_str());
  fflush(stdout);

  GMainLoop *loop = g_main_loop_new(nullptr, FALSE);
  guint sigint = g_unix_signal_add(SIGINT, on_signal, loop);
  guint sigterm = g_unix_signal_add(SIGTERM, on_signal, loop);
  g_main_loop_run(loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  g_main_loop_unref(loop);
  simulator.stop();
  return 0;
}
