/* clawvoice-launcher — a front door: the way callers reach the launcher (Twilio, browser, SIP, …).
 *
 * Each route lives in its own file under routes/ and is listed once in routes.cpp. The service makes
 * every enabled route at start, calls install() once (add HTTP/WebSocket handlers, open sockets),
 * hands it every element message of every call, tells it when a call is over (so it can hang up on
 * its side: a SIP BYE, say), and destroys it before the session manager. */
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>
#include <vector>

#include "call_manager.h"
#include "config.h"
#include "http_server.h"
#include "metrics.h"

namespace clawvoice::launcher {

/* What a route may use; every reference outlives the route. */
struct RouteContext {
  const Config &config;
  const RouteConfig &route;
  CallManager &calls;
  Metrics &metrics;
  HttpServer &server;
  const RealtimeEndpoint &realtime;   /* the voice model every call talks to */
  const AgentEndpoint &agent;         /* the OpenClaw gateway (or the simulator's fake one) */
};

class Route {
 public:
  virtual ~Route() = default;
  /* Adds handlers / opens sockets. false (and *error) stops the launcher from starting. */
  virtual bool install(std::string *error) = 0;
  /* Every element message of every call (main context), but partial transcripts only for routes
   * that want them (wants_partial_transcripts()); a route ignores other routes' calls. */
  virtual void on_call_message(const std::string &call_id, GstMessage *message) { (void) call_id; (void) message; }
  /* Whether on_call_message() should see its calls' partial transcripts (live captions). */
  virtual bool wants_partial_transcripts() const { return false; }
  /* A call is over (main context, after its pipeline is down): hang up on the route's side. */
  virtual void on_call_ended(const CallSnapshot &call) { (void) call; }
  /* Lines for the start banner of the embedded default (URLs to use, demo credentials). */
  virtual std::vector<std::string> banner() const { return {}; }
  /* A call placed from the control API (POST /calls {"route": name(), "to": @to}): true and its
   * *call_id (pending until answered), else the HTTP *status to answer and *error. Runs on the
   * network thread: it starts the call and returns, never waits for the callee. */
  virtual bool place_call(const std::string &to, std::string *call_id, guint *status, std::string *error)
  {
    (void) to;
    (void) call_id;
    *status = 400;
    *error = "the " + name_ + " route does not place calls";
    return false;
  }
  /* The route's name in the config ("twilio", "sip", …). */
  const std::string &name() const { return name_; }

 private:
  friend std::vector<std::unique_ptr<Route>> make_routes(const Config &, CallManager &, Metrics &, HttpServer &,
                                                         const RealtimeEndpoint &, const AgentEndpoint &);
  std::string name_;
};

/* Every enabled route of the config, made but not installed (routes.cpp: one line per route). */
std::vector<std::unique_ptr<Route>> make_routes(const Config &config, CallManager &calls, Metrics &metrics,
                                                HttpServer &server, const RealtimeEndpoint &realtime,
                                                const AgentEndpoint &agent);

}  // namespace clawvoice::launcher
