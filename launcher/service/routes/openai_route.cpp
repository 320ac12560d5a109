#include "routes/openai_route.h"

#include "common/json.h"
#include "json_log.h"
#include "openai/call_control.h"
#include "pipeline_elements.h"
#include "routes/openai_browser_api.h"

namespace clawvoice::launcher {

static const char *kRoute = "openai";
static constexpr size_t kSeenWebhooks = 512;   /* webhook-ids remembered against retries */

realtime::SessionConfig OpenAIRoute::session_of(const RouteConfig &route)
{
  realtime::SessionConfig session;
  session.model = route.session_model;
  session.voice = route.session_voice;
  session.instructions = route.session_instructions;
  session.transcription_model = route.transcription_model;
  session.tools = {openai::agent_tool()};
  session.sideband = true;
  return session;
}

OpenAIRoute::OpenAIRoute(const RouteContext &context)
    : config_(context.config), route_(context.route), calls_(context.calls), metrics_(context.metrics),
      server_(context.server), session_(session_of(context.route))
{
  std::string why;
  openai::WebhookSecret::parse(route_.webhook_secret, &secret_, &why);   /* checked at config load */
  rest_ = std::make_unique<openai::RestClient>(server_.thread(), openai::rest_base_of_realtime_url(context.realtime.url),
                                               context.realtime.api_key);
  browser_api_ = std::make_unique<OpenAIBrowserApi>(context, *rest_, session_);
}

OpenAIRoute::~OpenAIRoute()
{
  server_.thread()->invoke_sync([this]() { *alive_ = false; });
  browser_api_.reset();
  rest_.reset();
}

bool OpenAIRoute::install(std::string *error)
{
  if (rest_->base_url().empty()) {
    *error = "routes.openai: the realtime backend's url is not a ws:// or wss:// URL";
    return false;
  }
  server_.add_handler("/openai/webhook", [this](SoupServerMessage *message, const std::string &path) {
    on_webhook(message, path);
  });
  server_.add_handler("/openai/calls", [this](SoupServerMessage *message, const std::string &path) {
    on_control(message, path);
  });
  rest_->preconnect();
  return browser_api_->install(error);
}

std::vector<std::string> OpenAIRoute::banner() const
{
  /* Printed only by the embedded default, whose secrets are made up for the demo (docs/config.md). */
  const std::string &token = route_.bearer_tokens.empty() ? config_.control_token : route_.bearer_tokens.front();
  return {"OpenAI SIP webhook: " + config_.public_url + "/openai/webhook   (demo signing secret: " +
              route_.webhook_secret + ")",
          "Direct to OpenAI: " + config_.public_url + "/#token=" + token +
              "   (the page's \"Direct to OpenAI\" mode; /api/token, /api/send, /ws take this bearer)"};
}

bool OpenAIRoute::first_delivery(const std::string &webhook_id)
{
  std::lock_guard<std::mutex> guard(lock_);
  for (const std::string &seen : seen_webhooks_)
    if (seen == webhook_id)
      return false;
  seen_webhooks_.push_back(webhook_id);
  if (seen_webhooks_.size() > kSeenWebhooks)
    seen_webhooks_.pop_front();
  return true;
}

bool OpenAIRoute::caller_allowed(const std::string &caller) const
{
  if (route_.allow_callers.empty())
    return true;
  for (const std::string &pattern : route_.allow_callers) {
    if (pattern == "*" || pattern == caller)
      return true;
    if (pattern.size() > 1 && pattern.back() == '*' && caller.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0)
      return true;
  }
  return false;
}

void OpenAIRoute::on_webhook(SoupServerMessage *message, const std::string &path)
{
  if (path != "/openai/webhook") {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  if (g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  const gint64 received_us = g_get_monotonic_time();
  std::string body = request_body(message);
  openai::WebhookHeaders headers{request_header(message, "webhook-id"), request_header(message, "webhook-timestamp"),
                                 request_header(message, "webhook-signature")};
  openai::WebhookVerdict verdict = openai::verify_webhook(secret_, headers, body, g_get_real_time() / G_USEC_PER_SEC);
  if (verdict != openai::WebhookVerdict::Valid) {
    bool malformed = verdict == openai::WebhookVerdict::MissingHeaders || verdict == openai::WebhookVerdict::BadTimestamp;
    guint status = malformed ? SOUP_STATUS_BAD_REQUEST : SOUP_STATUS_UNAUTHORIZED;
    log_event(LogLevel::Warning, "openai.webhook_rejected", {{"peer", peer_of(message)},
        {"why", openai::webhook_verdict_name(verdict)}, {"webhook_id", headers.id}});
    metrics_.webhook(kRoute, (int) status);
    respond_error(message, status, malformed ? "missing or malformed webhook headers" : "invalid webhook signature");
    return;
  }
  std::string type, error;
  std::optional<openai::IncomingCall> call = openai::parse_call_incoming(body, &type, &error);
  if (!call && (type.empty() || type == "realtime.call.incoming")) {
    log_event(LogLevel::Warning, "openai.webhook_malformed", {{"peer", peer_of(message)}, {"error", error}});
    metrics_.webhook(kRoute, SOUP_STATUS_BAD_REQUEST);
    respond_error(message, SOUP_STATUS_BAD_REQUEST, "malformed event: " + error);
    return;
  }
  metrics_.webhook(kRoute, SOUP_STATUS_OK);
  /* Answered at once: OpenAI waits for nothing we do next. */
  respond_json(message, SOUP_STATUS_OK, "{}");
  if (!call) {
    log_event(LogLevel::Info, "openai.webhook_ignored", {{"type", type}, {"webhook_id", headers.id}});
    return;
  }
  if (!first_delivery(headers.id)) {
    log_event(LogLevel::Info, "openai.webhook_duplicate", {{"webhook_id", headers.id}, {"rtc_id", call->call_id}});
    return;
  }
  if (!calls_.find_by_param("openai_call_id", call->call_id).empty()) {
    log_event(LogLevel::Info, "openai.webhook_duplicate", {{"webhook_id", headers.id}, {"rtc_id", call->call_id}});
    return;
  }
  log_event(LogLevel::Info, "openai.call_incoming", {{"rtc_id", call->call_id}, {"caller", call->caller()},
      {"callee", call->callee()}, {"verify_us", (long long) (g_get_monotonic_time() - received_us)}});
  on_incoming(call->call_id, call->caller(), call->callee());
}

void OpenAIRoute::on_incoming(const std::string &rtc_id, const std::string &caller, const std::string &callee)
{
  std::shared_ptr<bool> alive = alive_;
  auto reject = [this, alive, rtc_id](unsigned status, const std::string &why) {
    log_event(LogLevel::Info, "openai.call_rejected", {{"rtc_id", rtc_id}, {"why", why}, {"sip_status", status}});
    rest_->post(openai::call_control_path(rtc_id, "reject"), openai::build_reject_body(status),
                [alive, rtc_id](const openai::RestAnswer &answer) {
                  if (!answer.ok())
                    log_event(LogLevel::Warning, "openai.reject_failed", {{"rtc_id", rtc_id},
                        {"status", answer.status}, {"error", answer.error}});
                });
  };
  if (!caller_allowed(caller)) {
    metrics_.call_refused(kRoute, "caller-not-allowed");
    reject(route_.reject_status, "caller not allowed");
    return;
  }
  std::string refusal;
  std::string call_id = calls_.create(kRoute, caller, {{"openai_call_id", rtc_id}, {"to", callee}}, &refusal);
  if (call_id.empty()) {
    reject(486, refusal);   /* Busy Here: the launcher is full or stopping */
    return;
  }
  const gint64 started_us = g_get_monotonic_time();
  rest_->post(openai::call_control_path(rtc_id, "accept"), openai::build_call_session(session_),
              [this, alive, call_id, rtc_id, started_us](const openai::RestAnswer &answer) {
                if (!*alive)
                  return;
                double accept_ms = (g_get_monotonic_time() - started_us) / 1000.0;
                if (!answer.ok()) {
                  log_event(LogLevel::Error, "openai.accept_failed", {{"call_id", call_id}, {"rtc_id", rtc_id},
                      {"status", answer.status}, {"error", answer.error}});
                  {
                    std::lock_guard<std::mutex> guard(lock_);
                    hung_up_.insert(rtc_id);   /* never accepted: nothing to hang up */
                  }
                  calls_.end(call_id, CallState::Failed, "OpenAI refused the accept: " + answer.error);
                  return;
                }
                log_event(LogLevel::Info, "openai.call_accepted", {{"call_id", call_id}, {"rtc_id", rtc_id},
                    {"accept_ms", accept_ms}});
                start_sideband(call_id, rtc_id);
              });
}

void OpenAIRoute::start_sideband(const std::string &call_id, const std::string &rtc_id)
{
  ElementProperties configured = config_.properties_for(kRoute);
  std::string error;
  calls_.start_pipeline(call_id, [&](GstBin *pipeline, std::string *why) {
    GstElement *sink = nullptr;
    for_each_element_of(pipeline, "realtimesink", [&sink](GstElement *e) {
      if (!sink)
        sink = GST_ELEMENT(gst_object_ref(e));
    });
    if (!sink) {
      *why = "the launch file has no realtimesink";
      return false;
    }
    g_object_set(sink, "call-id", rtc_id.c_str(), nullptr);
    /* The session the call was accepted with, unless the config names these properties itself. */
    char *name = gst_element_get_name(sink);
    const auto &props = configured[name];
    g_free(name);
    if (!props.count("instructions"))
      g_object_set(sink, "instructions", session_.instructions.c_str(), nullptr);
    if (!props.count("voice"))
      g_object_set(sink, "voice", session_.voice.c_str(), nullptr);
    if (!props.count("model"))
      g_object_set(sink, "model", session_.model.c_str(), nullptr);
    if (!props.count("transcription-model") && !session_.transcription_model.empty())
      g_object_set(sink, "transcription-model", session_.transcription_model.c_str(), nullptr);
    gst_object_unref(sink);
    return true;
  }, &error);
}

void OpenAIRoute::on_call_message(const std::string &call_id, GstMessage *message)
{
  const GstStructure *s = gst_message_get_structure(message);
  if (!s || !gst_structure_has_name(s, "clawvoice-connection"))
    return;
  CallSnapshot call;
  if (!calls_.snapshot(call_id, &call) || call.route != kRoute)
    return;
  const gchar *state = gst_structure_get_string(s, "state");
  const gchar *detail = gst_structure_get_string(s, "detail");
  /* OpenAI closes the sideband normally when the call is over (the caller hung up, a transfer
   * completed): realtimesink then reports the session disconnected (not reconnecting) and ends its
   * streams, so the relay records the call. */
  (void) detail;
  if (g_strcmp0(state, "disconnected") == 0) {
    calls_.set_param(call_id, "ended_at_openai", "true");
    {
      std::lock_guard<std::mutex> guard(lock_);
      hung_up_.insert(call.params["openai_call_id"]);
    }
    calls_.end(call_id, CallState::Ended, "the call ended at OpenAI");
  }
}

void OpenAIRoute::on_call_ended(const CallSnapshot &call)
{
  if (call.route != kRoute)
    return;
  auto it = call.params.find("openai_call_id");
  if (it == call.params.end())
    return;
  std::string rtc_id = it->second;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (!hung_up_.insert(rtc_id).second)
      return;
    if (hung_up_.size() > 4096)
      hung_up_.clear();
  }
  std::string call_id = call.id;
  rest_->post(openai::call_control_path(rtc_id, "hangup"), "", [call_id, rtc_id](const openai::RestAnswer &answer) {
    log_event(answer.ok() ? LogLevel::Info : LogLevel::Warning, "openai.hangup",
              {{"call_id", call_id}, {"rtc_id", rtc_id}, {"status", answer.status}, {"error", answer.error}});
  });
}

/* POST /openai/calls/{id}/refer | /hangup, id = the launcher's call id or OpenAI's rtc_ id. */
void OpenAIRoute::on_control(SoupServerMessage *message, const std::string &path)
{
  if (!has_bearer(message, config_.control_token)) {
    respond_error(message, config_.control_token.empty() ? SOUP_STATUS_FORBIDDEN : SOUP_STATUS_UNAUTHORIZED,
                  config_.control_token.empty() ? "control endpoints are disabled (no server.control_token)"
                                                : "missing or wrong bearer token");
    return;
  }
  if (g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  const std::string prefix = "/openai/calls/";
  std::string rest = path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : "";
  size_t slash = rest.find('/');
  std::string id = slash == std::string::npos ? "" : rest.substr(0, slash);
  std::string verb = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (id.empty() || (verb != "refer" && verb != "hangup")) {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "use POST /openai/calls/{id}/refer or /hangup");
    return;
  }
  CallSnapshot call;
  std::string call_id = calls_.snapshot(id, &call) ? id : calls_.find_by_param("openai_call_id", id);
  if (call_id.empty() || !calls_.snapshot(call_id, &call) || call.route != kRoute ||
      (call.state != CallState::Active && call.state != CallState::Pending)) {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "no live OpenAI call " + id);
    return;
  }
  std::string rtc_id = call.params["openai_call_id"];
  std::string body;
  if (verb == "refer") {
    json::ObjectPtr request = json::parse_object(request_body(message));
    std::string target = request ? json::get_string(request.get(), "target_uri") : "";
    if (!g_str_has_prefix(target.c_str(), "tel:") && !g_str_has_prefix(target.c_str(), "sip:") &&
        !g_str_has_prefix(target.c_str(), "sips:")) {
      respond_error(message, SOUP_STATUS_BAD_REQUEST, "body must be {\"target_uri\": \"tel:…\" or \"sip:…\"}");
      return;
    }
    body = openai::build_refer_body(target);
  } else {
    std::lock_guard<std::mutex> guard(lock_);
    hung_up_.insert(rtc_id);
  }
  /* Answered with OpenAI's own verdict: the message waits (paused) for it. */
  g_object_ref(message);
  soup_server_message_pause(message);
  std::shared_ptr<bool> alive = alive_;
  rest_->post(openai::call_control_path(rtc_id, verb), body,
              [this, alive, message, call_id, rtc_id, verb](const openai::RestAnswer &answer) {
                log_event(answer.ok() ? LogLevel::Info : LogLevel::Warning, ("openai." + verb).c_str(),
                          {{"call_id", call_id}, {"rtc_id", rtc_id}, {"status", answer.status}, {"error", answer.error}});
                if (answer.ok()) {
                  respond_json(message, SOUP_STATUS_OK, "{\"call_id\":\"" + call_id + "\",\"done\":\"" + verb + "\"}");
                  if (*alive && verb == "hangup")
                    calls_.end(call_id, CallState::Ended, "hung up by the control API");
                } else {
                  respond_error(message, SOUP_STATUS_BAD_GATEWAY, "OpenAI refused the " + verb + ": " + answer.error);
                }
                soup_server_message_unpause(message);
                g_object_unref(message);
              });
}

}  // namespace clawvoice::launcher
