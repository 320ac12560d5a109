#include "routes/twilio_route.h"

#include "common/json.h"
#include "json_log.h"
#include "pipeline_elements.h"
#include "twilio/form.h"
#include "twilio/media_stream.h"
#include "twilio/signature.h"
#include "twilio/twiml.h"

namespace clawvoice::launcher {

static constexpr guint kStreamWaitSeconds = 30;   /* TwiML answered → stream `start` */
static constexpr guint kGreetingSeconds = 10;     /* socket open → `start` */
static const char *kRoute = "twilio";

/* A media stream socket between its upgrade and its `start`: the route reads `connected` and
 * `start` itself (it must check the token before any pipeline exists), then hands the socket over. */
struct TwilioRoute::StreamGreeting {
  std::shared_ptr<StreamGate> gate;
  std::shared_ptr<net::NetThread> thread;   /* the connection's: every callback below runs there */
  ClawvoiceWebSocket *connection = nullptr;
  guint timeout = 0;
  std::string peer;

  void release()
  {
    if (timeout)
      thread->cancel_timer(timeout);
    net::web_socket_set_handlers(connection, {});
    g_object_unref(connection);
    delete this;
  }
};

TwilioRoute::TwilioRoute(const RouteContext &context)
    : config_(context.config), route_(context.route), calls_(context.calls), metrics_(context.metrics),
      server_(context.server), gate_(std::make_shared<StreamGate>())
{
  gate_->route = this;
}

TwilioRoute::~TwilioRoute()
{
  server_.thread()->invoke_sync([this]() { *alive_ = false; });
  std::unique_lock<std::shared_mutex> guard(gate_->lock);
  gate_->route = nullptr;
}

bool TwilioRoute::install(std::string *error)
{
  (void) error;
  server_.add_handler("/voice", [this](SoupServerMessage *message, const std::string &path) {
    if (path == "/voice")
      on_voice(message, path);
    else
      respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
  });
  std::shared_ptr<StreamGate> gate = gate_;
  server_.add_pooled_websocket("/voice/stream", [gate](const std::shared_ptr<net::NetThread> &thread,
      ClawvoiceWebSocket *connection, const std::string &peer) {
    std::shared_lock<std::shared_mutex> guard(gate->lock);
    if (gate->route)
      gate->route->on_stream(thread, connection, peer);
    else
      net::web_socket_close(connection, net::kCloseGoingAway, "shutting down");
  });
  if (route_.status_callback) {
    server_.add_handler("/status", [this](SoupServerMessage *message, const std::string &path) {
      on_status(message, path);
    });
  }
  return true;
}

std::vector<std::string> TwilioRoute::banner() const
{
  return {"Twilio webhook:  " + config_.public_url + "/voice   (demo auth token: " + route_.auth_token + ")"};
}

static std::string with_scheme(const std::string &url, bool websocket)
{
  if (!websocket)
    return url;
  if (g_str_has_prefix(url.c_str(), "https://"))
    return "wss://" + url.substr(8);
  if (g_str_has_prefix(url.c_str(), "http://"))
    return "ws://" + url.substr(7);
  return url;
}

static std::string random_token()
{
  std::string token;
  for (int i = 0; i < 4; i++) {
    char part[9];
    g_snprintf(part, sizeof part, "%08x", g_random_int());
    token += part;
  }
  return token;
}

/* Twilio signs the URL it called: our public URL plus the path and the query as received. */
bool TwilioRoute::signed_by_twilio(SoupServerMessage *message, const std::string &path,
                                   const std::vector<std::pair<std::string, std::string>> &params)
{
  std::string url = config_.public_url + path;
  const char *query = g_uri_get_query(soup_server_message_get_uri(message));
  if (query && *query)
    url += std::string("?") + query;
  std::string signature = request_header(message, "X-Twilio-Signature");
  if (!signature.empty() && twilio::verify_signature(route_.auth_token, url, params, signature))
    return true;
  log_event(LogLevel::Warning, "twilio.signature_rejected", {{"path", path}, {"peer", peer_of(message)},
      {"why", signature.empty() ? "no X-Twilio-Signature header" : "signature does not match"},
      {"signed_url", url}});
  metrics_.webhook(kRoute, SOUP_STATUS_FORBIDDEN);
  respond_error(message, SOUP_STATUS_FORBIDDEN, "invalid Twilio signature");
  return false;
}

void TwilioRoute::on_voice(SoupServerMessage *message, const std::string &path)
{
  if (g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  std::string error;
  auto form = twilio::parse_form(request_body(message), &error);
  if (!form) {
    log_event(LogLevel::Warning, "twilio.bad_webhook", {{"path", path}, {"peer", peer_of(message)}, {"error", error}});
    metrics_.webhook(kRoute, SOUP_STATUS_BAD_REQUEST);
    respond_error(message, SOUP_STATUS_BAD_REQUEST, "malformed form body: " + error);
    return;
  }
  if (!signed_by_twilio(message, path, form->fields()))
    return;
  std::string call_sid = form->get_or("CallSid", "");
  std::string from = form->get_or("From", "");
  if (call_sid.empty()) {
    metrics_.webhook(kRoute, SOUP_STATUS_BAD_REQUEST);
    respond_error(message, SOUP_STATUS_BAD_REQUEST, "CallSid is missing");
    return;
  }
  std::string refusal;
  std::string call_id = calls_.create(kRoute, from, {}, &refusal);
  metrics_.webhook(kRoute, SOUP_STATUS_OK);
  if (call_id.empty()) {
    /* Refused cleanly: Twilio plays a busy signal, no stream is opened. */
    respond(message, SOUP_STATUS_OK, "text/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Reject reason=\"busy\"/></Response>");
    return;
  }
  calls_.set_param(call_id, "call_sid", call_sid);
  calls_.set_param(call_id, "to", form->get_or("To", ""));

  std::string token = random_token();
  {
    std::lock_guard<std::mutex> lock(lock_);
    tokens_[token] = {call_id, g_get_monotonic_time() + (gint64) kStreamWaitSeconds * G_USEC_PER_SEC};
  }
  /* No stream within the wait: the call never got media. */
  std::shared_ptr<bool> alive = alive_;
  server_.thread()->add_timer(kStreamWaitSeconds * 1000, [this, alive, token, call_id]() {
    if (!*alive || take_token(token).empty())
      return;
    calls_.end(call_id, CallState::Failed, "no media stream arrived");
  });

  twilio::ConnectStream stream;
  stream.url = with_scheme(config_.public_url, true) + "/voice/stream";
  if (route_.status_callback)
    stream.status_callback = config_.public_url + "/status";
  stream.parameters = {{"token", token}};
  std::string twiml;
  if (!twilio::build_connect_stream_twiml(stream, &twiml, &error)) {
    log_event(LogLevel::Error, "twilio.twiml_failed", {{"call_id", call_id}, {"error", error}});
    calls_.end(call_id, CallState::Failed, "cannot answer TwiML: " + error);
    respond_error(message, SOUP_STATUS_INTERNAL_SERVER_ERROR, "cannot build TwiML");
    return;
  }
  log_event(LogLevel::Info, "twilio.call_answered", {{"call_id", call_id}, {"call_sid", call_sid}, {"caller", from}});
  respond(message, SOUP_STATUS_OK, "text/xml", twiml);
}

void TwilioRoute::on_status(SoupServerMessage *message, const std::string &path)
{
  if (path != "/status" || g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_error(message, path != "/status" ? SOUP_STATUS_NOT_FOUND : SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST /status");
    return;
  }
  std::string error;
  auto form = twilio::parse_form(request_body(message), &error);
  if (!form) {
    metrics_.webhook(kRoute, SOUP_STATUS_BAD_REQUEST);
    respond_error(message, SOUP_STATUS_BAD_REQUEST, "malformed form body: " + error);
    return;
  }
  if (!signed_by_twilio(message, path, form->fields()))
    return;
  metrics_.webhook(kRoute, SOUP_STATUS_OK);
  std::string call_sid = form->get_or("CallSid", "");
  std::string status = form->get_or("CallStatus", "");
  std::string call_id = calls_.find_by_param("call_sid", call_sid);
  log_event(LogLevel::Info, "twilio.status", {{"call_id", call_id}, {"call_sid", call_sid}, {"status", status},
      {"duration_s", form->get_or("CallDuration", "")}});
  if (!call_id.empty()) {
    calls_.set_param(call_id, "twilio_status", status);
    if (status == "completed")
      calls_.end(call_id, CallState::Ended, "twilio: call completed");
    else if (status == "busy" || status == "failed" || status == "no-answer" || status == "canceled")
      calls_.end(call_id, CallState::Failed, "twilio: call " + status);
  }
  respond(message, SOUP_STATUS_NO_CONTENT, "text/plain", "");
}

std::string TwilioRoute::take_token(const std::string &token)
{
  std::lock_guard<std::mutex> lock(lock_);
  auto it = tokens_.find(token);
  if (it == tokens_.end())
    return "";
  std::string call_id = it->second.call_id;
  bool fresh = it->second.expires_us > g_get_monotonic_time();
  tokens_.erase(it);
  return fresh ? call_id : "";
}

void TwilioRoute::on_stream(const std::shared_ptr<net::NetThread> &thread, ClawvoiceWebSocket *connection,
    const std::string &peer)
{
  auto *greeting = new StreamGreeting;
  greeting->gate = gate_;
  greeting->thread = thread;
  greeting->connection = CLAWVOICE_WEB_SOCKET(g_object_ref(connection));
  greeting->peer = peer;
  /* Twilio keeps the stream open for the whole call: no keepalive pings from us. */
  net::WebSocketHandlers handlers;
  handlers.on_text = [greeting](std::string text) {
    std::shared_ptr<StreamGate> gate = greeting->gate;   /* (greeting may be released below) */
    std::shared_lock<std::shared_mutex> guard(gate->lock);
    TwilioRoute *route = gate->route;
    if (!route)
      return;
    json::ObjectPtr event = json::parse_object(text);
    std::string kind = event ? json::get_string(event.get(), "event") : "";
    if (kind == "start") {
      route->on_stream_start(greeting, text);   /* releases the greeting */
    } else if (kind != "connected") {
      log_event(LogLevel::Warning, "twilio.stream_unexpected", {{"peer", greeting->peer},
          {"why", event ? "event before start: " + kind : "not a JSON object"}});
    }
  };
  handlers.on_binary = [greeting](std::string) {
    log_event(LogLevel::Warning, "twilio.stream_rejected", {{"peer", greeting->peer}, {"why", "binary frame"}});
    net::web_socket_close(greeting->connection, net::kCloseUnsupportedData, "text frames only");
  };
  handlers.on_closed = [greeting](gushort, std::string, std::string) {
    log_event(LogLevel::Info, "twilio.stream_closed_before_start", {{"peer", greeting->peer}});
    greeting->release();
  };
  net::web_socket_set_handlers(connection, std::move(handlers));
  greeting->timeout = thread->add_timer(kGreetingSeconds * 1000, [greeting]() {
    greeting->timeout = 0;
    log_event(LogLevel::Warning, "twilio.stream_rejected", {{"peer", greeting->peer}, {"why", "no start message"}});
    net::web_socket_close(greeting->connection, net::kClosePolicyViolation, "no start");
  });
}

void TwilioRoute::on_stream_start(StreamGreeting *greeting, const std::string &start_text)
{
  ClawvoiceWebSocket *connection = CLAWVOICE_WEB_SOCKET(g_object_ref(greeting->connection));
  std::string peer = greeting->peer;
  greeting->release();

  std::string error;
  twilio::InboundParse parsed = twilio::parse_inbound(start_text);
  const twilio::StartMessage *start =
      parsed.message ? std::get_if<twilio::StartMessage>(&*parsed.message) : nullptr;
  std::string token;
  if (start)
    for (const auto &[key, value] : start->custom_parameters)
      if (key == "token")
        token = value;
  std::string call_id = start ? take_token(token) : "";
  if (call_id.empty()) {
    std::string why = !start ? "malformed start: " + parsed.error
                             : token.empty() ? "no token parameter" : "unknown, used or expired token";
    log_event(LogLevel::Warning, "twilio.stream_rejected", {{"peer", peer}, {"why", why}});
    metrics_.call_refused(kRoute, "bad-stream-token");
    net::web_socket_close(connection, net::kClosePolicyViolation, "invalid stream token");
    g_object_unref(connection);
    return;
  }
  calls_.set_param(call_id, "stream_sid", start->stream_sid);
  for (const auto &[key, value] : start->custom_parameters)
    if (key != "token")
      calls_.set_param(call_id, "param." + key, value);

  /* Built here, on the connection's network thread, so no media message can arrive between reading
   * `start` and mulawbridge connecting to the socket; the pipeline's other network work (the
   * Realtime session, the relay's requests) lands on this thread too (acquire_pooled()). */
  bool ok = calls_.start_pipeline(call_id, [&](GstBin *pipeline, std::string *why) {
    GstElement *bridge = nullptr;
    for_each_element_of(pipeline, "mulawbridge", [&bridge](GstElement *e) {
      if (!bridge)
        bridge = GST_ELEMENT(gst_object_ref(e));
    });
    if (!bridge) {
      *why = "the launch file has no mulawbridge";
      return false;
    }
    g_object_set(bridge, "connection", connection, "start-message", start_text.c_str(), nullptr);
    gst_object_unref(bridge);
    return true;
  }, &error);
  if (!ok)
    net::web_socket_close(connection, net::kCloseServerError, "cannot start the call");
  g_object_unref(connection);
}

void TwilioRoute::on_call_message(const std::string &call_id, GstMessage *message)
{
  const GstStructure *s = gst_message_get_structure(message);
  const gchar *name = gst_structure_get_name(s);
  if (g_str_equal(name, "clawvoice-twilio-stop")) {
    calls_.end(call_id, CallState::Ended, "caller hung up");
  } else if (g_str_equal(name, "clawvoice-dtmf")) {
    const gchar *digit = gst_structure_get_string(s, "digit");
    log_event(LogLevel::Info, "call.dtmf", {{"call_id", call_id}, {"digit", digit ? digit : ""}});
    calls_.set_param(call_id, "last_dtmf", digit ? digit : "");
  }
}

}  // namespace clawvoice::launcher
