/* clawvoice-launcher — the browser front door: WebRTC through webrtcbin (docs/browser.md).
 *
 *   GET  /                the voice page (web/: plain HTML/CSS/JS)
 *   POST /api/session     → {"session_id","token","expires_at","ice_servers":[…],"signal_url"}: a call is
 *                         created (pending), its token good once and for `token_ttl_seconds`; ICE
 *                         servers from the config, TURN with ephemeral credentials (TURN REST scheme).
 *                         Optional bearer (`api_token`) and Origin allowlist (`allowed_origins`)
 *   WS   /signal?token=…  the call's signalling (gst/webrtc/signal_message.h); the pipeline
 *                         (pipelines/browser.launch) is built when the offer arrives
 *
 * A token that is unknown, used or expired gets an `error` and a closed socket, and touches no call;
 * a session whose socket never comes is ended as failed when its token expires. */
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "routes/route.h"

namespace clawvoice::launcher {

class BrowserSession;

class BrowserRoute : public Route {
 public:
  explicit BrowserRoute(const RouteContext &context);
  ~BrowserRoute() override;
  bool install(std::string *error) override;
  /* Transcripts, turns, tasks and cost go to the page as `event` messages. */
  void on_call_message(const std::string &call_id, GstMessage *message) override;
  bool wants_partial_transcripts() const override { return true; }   /* the page's live captions */
  /* Tells the page (`state`, `bye`) and closes its socket. */
  void on_call_ended(const CallSnapshot &call) override;
  std::vector<std::string> banner() const override;

 private:
  struct PendingSession {
    std::string call_id;
    gint64 expires_us = 0;
    std::string voice;
  };
  void on_session_request(SoupServerMessage *message, const std::string &path);
  void on_signal(SoupServerMessage *message, SoupWebsocketConnection *connection);
  bool origin_allowed(SoupServerMessage *message) const;
  std::string ice_servers_json(const std::string &session_id) const;
  bool take_token(const std::string &token, PendingSession *out);

  const Config &config_;
  const RouteConfig &route_;
  CallManager &calls_;
  Metrics &metrics_;
  HttpServer &server_;
  std::string web_root_;
  std::mutex lock_;
  std::map<std::string, PendingSession> tokens_;   /* single-use signalling tokens */
  /* Network thread only: the calls whose page is connected. */
  std::map<std::string, std::shared_ptr<BrowserSession>> sessions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace clawvoice::launcher
