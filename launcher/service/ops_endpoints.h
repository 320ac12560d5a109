/* clawvoice-launcher — operations endpoints.
 *
 *   GET    /health       public: version, uptime, calls, backend reachability (no secrets)
 *   GET    /calls        bearer: the live calls (state, route, caller, duration, cost so far)
 *   POST   /calls        bearer: place a call {"route": "sip", "to": "sip:…"} → 201 {"id", "state"}
 *   GET    /calls/{id}   bearer: one call, live or recently over (with its end reason)
 *   DELETE /calls/{id}   bearer: hang up
 *   GET    /metrics      bearer: Prometheus text format
 *
 * The bearer token is the config's server.control_token; without one the control endpoints
 * answer 403. */
#pragma once

#include <functional>
#include <string>

#include "call_manager.h"
#include "http_server.h"
#include "metrics.h"

namespace clawvoice::launcher {

struct BackendStatus {
  std::string kind;       /* "simulator" | "openai" */
  std::string url;
  bool reachable = false;
  std::string detail;
};

struct OpsContext {
  const Config *config = nullptr;
  CallManager *calls = nullptr;
  Metrics *metrics = nullptr;
  gint64 started_us = 0;   /* monotonic */
  std::function<BackendStatus()> backend_status;   /* cheap: cached by the caller */
  /* POST /calls: the named route places a call to @to (Route::place_call). */
  std::function<bool(const std::string &route, const std::string &to, std::string *call_id, guint *status,
                     std::string *error)> place_call;
};

void add_ops_endpoints(HttpServer &server, OpsContext context);

/* JSON of one call, as /calls shows it. */
std::string call_to_json(const CallSnapshot &call);

}  // namespace clawvoice::launcher
