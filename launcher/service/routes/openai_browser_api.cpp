#include "routes/openai_browser_api.h"

#include "common/json.h"
#include "json_log.h"
#include "openai/call_control.h"

namespace clawvoice::launcher {

static constexpr size_t kMaxMessageChars = 8000;

OpenAIBrowserApi::OpenAIBrowserApi(const RouteContext &context, openai::RestClient &rest,
                                   const realtime::SessionConfig &session)
    : config_(context.config), route_(context.route), server_(context.server), rest_(rest), session_(session),
      tokens_(context.route.bearer_tokens.empty() && !context.config.control_token.empty()
                  ? std::vector<std::string>{context.config.control_token}
                  : context.route.bearer_tokens),
      limiter_(context.route.rate_limit_per_minute), tasks_(context.server.thread(), context.agent)
{
}

OpenAIBrowserApi::~OpenAIBrowserApi()
{
  server_.thread()->invoke_sync([this]() {
    *alive_ = false;
    for (Listener &l : listeners_) {
      g_signal_handlers_disconnect_by_data(l.connection, this);
      g_object_unref(l.connection);
    }
    listeners_.clear();
  });
}

bool OpenAIBrowserApi::install(std::string *error)
{
  (void) error;
  server_.add_handler("/api/token", [this](SoupServerMessage *m, const std::string &p) { on_token(m, p); });
  server_.add_handler("/api/send", [this](SoupServerMessage *m, const std::string &p) { on_send(m, p); });
  server_.add_handler("/api/result", [this](SoupServerMessage *m, const std::string &p) { on_result(m, p); });
  server_.add_websocket("/ws", [this](SoupServerMessage *m, SoupWebsocketConnection *c) { on_ws(m, c); });
  return true;
}

/* Bearer (or ?token= for the WebSocket), lock-out after repeated failures, then the rate limit.
 * Answers the refusal itself; true when the request may go on. */
bool OpenAIBrowserApi::admitted(SoupServerMessage *message, bool query_token)
{
  std::string address = address_of_peer(peer_of(message));
  int retry = failures_.locked_for(address);
  int which = -1;
  if (retry == 0) {
    which = matching_bearer(message, tokens_);
    if (which < 0 && query_token) {
      const char *query = g_uri_get_query(soup_server_message_get_uri(message));
      GHashTable *params = query ? soup_form_decode(query) : nullptr;
      const char *token = params ? (const char *) g_hash_table_lookup(params, "token") : nullptr;
      for (size_t i = 0; token && i < tokens_.size() && which < 0; i++)
        if (secrets_equal(token, tokens_[i]))
          which = (int) i;
      if (params)
        g_hash_table_unref(params);
    }
    if (which < 0) {
      log_event(LogLevel::Warning, "openai.api_unauthorized", {{"peer", peer_of(message)},
          {"path", g_uri_get_path(soup_server_message_get_uri(message))}});
      if (!failures_.failed(address)) {
        respond_error(message, tokens_.empty() ? SOUP_STATUS_FORBIDDEN : SOUP_STATUS_UNAUTHORIZED,
                      tokens_.empty() ? "no API tokens configured" : "missing or wrong bearer token");
        return false;
      }
      retry = failures_.locked_for(address);
    }
  }
  if (retry == 0 && limiter_.allow(address, &retry))
    return true;
  soup_message_headers_replace(soup_server_message_get_response_headers(message), "Retry-After",
                               std::to_string(retry).c_str());
  respond_error(message, 429, "rate limited; retry after " + std::to_string(retry) + " s");
  return false;
}

void OpenAIBrowserApi::on_token(SoupServerMessage *message, const std::string &path)
{
  if (path != "/api/token") {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  if (g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  if (!admitted(message, false))
    return;
  g_object_ref(message);
  soup_server_message_pause(message);
  std::string peer = peer_of(message);
  /* Where the page sends its SDP offer with the key: OpenAI's, or the simulator's in the embedded default. */
  std::string calls_url = rest_.base_url() + "/realtime/calls";
  rest_.post("/realtime/client_secrets", openai::build_client_secret_request(session_, route_.client_secret_ttl_seconds),
             [message, peer, calls_url](const openai::RestAnswer &answer) {
               json::ObjectPtr minted = answer.ok() ? json::parse_object(answer.body) : nullptr;
               std::string value = minted ? json::get_string(minted.get(), "value") : "";
               gint64 expires_at = minted ? json::get_int(minted.get(), "expires_at") : 0;
               if (value.empty()) {
                 log_event(LogLevel::Warning, "openai.token_failed", {{"peer", peer}, {"status", answer.status},
                     {"error", answer.ok() ? std::string("no value in the answer") : answer.error}});
                 respond_error(message, SOUP_STATUS_BAD_GATEWAY, "could not mint a client secret");
               } else {
                 /* The key itself is never logged. */
                 log_event(LogLevel::Info, "openai.token_minted", {{"peer", peer}, {"expires_at", (long long) expires_at},
                     {"mint_ms", answer.elapsed_ms}});
                 json::ObjectPtr out(json_object_new());
                 json_object_set_string_member(out.get(), "token", value.c_str());
                 json_object_set_int_member(out.get(), "expires_at", expires_at);
                 json_object_set_string_member(out.get(), "calls_url", calls_url.c_str());
                 respond_json(message, SOUP_STATUS_OK, json::to_string(out.get()));
               }
               soup_server_message_unpause(message);
               g_object_unref(message);
             });
}

void OpenAIBrowserApi::on_send(SoupServerMessage *message, const std::string &path)
{
  if (path != "/api/send") {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
    return;
  }
  if (g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use POST");
    return;
  }
  if (!admitted(message, false))
    return;
  std::string why;
  json::ObjectPtr request = json::parse_object(request_body(message), &why);
  std::string text = request ? json::get_string(request.get(), "message") : "";
  std::string session_id = request ? json::get_string(request.get(), "sessionId") : "";
  if (!request || text.empty() || text.size() > kMaxMessageChars) {
    respond_error(message, SOUP_STATUS_BAD_REQUEST,
                  !request ? "body must be a JSON object: " + why
                           : text.empty() ? "\"message\" is missing or empty"
                                          : "\"message\" is longer than " + std::to_string(kMaxMessageChars) + " characters");
    return;
  }
  std::shared_ptr<bool> alive = alive_;
  std::string id = tasks_.start(text, session_id, [this, alive](const AgentTaskResult &result) {
    if (*alive)
      push(result);
  });
  log_event(LogLevel::Info, "openai.task_started", {{"task_id", id}, {"session_id", session_id},
      {"chars", (long long) text.size()}, {"peer", peer_of(message)}});
  respond_json(message, SOUP_STATUS_OK, "{\"taskId\":\"" + id + "\"}");
}

std::string agent_task_json(const AgentTaskResult &task, bool as_push)
{
  json::ObjectPtr out(json_object_new());
  if (as_push)
    json_object_set_string_member(out.get(), "type", "result");
  json_object_set_string_member(out.get(), "taskId", task.id.c_str());
  json_object_set_string_member(out.get(), "status", task.status.c_str());
  if (task.status == "done")
    json_object_set_string_member(out.get(), "text", task.text.c_str());
  if (task.status == "failed")
    json_object_set_string_member(out.get(), "error", task.error.c_str());
  if (!task.session_id.empty())
    json_object_set_string_member(out.get(), "sessionId", task.session_id.c_str());
  return json::to_string(out.get());
}

void OpenAIBrowserApi::on_result(SoupServerMessage *message, const std::string &path)
{
  if (g_strcmp0(soup_server_message_get_method(message), "GET") != 0) {
    respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
    return;
  }
  if (!admitted(message, false))
    return;
  const std::string prefix = "/api/result/";
  std::string id = path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : "";
  AgentTaskResult task;
  if (id.empty() || !tasks_.result(id, &task)) {
    respond_error(message, SOUP_STATUS_NOT_FOUND, "no such task");
    return;
  }
  respond_json(message, SOUP_STATUS_OK, agent_task_json(task, false));
}

void OpenAIBrowserApi::on_ws(SoupServerMessage *message, SoupWebsocketConnection *connection)
{
  /* The upgrade is done by now: a refused socket is closed with a policy error. */
  std::string address = address_of_peer(peer_of(message));
  int which = -1;
  const char *query = g_uri_get_query(soup_server_message_get_uri(message));
  GHashTable *params = query ? soup_form_decode(query) : nullptr;
  const char *token = params ? (const char *) g_hash_table_lookup(params, "token") : nullptr;
  const char *session = params ? (const char *) g_hash_table_lookup(params, "sessionId") : nullptr;
  std::string session_id = session ? session : "";
  which = matching_bearer(message, tokens_);
  for (size_t i = 0; token && which < 0 && i < tokens_.size(); i++)
    if (secrets_equal(token, tokens_[i]))
      which = (int) i;
  if (params)
    g_hash_table_unref(params);
  int retry = 0;
  if (failures_.locked_for(address) > 0 || which < 0 || !limiter_.allow(address, &retry)) {
    if (which < 0)
      failures_.failed(address);
    log_event(LogLevel::Warning, "openai.ws_refused", {{"peer", peer_of(message)},
        {"why", which < 0 ? "missing or wrong token" : "rate limited"}});
    soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                    which < 0 ? "unauthorized" : "rate limited");
    return;
  }
  listeners_.push_back({SOUP_WEBSOCKET_CONNECTION(g_object_ref(connection)), session_id});
  g_signal_connect(connection, "closed", G_CALLBACK(+[](SoupWebsocketConnection *conn, gpointer data) {
    auto *self = static_cast<OpenAIBrowserApi *>(data);
    for (auto it = self->listeners_.begin(); it != self->listeners_.end(); ++it) {
      if (it->connection == conn) {
        g_signal_handlers_disconnect_by_data(conn, self);
        g_object_unref(conn);
        self->listeners_.erase(it);
        break;
      }
    }
  }), this);
  log_event(LogLevel::Info, "openai.ws_opened", {{"peer", peer_of(message)}, {"session_id", session_id}});
}

void OpenAIBrowserApi::push(const AgentTaskResult &result)
{
  std::string text = agent_task_json(result, true);
  for (Listener &l : listeners_) {
    if (!l.session_id.empty() && l.session_id != result.session_id)
      continue;
    if (soup_websocket_connection_get_state(l.connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(l.connection, text.c_str());
  }
}

}  // namespace clawvoice::launcher
