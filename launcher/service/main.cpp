/* clawvoice-launcher — the service: HTTP/WebSocket front doors, one pipeline per call.
 *
 *   clawvoice-launcher                       the embedded default: the Realtime simulator as the
 *                                            backend, demo credentials printed at start
 *   clawvoice-launcher --config FILE         a config file (docs/config.md)
 *   clawvoice-launcher --listen HOST:PORT    overrides server.listen
 *   clawvoice-launcher --check [--config F]  validates the config and its launch files, then exits
 *
 * Logs are JSON lines on stdout. SIGTERM/SIGINT stop accepting calls, end the running ones cleanly
 * and exit; a second signal exits at once. */
#include <glib-unix.h>
#include <gst/gst.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "backend_probe.h"
#include "call_manager.h"
#include "config.h"
#include "http_server.h"
#include "json_log.h"
#include "metrics.h"
#include "ops_endpoints.h"
#include "realtime_simulator.h"
#include "routes/route.h"

extern "C" gboolean gst_plugin_clawvoice_register(void);

using namespace clawvoice::launcher;

/* The launch files: $CLAWVOICE_PIPELINES_DIR, else the source tree's (a build run from it), else
 * the installed ones. */
static std::string builtin_pipelines_dir()
{
  const char *env = g_getenv("CLAWVOICE_PIPELINES_DIR");
  if (env && *env)
    return env;
  if (g_file_test(CLAWVOICE_SOURCE_PIPELINES_DIR, G_FILE_TEST_IS_DIR))
    return CLAWVOICE_SOURCE_PIPELINES_DIR;
  return CLAWVOICE_INSTALLED_PIPELINES_DIR;
}

struct Service {
  GMainLoop *loop = nullptr;
  CallManager *calls = nullptr;
  HttpServer *server = nullptr;
  int signals = 0;
};

static gboolean on_signal(gpointer data)
{
  auto *service = static_cast<Service *>(data);
  if (++service->signals > 1) {
    log_event(LogLevel::Warning, "launcher.forced_exit", {});
    g_main_loop_quit(service->loop);
    return G_SOURCE_CONTINUE;
  }
  service->calls->shutdown([service]() { g_main_loop_quit(service->loop); });
  /* A pipeline that will not stop must not keep the service alive forever. */
  g_timeout_add_seconds(15, [](gpointer d) -> gboolean {
    log_event(LogLevel::Error, "launcher.shutdown_timeout", {});
    g_main_loop_quit(static_cast<Service *>(d)->loop);
    return G_SOURCE_REMOVE;
  }, service);
  return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
  gchar *config_path = nullptr, *listen = nullptr;
  gboolean check = FALSE, version = FALSE;
  GOptionEntry entries[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Config file (JSON with comments)", "FILE"},
    {"listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Listen address, overrides server.listen", "HOST:PORT"},
    {"check", 0, 0, G_OPTION_ARG_NONE, &check, "Validate the config and every launch file it names, then exit", nullptr},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", nullptr},
    {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  GOptionContext *options = g_option_context_new("- clawvoice launcher: a real-time voice for your agent");
  g_option_context_add_main_entries(options, entries, nullptr);
  g_option_context_add_group(options, gst_init_get_option_group());
  GError *error = nullptr;
  if (!g_option_context_parse(options, &argc, &argv, &error)) {
    fprintf(stderr, "clawvoice-launcher: %s\n", error->message);
    return 2;
  }
  g_option_context_free(options);
  if (version) {
    printf("clawvoice-launcher %s\n", VERSION);
    return 0;
  }
  gst_init(nullptr, nullptr);
  gst_plugin_clawvoice_register();
  const std::string pipelines = builtin_pipelines_dir();
  const std::string path = config_path ? config_path : "";

  if (check)
    return run_config_check(path, pipelines, std::cout, std::cerr);

  std::optional<Config> loaded;
  if (path.empty()) {
    loaded = default_config(pipelines);
  } else {
    std::vector<ConfigError> errors;
    loaded = load_config(path, pipelines, &errors);
    for (const ConfigError &e : errors)
      fprintf(stderr, "%s\n", e.to_string().c_str());
    if (!loaded)
      return 1;
  }
  Config config = std::move(*loaded);
  if (listen) {
    std::string why;
    if (!parse_listen_address(listen, &config.listen, &why)) {
      fprintf(stderr, "clawvoice-launcher: --listen %s: %s\n", listen, why.c_str());
      return 2;
    }
  }
  set_log_level(config.log_level);
  if (!config.gst_debug.empty())
    gst_debug_set_threshold_from_string(config.gst_debug.c_str(), TRUE);

  /* The voice model: the embedded simulator, or the real service. */
  std::unique_ptr<clawvoice::sim::RealtimeSimulator> simulator;
  RealtimeEndpoint endpoint;
  AgentEndpoint agent{config.openclaw.url, config.openclaw.token, config.openclaw.agent_id};
  std::string backend_kind;
  bool need_simulator = config.realtime.kind == RealtimeBackend::Kind::Simulator ||
                        config.openclaw.kind == AgentBackend::Kind::Simulator;
  if (need_simulator) {
    clawvoice::sim::Options sim;
    sim.host = config.simulator.listen.host;
    sim.port = config.simulator.listen.port;
    sim.api_key = config.simulator.api_key;
    sim.reply_text = config.simulator.reply;
    sim.response_delay_ms = config.simulator.response_delay_ms;
    /* Its fake OpenClaw gateway takes the same key. */
    sim.agent.token = config.simulator.api_key;
    simulator = std::make_unique<clawvoice::sim::RealtimeSimulator>(sim);
    std::string why;
    if (!simulator->start(&why)) {
      log_event(LogLevel::Error, "launcher.simulator_failed", {{"error", why}});
      return 1;
    }
    if (config.openclaw.kind == AgentBackend::Kind::Simulator)
      agent = {"http://" + config.simulator.listen.host + ":" + std::to_string(simulator->port()),
               config.simulator.api_key, config.openclaw.agent_id};
  }
  if (config.realtime.kind == RealtimeBackend::Kind::Simulator) {
    endpoint = {simulator->url(), config.simulator.api_key};
    backend_kind = "simulator";
  } else {
    endpoint = {config.realtime.url, config.realtime.api_key};
    backend_kind = "openai";
  }

  auto thread = clawvoice::net::NetThread::acquire();
  Metrics metrics;
  Service service;
  service.loop = g_main_loop_new(nullptr, FALSE);
  auto server = std::make_unique<HttpServer>(thread);
  std::string why;
  if (!server->listen(config.listen, &why)) {
    log_event(LogLevel::Error, "launcher.listen_failed", {{"error", why}});
    fprintf(stderr, "clawvoice-launcher: %s\n", why.c_str());
    return 1;
  }
  config.listen.port = server->port();
  if (config.public_url_derived)
    config.public_url = derive_public_url(config.listen);

  auto calls = std::make_unique<CallManager>(config, endpoint, agent, metrics, g_main_context_default());
  BackendProbe probe(thread, backend_kind, endpoint.url);
  OpsContext ops;
  ops.config = &config;
  ops.calls = calls.get();
  ops.metrics = &metrics;
  ops.started_us = g_get_monotonic_time();
  ops.backend_status = [&probe]() {
    BackendStatus status;
    status.kind = probe.kind();
    status.url = probe.url();
    status.reachable = probe.reachable(&status.detail);
    return status;
  };
  std::vector<std::unique_ptr<Route>> routes = make_routes(config, *calls, metrics, *server, endpoint, agent);
  ops.place_call = [&routes](const std::string &name, const std::string &to, std::string *call_id, guint *status,
                             std::string *error) {
    for (auto &route : routes)
      if (route->name() == name)
        return route->place_call(to, call_id, status, error);
    return false;   /* *status and *error: no such route */
  };
  add_ops_endpoints(*server, ops);
  for (auto &route : routes) {
    if (!route->install(&why)) {
      log_event(LogLevel::Error, "launcher.route_failed", {{"error", why}});
      fprintf(stderr, "clawvoice-launcher: %s\n", why.c_str());
      return 1;
    }
  }
  std::set<std::string> caption_routes;
  for (auto &route : routes)
    if (route->wants_partial_transcripts())
      caption_routes.insert(route->name());
  calls->set_partial_transcript_routes(std::move(caption_routes));
  calls->set_message_hook([&routes](const std::string &id, GstMessage *message) {
    for (auto &route : routes)
      route->on_call_message(id, message);
  });
  calls->set_end_hook([&routes](const CallSnapshot &call) {
    for (auto &route : routes)
      route->on_call_ended(call);
  });

  service.calls = calls.get();
  service.server = server.get();
  g_unix_signal_add(SIGTERM, on_signal, &service);
  g_unix_signal_add(SIGINT, on_signal, &service);

  log_event(LogLevel::Info, "launcher.started", {{"version", VERSION}, {"listen", config.listen.to_string()},
      {"public_url", config.public_url}, {"backend", backend_kind}, {"backend_url", endpoint.url}, {"agent_url", agent.url},
      {"config", config.source}, {"max_concurrent_calls", config.max_concurrent_calls},
      {"call_ttl_seconds", config.call_ttl_seconds}});
  log_event(LogLevel::Debug, "launcher.config", {{"config", describe_config(config)}});
  if (path.empty()) {
    /* The embedded default makes up its credentials: the person running it needs to see them. */
    fprintf(stderr,
        "\nclawvoice-launcher %s: embedded default (Realtime simulator at %s, no keys needed)\n"
        "  health:          %s/health\n"
        "  calls, metrics:  %s/calls  %s/metrics   (Authorization: Bearer %s)\n",
        VERSION, endpoint.url.c_str(), config.public_url.c_str(), config.public_url.c_str(),
        config.public_url.c_str(), config.control_token.c_str());
    for (auto &route : routes) {
      for (const std::string &line : route->banner())
        fprintf(stderr, "  %s\n", line.c_str());
    }
    fprintf(stderr, "\n");
  }

  g_main_loop_run(service.loop);

  server->stop();
  routes.clear();
  calls.reset();
  server.reset();
  if (simulator)
    simulator->stop();
  log_event(LogLevel::Info, "launcher.stopped", {});
  g_main_loop_unref(service.loop);
  g_free(config_path);
  g_free(listen);
  return 0;
}
