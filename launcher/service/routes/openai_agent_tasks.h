/* clawvoice-launcher — agent tasks started over HTTP (the browser-direct mode's POST /api/send):
 * each is one question to the OpenClaw gateway through the shared streaming client, answered
 * later by GET /api/result/{taskId} or pushed to WS /ws.
 *
 * Task ids are random (a browser polls its own tasks by id; ids must not be guessable). Finished
 * tasks are kept for kKeepSeconds and at most kMaxTasks are remembered. Thread-safe; callbacks run
 * on the network thread. */
#pragma once

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "call_manager.h"
#include "openclaw/gateway_client.h"

namespace clawvoice::launcher {

/* Sent with every question that comes from a voice: the answer will be read aloud. */
extern const char *const kVoiceAnswerPrompt;

struct AgentTaskResult {
  std::string id;
  std::string session_id;
  std::string status;      /* running | done | failed */
  std::string text;        /* done: the answer, cleaned for speech */
  std::string error;       /* failed: what went wrong (no secrets) */
  gint64 started_us = 0;
  gint64 finished_us = 0;
};

class AgentTasks {
 public:
  static constexpr int kKeepSeconds = 600;
  static constexpr size_t kMaxTasks = 2000;

  AgentTasks(std::shared_ptr<net::NetThread> thread, const AgentEndpoint &agent);
  ~AgentTasks();

  /* Starts a task; returns its id. @on_finished runs once, on the network thread. */
  std::string start(const std::string &message, const std::string &session_id,
                    std::function<void(const AgentTaskResult &)> on_finished);
  bool result(const std::string &id, AgentTaskResult *out) const;
  /* The OpenClaw session a browser session's questions go to. */
  std::string session_key_for(const std::string &session_id) const;

 private:
  void forget_old(gint64 now);

  std::string agent_id_;
  std::unique_ptr<openclaw::GatewayClient> client_;
  mutable std::mutex lock_;
  std::map<std::string, AgentTaskResult> tasks_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace clawvoice::launcher
