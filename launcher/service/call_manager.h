/* clawvoice-launcher — the session manager: every call, its pipeline, its state and its end.
 *
 * A call is pending (a front door accepted it, no media yet) → active (its pipeline plays) → ended,
 * failed or expired, always with an end reason. The manager owns the only references to pipelines
 * (the way gst-rtsp-server's media owns its bin): a route asks for a call, then for its pipeline to be
 * built from the route's launch file, and tells the manager when the far end is gone; the manager
 * enforces the concurrency limit and the time-to-live, watches each bus and tears each pipeline down
 * completely.
 *
 * Threads: routes call in from the network thread (HTTP handlers) and pipelines are built there, so
 * that no media message from a peer is lost between accepting it and the element taking over. Bus
 * watches, timers and teardown run on the launcher's main context: a state change to NULL joins
 * streaming threads and must never run on the network thread. Every public method is thread-safe. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.h"
#include "launch_file.h"
#include "metrics.h"

namespace clawvoice::launcher {

enum class CallState { Pending, Active, Ended, Failed, Expired };
const char *call_state_name(CallState state);

/* One task the voice handed to the agent (openclawrelay's `clawvoice-task` messages). */
struct AgentTask {
  guint id = 0;
  std::string status;      /* pending | running | done | failed | cancelled | timeout */
  std::string question;
  gint64 elapsed_ms = 0;
};

/* A copy of a call's public facts, for /calls and tests. */
struct CallSnapshot {
  std::string id;
  std::string route;
  std::string caller;
  CallState state = CallState::Pending;
  std::string end_reason;
  std::string started_at;          /* ISO 8601 UTC */
  double duration_s = 0.0;         /* since the call was created, up to its end */
  double cost_usd = 0.0;
  std::map<std::string, std::string> params;   /* route facts: call_sid, stream_sid, … (no secrets) */
  CallCounters counters;
  std::vector<AgentTask> tasks;
};

/* Where the voice model is: set on every realtimesink of every call unless the config's element
 * properties already name url / api-key. */
struct RealtimeEndpoint {
  std::string url;
  std::string api_key;
};

/* Where the agent is: set on every openclawrelay (url, token, agent-id) unless the config's element
 * properties name them; call-id and caller are set per call. */
struct AgentEndpoint {
  std::string url;
  std::string token;
  std::string agent_id;
};

class CallManager {
 public:
  using Hook = std::function<bool(GstBin *pipeline, std::string *error)>;
  using MessageHook = std::function<void(const std::string &call_id, GstMessage *message)>;
  using EndHook = std::function<void(const CallSnapshot &call)>;

  CallManager(const Config &config, RealtimeEndpoint endpoint, AgentEndpoint agent, Metrics &metrics,
              GMainContext *main_context);
  ~CallManager();

  /* Takes a slot for a new call on @route. Returns its id, or "" (and *refusal: "busy",
   * "shutting-down") when it must be refused. The call is pending until start_pipeline(). */
  std::string create(const std::string &route, const std::string &caller,
                     std::map<std::string, std::string> params, std::string *refusal);
  /* Builds the call's pipeline from the route's launch file with the configured element properties
   * (per-call placeholders expanded), lets @prepare set what only the route knows (a socket, say),
   * and sets it PLAYING. Runs on the calling thread. On failure the call ends as failed. */
  bool start_pipeline(const std::string &id, const Hook &prepare, std::string *error);
  /* Ends a call (any state) with a reason; the pipeline is torn down on a teardown thread, and
   * the call is over (end hook, log, metrics) back on the main context. */
  bool end(const std::string &id, CallState final_state, const std::string &reason);
  /* Adds route facts to a call (shown in /calls). */
  void set_param(const std::string &id, const std::string &key, const std::string &value);
  /* Finds a call by one of its params (e.g. the Twilio CallSid); "" if none is live. */
  std::string find_by_param(const std::string &key, const std::string &value) const;

  /* Every element message of every call's bus also goes here (on the main context), except the
   * partial transcripts (clawvoice-transcript with final=false) of calls on routes that did not
   * ask for them: there are a dozen a second per call, and only a browser shows live captions. */
  void set_message_hook(MessageHook hook) { message_hook_ = std::move(hook); }
  /* The routes whose calls' partial transcripts reach the message hook. Set before any call. */
  void set_partial_transcript_routes(std::set<std::string> routes) { partial_transcript_routes_ = std::move(routes); }
  /* Every call that is over, once its pipeline is down (on the main context): routes hang up. */
  void set_end_hook(EndHook hook) { end_hook_ = std::move(hook); }

  std::vector<CallSnapshot> live_calls() const;
  bool snapshot(const std::string &id, CallSnapshot *out) const;   /* live or recently over */
  std::map<std::string, int> count_by_state() const;
  CallCounters live_counters() const;
  size_t live_count() const;

  /* Refuses new calls from now on and ends the running ones; @done runs on the main context once
   * every pipeline is down. */
  void shutdown(std::function<void()> done);

 private:
  struct Call;
  void on_bus_message(const std::string &id, GstMessage *message);
  /* A pipeline on its way down and what to do once it is (on the teardown thread). */
  struct TeardownJob {
    GstElement *pipeline;
    std::function<void()> done;
  };
  void finish_on_main(std::shared_ptr<Call> call);
  static void run_teardown(gpointer job, gpointer);
  void complete_on_main(std::shared_ptr<Call> call, gint64 teardown_start_us);
  void refresh_counters(Call &call);
  CallSnapshot make_snapshot(const Call &call) const;

  const Config &config_;
  RealtimeEndpoint endpoint_;
  AgentEndpoint agent_;
  Metrics &metrics_;
  GMainContext *main_context_;
  MessageHook message_hook_;
  std::set<std::string> partial_transcript_routes_;
  EndHook end_hook_;
  std::map<std::string, std::string> launch_descriptions_;
  GThreadPool *teardown_pool_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);   /* false once destroyed */   /* route → launch text (comments gone) */

  mutable std::mutex lock_;
  std::map<std::string, std::shared_ptr<Call>> live_;
  std::vector<CallSnapshot> recent_;   /* calls that are over, newest last, bounded */
  bool accepting_ = true;
  std::function<void()> shutdown_done_;
};

}  // namespace clawvoice::launcher
