/* clawvoice-launcher — the browser-direct mode's API (docs/openai.md): the page talks to OpenAI
 * itself (WebRTC with an ephemeral key) and comes to us only for the key and for the agent.
 *
 *   POST /api/token            → {"token":"ek_…","expires_at":N,"calls_url":…}: a client secret minted with the
 *                                route's session (instructions, voice, the send_to_openclaw tool); the
 *                                real API key never leaves the server
 *   POST /api/send             {"message","sessionId"} → {"taskId"} at once; the question goes to the
 *                                agent through the OpenClaw client
 *   GET  /api/result/{taskId}  → {"taskId","status":"running"|"done"|"failed","text"?,"error"?}
 *   WS   /ws[?sessionId=…]     pushes {"type":"result","taskId","text"} (or "status":"failed","error")
 *                                for every finished task (of that browser session when given)
 *
 * All of it takes a bearer from the route's `tokens` (server.control_token when none are set); the
 * WebSocket, which a browser cannot give headers, takes it as `?token=`. Rate limited per client
 * address. Handlers run on the network thread. */
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "openai/rest_client.h"
#include "realtime/session_config.h"
#include "routes/openai_access.h"
#include "routes/openai_agent_tasks.h"
#include "routes/route.h"

namespace clawvoice::launcher {

class OpenAIBrowserApi {
 public:
  OpenAIBrowserApi(const RouteContext &context, openai::RestClient &rest, const realtime::SessionConfig &session);
  ~OpenAIBrowserApi();
  bool install(std::string *error);

 private:
  struct Listener {
    SoupWebsocketConnection *connection;
    std::string session_id;
  };
  bool admitted(SoupServerMessage *message, bool query_token);
  void on_token(SoupServerMessage *message, const std::string &path);
  void on_send(SoupServerMessage *message, const std::string &path);
  void on_result(SoupServerMessage *message, const std::string &path);
  void on_ws(SoupServerMessage *message, SoupWebsocketConnection *connection);
  void push(const AgentTaskResult &result);   /* network thread */

  const Config &config_;
  const RouteConfig &route_;
  HttpServer &server_;
  openai::RestClient &rest_;
  const realtime::SessionConfig &session_;
  std::vector<std::string> tokens_;
  RateLimiter limiter_;
  AuthFailures failures_{10, 60};
  AgentTasks tasks_;
  std::list<Listener> listeners_;             /* network thread only */
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/* JSON of a task for /api/result and /ws. */
std::string agent_task_json(const AgentTaskResult &task, bool as_push);

}  // namespace clawvoice::launcher
