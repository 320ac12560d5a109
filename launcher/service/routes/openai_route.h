/* clawvoice-launcher — the OpenAI front door (docs/openai.md): calls OpenAI carries itself.
 *
 * SIP into OpenAI, controlled over the sideband:
 *   POST /openai/webhook       OpenAI's signed webhooks (Standard Webhooks, the route's whsec_ secret,
 *                              5-minute tolerance). `realtime.call.incoming`: the caller (From) is
 *                              checked against allow_callers and the call limit, then the call is
 *                              accepted (POST …/calls/{id}/accept with the route's session) or rejected
 *                              (…/reject with reject_status). The webhook is answered 200 at once either
 *                              way; the accept goes out in parallel. After the accept a sideband
 *                              pipeline (pipelines/openai-sideband.launch) joins ?call_id= and runs the
 *                              tool calls; the call shows in /calls and /metrics like any other.
 *   POST /openai/calls/{id}/refer   {"target_uri":"tel:+1…"}: transfer (control token)
 *   POST /openai/calls/{id}/hangup  hang up (control token; DELETE /calls/{id} does the same)
 *   A call the launcher ends (DELETE /calls, TTL, shutdown, a failed pipeline) is hung up at OpenAI.
 *
 * Browser straight to OpenAI (openai_browser_api.h): /api/token, /api/send, /api/result/{id}, WS /ws. */
#pragma once

#include <gst/gst.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "openai/rest_client.h"
#include "openai/webhook_signature.h"
#include "realtime/session_config.h"
#include "routes/route.h"

namespace clawvoice::launcher {

class OpenAIBrowserApi;

class OpenAIRoute : public Route {
 public:
  explicit OpenAIRoute(const RouteContext &context);
  ~OpenAIRoute() override;
  bool install(std::string *error) override;
  void on_call_message(const std::string &call_id, GstMessage *message) override;
  void on_call_ended(const CallSnapshot &call) override;
  std::vector<std::string> banner() const override;

  /* The session the route accepts calls with and mints client secrets for. */
  static realtime::SessionConfig session_of(const RouteConfig &route);

 private:
  void on_webhook(SoupServerMessage *message, const std::string &path);
  void on_control(SoupServerMessage *message, const std::string &path);
  void on_incoming(const std::string &rtc_id, const std::string &caller, const std::string &callee);
  void start_sideband(const std::string &call_id, const std::string &rtc_id);
  bool caller_allowed(const std::string &caller) const;
  bool first_delivery(const std::string &webhook_id);

  const Config &config_;
  const RouteConfig &route_;
  CallManager &calls_;
  Metrics &metrics_;
  HttpServer &server_;
  openai::WebhookSecret secret_;
  realtime::SessionConfig session_;
  std::unique_ptr<openai::RestClient> rest_;
  std::unique_ptr<OpenAIBrowserApi> browser_api_;
  std::mutex lock_;
  std::deque<std::string> seen_webhooks_;          /* webhook-ids already handled (OpenAI retries) */
  std::set<std::string> hung_up_;                  /* rtc ids we already hung up */
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace clawvoice::launcher
