#include "routes/browser_route.h"

#include <json-glib/json-glib.h>

#include <random>

#include "common/json.h"
#include "json_log.h"
#include "routes/browser/browser_session.h"
#include "routes/browser/call_events.h"
#include "routes/browser/static_files.h"
#include "webrtc/signal_message.h"
#include "webrtc/turn_credentials.h"

namespace clawvoice::launcher {

static const char *kRoute = "browser";

/* The voices realtimesink takes (docs/elements.md); the page offers the same list. */
static const char *const kVoices[] = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse",
                                      "marin", "cedar"};

/* 128 bits from the system's random source, as hex: a bearer-grade token. */
static std::string random_hex(int words)
{
  std::random_device device;
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < words; i++) {
    guint32 word = device();
    for (int nibble = 0; nibble < 8; nibble++, word >>= 4)
      out += hex[word & 0xf];
  }
  return out;
}

static std::string iso_utc(gint64 unix_seconds)
{
  GDateTime *t = g_date_time_new_from_unix_utc(unix_seconds);
  gchar *text = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
  std::string out = text;
  g_free(text);
  g_date_time_unref(t);
  return out;
}

BrowserRoute::BrowserRoute(const RouteContext &context)
    : config_(context.config), route_(context.route), calls_(context.calls), metrics_(context.metrics),
      server_(context.server), web_root_(resolve_web_root(context.route.web_root))
{
}

BrowserRoute::~BrowserRoute()
{
  server_.thread()->invoke_sync([this]() {
    *alive_ = false;
    sessions_.clear();
  });
}

bool BrowserRoute::install(std::string *error)
{
  if (!g_file_test((web_root_ + "/index.html").c_str(), G_FILE_TEST_IS_REGULAR)) {
    *error = "browser route: no index.html in the web root " + web_root_ + " (set routes.browser.web_root)";
    return false;
  }
  server_.add_handler("/api/session", [this](SoupServerMessage *message, const std::string &path) {
    if (path == "/api/session")
      on_session_request(message, path);
    else
      respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
  });
  server_.add_websocket("/signal", [this](SoupServerMessage *message, SoupWebsocketConnection *connection) {
    on_signal(message, connection);
  });
  /* The page: "/" is the fallback of every path no other handler took. */
  server_.add_handler("/", [this](SoupServerMessage *message, const std::string &path) {
    serve_static_file(message, web_root_, path);
  });
  log_event(LogLevel::Info, "browser.installed", {{"web_root", web_root_}, {"stun", (long long) route_.stun_urls.size()},
      {"turn", (long long) route_.turn_urls.size()}, {"origins", (long long) route_.allowed_origins.size()}});
  return true;
}

std::vector<std::string> BrowserRoute::banner() const
{
  return {"Voice page:      " + config_.public_url + "/   (Chromium or Firefox; on another machine it needs HTTPS for the microphone)"};
}

bool BrowserRoute::origin_allowed(SoupServerMessage *message) const
{
  if (route_.allowed_origins.empty())
    return true;
  std::string origin = request_header(message, "Origin");
  if (origin.empty())
    return true;   /* not a browser page (curl, a test): the bearer, if any, is the guard */
  for (const std::string &allowed : route_.allowed_origins)
    if (origin == allowed)
      return true;
  return false;
}

std::string BrowserRoute::ice_servers_json(const std::string &session_id) const
{
  JsonArray *servers = json_array_new();
  if (!route_.stun_urls.empty()) {
    JsonObject *stun = json_object_new();
    JsonArray *urls = json_array_new();
    for (const std::string &u : route_.stun_urls)
      json_array_add_string_element(urls, u.c_str());
    json_object_set_array_member(stun, "urls", urls);
    json_array_add_object_element(servers, stun);
  }
  if (!route_.turn_urls.empty()) {
    webrtc::TurnCredentials credentials = webrtc::make_turn_credentials(
        route_.turn_secret, session_id, g_get_real_time() / G_USEC_PER_SEC, route_.turn_ttl_seconds);
    JsonObject *turn = json_object_new();
    JsonArray *urls = json_array_new();
    for (const std::string &u : route_.turn_urls)
      json_array_add_string_element(urls, u.c_str());
    json_object_set_array_member(turn, "urls", urls);
    json_object_set_string_member(turn, "username", credentials.username.c_str());
    json_object_set_string_member(turn, "credential", credentials.credential.c_str());
    json_array_add_object_element(servers, turn);
  }
  JsonNode *node = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(node, servers);
  std::string out = json::to_string(node);
  json_node_unref(node);
  return out;
}

void BrowserRoute::on_session_request(SoupServerMessage *message, const std::string &path)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
  std::string origin = request_header(message, "Origin");
  if (!origin_allowed(message)) {
    log_event(LogLevel::Warning, "browser.origin_refused", {{"peer", peer_of(message)}, {"origin", origin}});
    metrics_.webhook(kRoute, SOUP_STATUS_FORBIDDEN);
    respond_error(message, SOUP_STATUS_FORBIDDEN, "origin not allowed");
    return;
  }
  if (!route_.allowed_origins.empty() && !origin.empty()) {
    soup_message_headers_replace(headers, "Access-Control-Allow-Origin", origin.c_str());
    soup_message_headers_replace(headers, "Vary", "Origin");
  }
  const char *method = soup_server_message_get_method(message);
  if (g_strcmp0(method, "OPTIONS") == 0) {
    soup_message_headers_replace(headers, "Access-Control-Allow-Methods", "POST");
    soup_message_headers_replace(headers, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    respond(message, SOUP_STATUS_NO_CONTENT, "text/plain", "");
    return;
  }
  if (g_strcmp0(method, "POST") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  if (!route_.api_token.empty() && !has_bearer(message, route_.api_token)) {
    log_event(LogLevel::Warning, "browser.unauthorized", {{"peer", peer_of(message)}});
    metrics_.webhook(kRoute, SOUP_STATUS_UNAUTHORIZED);
    respond_error(message, SOUP_STATUS_UNAUTHORIZED, "a bearer token is required");
    return;
  }
  /* Body: optional {"voice": "…"}. */
  std::string body = request_body(message), voice;
  if (!body.empty()) {
    std::string why;
    json::ObjectPtr request = json::parse_object(body, &why);
    if (!request) {
      metrics_.webhook(kRoute, SOUP_STATUS_BAD_REQUEST);
      respond_error(message, SOUP_STATUS_BAD_REQUEST, "the body must be a JSON object");
      return;
    }
    voice = json::get_string(request.get(), "voice");
    bool known = voice.empty();
    for (const char *v : kVoices)
      known = known || voice == v;
    if (!known) {
      metrics_.webhook(kRoute, SOUP_STATUS_BAD_REQUEST);
      respond_error(message, SOUP_STATUS_BAD_REQUEST, "unknown voice '" + voice.substr(0, 32) + "'");
      return;
    }
  }
  std::string refusal;
  std::string caller = peer_of(message);
  std::string call_id = calls_.create(kRoute, caller, {}, &refusal);
  if (call_id.empty()) {
    metrics_.webhook(kRoute, SOUP_STATUS_SERVICE_UNAVAILABLE);
    respond_error(message, SOUP_STATUS_SERVICE_UNAVAILABLE, "no call can be taken now (" + refusal + ")");
    return;
  }
  metrics_.webhook(kRoute, SOUP_STATUS_OK);
  if (!voice.empty())
    calls_.set_param(call_id, "voice", voice);
  if (!origin.empty())
    calls_.set_param(call_id, "origin", origin);

  std::string token = random_hex(4);
  gint64 now_unix = g_get_real_time() / G_USEC_PER_SEC;
  {
    std::lock_guard<std::mutex> lock(lock_);
    tokens_[token] = {call_id, g_get_monotonic_time() + (gint64) route_.token_ttl_seconds * G_USEC_PER_SEC, voice};
  }
  /* No signalling socket within the token's life: the call never started. */
  std::shared_ptr<bool> alive = alive_;
  server_.thread()->add_timer(route_.token_ttl_seconds * 1000, [this, alive, token, call_id]() {
    PendingSession pending;
    if (!*alive)
      return;
    take_token(token, &pending);
    if (pending.call_id.empty())
      return;   /* the page connected in time */
    calls_.end(call_id, CallState::Failed, "no signalling connection arrived");
  });

  std::string answer = "{\"session_id\":\"" + call_id + "\",\"token\":\"" + token + "\",\"expires_at\":\"" +
                       iso_utc(now_unix + route_.token_ttl_seconds) + "\",\"signal_url\":\"/signal?token=" + token +
                       "\",\"ice_servers\":" + ice_servers_json(call_id) + "}";
  log_event(LogLevel::Info, "browser.session_created", {{"call_id", call_id}, {"peer", caller}, {"voice", voice}});
  respond_json(message, SOUP_STATUS_OK, answer);
}

bool BrowserRoute::take_token(const std::string &token, PendingSession *out)
{
  std::lock_guard<std::mutex> lock(lock_);
  auto it = tokens_.find(token);
  if (it == tokens_.end())
    return false;
  *out = it->second;
  bool fresh = it->second.expires_us > g_get_monotonic_time();
  tokens_.erase(it);
  return fresh;
}

/* Refuses a signalling socket: the page reads why, then the socket closes. No call is touched. */
static void refuse_socket(SoupWebsocketConnection *connection, const std::string &peer, const std::string &why)
{
  log_event(LogLevel::Warning, "browser.signal_rejected", {{"peer", peer}, {"why", why}});
  soup_websocket_connection_send_text(connection, webrtc::error_message("", why).c_str());
  soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, why.c_str());
}

void BrowserRoute::on_signal(SoupServerMessage *message, SoupWebsocketConnection *connection)
{
  std::string peer = peer_of(message);
  if (!origin_allowed(message)) {
    refuse_socket(connection, peer, "origin not allowed");
    return;
  }
  std::string token;
  const char *query = g_uri_get_query(soup_server_message_get_uri(message));
  if (query) {
    GHashTable *params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, nullptr);
    if (params) {
      const char *t = (const char *) g_hash_table_lookup(params, "token");
      token = t ? t : "";
      g_hash_table_unref(params);
    }
  }
  PendingSession pending;
  bool known = !token.empty() && take_token(token, &pending);
  if (!known) {
    metrics_.call_refused(kRoute, "bad-signal-token");
    /* An expired token's call was never used: it ends now rather than at its timer. */
    if (!pending.call_id.empty())
      calls_.end(pending.call_id, CallState::Failed, "the signalling token expired");
    refuse_socket(connection, peer, token.empty() ? "no token" : "unknown, used or expired token");
    return;
  }
  BrowserSession::Settings settings;
  settings.ice_addresses = route_.ice_addresses;
  settings.voice = pending.voice;
  auto session = std::make_shared<BrowserSession>(calls_, server_.thread(), pending.call_id, connection, peer,
                                                  settings);
  sessions_[pending.call_id] = session;
  session->start();
  log_event(LogLevel::Info, "browser.signal_open", {{"call_id", pending.call_id}, {"peer", peer}});
}

void BrowserRoute::on_call_message(const std::string &call_id, GstMessage *message)
{
  json::ObjectPtr payload = call_event_payload(message);
  if (!payload)
    return;
  std::string frame = webrtc::event_message(call_id, payload.get());
  std::shared_ptr<bool> alive = alive_;
  server_.thread()->invoke([this, alive, call_id, frame]() {
    if (!*alive)
      return;
    auto it = sessions_.find(call_id);
    if (it != sessions_.end())
      it->second->send(frame);
  });
}

void BrowserRoute::on_call_ended(const CallSnapshot &call)
{
  if (call.route != kRoute)
    return;
  webrtc::SignalState state = call.state == CallState::Failed ? webrtc::SignalState::Failed : webrtc::SignalState::Ended;
  std::string reason = call.end_reason;
  std::string call_id = call.id;
  std::shared_ptr<bool> alive = alive_;
  server_.thread()->invoke([this, alive, call_id, state, reason]() {
    if (!*alive)
      return;
    auto it = sessions_.find(call_id);
    if (it == sessions_.end())
      return;
    std::shared_ptr<BrowserSession> session = it->second;
    sessions_.erase(it);
    session->finish(state, reason);
  });
}

}  // namespace clawvoice::launcher
