#include "ops_endpoints.h"

#include <json-glib/json-glib.h>

#include "common/json.h"
#include "json_log.h"

namespace clawvoice::launcher {

static void add_call(JsonBuilder *b, const CallSnapshot &call)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, call.id.c_str());
  json_builder_set_member_name(b, "route");
  json_builder_add_string_value(b, call.route.c_str());
  json_builder_set_member_name(b, "caller");
  json_builder_add_string_value(b, call.caller.c_str());
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, call_state_name(call.state));
  if (!call.end_reason.empty()) {
    json_builder_set_member_name(b, "end_reason");
    json_builder_add_string_value(b, call.end_reason.c_str());
  }
  json_builder_set_member_name(b, "started_at");
  json_builder_add_string_value(b, call.started_at.c_str());
  json_builder_set_member_name(b, "duration_s");
  json_builder_add_double_value(b, call.duration_s);
  json_builder_set_member_name(b, "cost_usd");
  json_builder_add_double_value(b, call.cost_usd);
  json_builder_set_member_name(b, "audio_frames_in");
  json_builder_add_int_value(b, (gint64) call.counters.audio_frames_in);
  json_builder_set_member_name(b, "audio_frames_out");
  json_builder_add_int_value(b, (gint64) call.counters.audio_frames_out);
  json_builder_set_member_name(b, "audio_frames_dropped");
  json_builder_add_int_value(b, (gint64) call.counters.audio_frames_dropped);
  json_builder_set_member_name(b, "tasks");
  json_builder_begin_array(b);
  for (const AgentTask &task : call.tasks) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, task.id);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, task.status.c_str());
    json_builder_set_member_name(b, "question");
    json_builder_add_string_value(b, task.question.c_str());
    json_builder_set_member_name(b, "elapsed_ms");
    json_builder_add_int_value(b, task.elapsed_ms);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "params");
  json_builder_begin_object(b);
  for (const auto &[key, value] : call.params) {
    json_builder_set_member_name(b, key.c_str());
    json_builder_add_string_value(b, value.c_str());
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
}

static std::string finish(JsonBuilder *b)
{
  JsonNode *root = json_builder_get_root(b);
  gchar *text = json_to_string(root, FALSE);
  std::string out(text);
  g_free(text);
  json_node_unref(root);
  g_object_unref(b);
  return out;
}

std::string call_to_json(const CallSnapshot &call)
{
  JsonBuilder *b = json_builder_new();
  add_call(b, call);
  return finish(b);
}

/* Control endpoints: a missing or wrong bearer is 401, no token configured is 403. */
static bool authorised(const OpsContext &ctx, SoupServerMessage *message, const std::string &path)
{
  if (ctx.config->control_token.empty()) {
    log_event(LogLevel::Warning, "http.forbidden", {{"path", path}, {"peer", peer_of(message)},
        {"why", "no server.control_token configured"}});
    respond_error(message, SOUP_STATUS_FORBIDDEN, "control endpoints are disabled: set server.control_token");
    return false;
  }
  if (!has_bearer(message, ctx.config->control_token)) {
    log_event(LogLevel::Warning, "http.unauthorized", {{"path", path}, {"peer", peer_of(message)}});
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
    soup_message_headers_replace(headers, "WWW-Authenticate", "Bearer realm=\"clawvoice\"");
    respond_error(message, SOUP_STATUS_UNAUTHORIZED, "a valid bearer token is required");
    return false;
  }
  return true;
}

/* POST /calls {"route", "to"}: the route places the call; 201 with its id, pending until answered. */
static void place_call(const OpsContext &ctx, SoupServerMessage *message)
{
  std::string error;
  json::ObjectPtr request = json::parse_object(request_body(message), &error);
  if (!request) {
    respond_error(message, SOUP_STATUS_BAD_REQUEST, "the body must be a JSON object: " + error);
    return;
  }
  std::string route = json::get_string(request.get(), "route");
  std::string to = json::get_string(request.get(), "to");
  if (route.empty() || to.empty()) {
    respond_error(message, SOUP_STATUS_BAD_REQUEST, "\"route\" and \"to\" are required strings");
    return;
  }
  std::string call_id;
  guint status = SOUP_STATUS_NOT_FOUND;
  error = "no enabled route is named " + route;
  if (!ctx.place_call || !ctx.place_call(route, to, &call_id, &status, &error)) {
    log_event(LogLevel::Warning, "call.place_refused", {{"route", route}, {"to", to}, {"status", (long long) status},
        {"error", error}, {"peer", peer_of(message)}});
    respond_error(message, status, error);
    return;
  }
  log_event(LogLevel::Info, "call.placing", {{"call_id", call_id}, {"route", route}, {"to", to},
      {"peer", peer_of(message)}});
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, call_id.c_str());
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, "pending");
  json_builder_end_object(b);
  respond_json(message, SOUP_STATUS_CREATED, finish(b));
}

void add_ops_endpoints(HttpServer &server, OpsContext ctx)
{
  server.add_handler("/health", [ctx](SoupServerMessage *message, const std::string &path) {
    if (path != "/health") {
      respond_error(message, SOUP_STATUS_NOT_FOUND, "not found");
      return;
    }
    if (g_strcmp0(soup_server_message_get_method(message), "GET") != 0) {
      respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET");
      return;
    }
    BackendStatus backend = ctx.backend_status ? ctx.backend_status() : BackendStatus{};
    auto counts = ctx.calls->count_by_state();
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, backend.reachable ? "ok" : "degraded");
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, VERSION);
    json_builder_set_member_name(b, "uptime_s");
    json_builder_add_double_value(b, (g_get_monotonic_time() - ctx.started_us) / 1e6);
    json_builder_set_member_name(b, "active_calls");
    json_builder_add_int_value(b, counts["active"]);
    json_builder_set_member_name(b, "pending_calls");
    json_builder_add_int_value(b, counts["pending"]);
    json_builder_set_member_name(b, "max_concurrent_calls");
    json_builder_add_int_value(b, ctx.config->max_concurrent_calls);
    json_builder_set_member_name(b, "backend");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "realtime");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, backend.kind.c_str());
    json_builder_set_member_name(b, "url");
    json_builder_add_string_value(b, backend.url.c_str());
    json_builder_set_member_name(b, "reachable");
    json_builder_add_boolean_value(b, backend.reachable);
    if (!backend.detail.empty()) {
      json_builder_set_member_name(b, "detail");
      json_builder_add_string_value(b, backend.detail.c_str());
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    respond_json(message, backend.reachable ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, finish(b));
  });

  server.add_handler("/calls", [ctx](SoupServerMessage *message, const std::string &path) {
    if (!authorised(ctx, message, path))
      return;
    const char *method = soup_server_message_get_method(message);
    if (path == "/calls" || path == "/calls/") {
      if (g_strcmp0(method, "POST") == 0) {
        place_call(ctx, message);
        return;
      }
      if (g_strcmp0(method, "GET") != 0) {
        respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or POST");
        return;
      }
      JsonBuilder *b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "calls");
      json_builder_begin_array(b);
      for (const CallSnapshot &call : ctx.calls->live_calls())
        add_call(b, call);
      json_builder_end_array(b);
      json_builder_end_object(b);
      respond_json(message, SOUP_STATUS_OK, finish(b));
      return;
    }
    std::string id = path.substr(std::string("/calls/").size());
    CallSnapshot call;
    if (!ctx.calls->snapshot(id, &call)) {
      respond_error(message, SOUP_STATUS_NOT_FOUND, "no such call");
      return;
    }
    if (g_strcmp0(method, "GET") == 0) {
      respond_json(message, SOUP_STATUS_OK, call_to_json(call));
    } else if (g_strcmp0(method, "DELETE") == 0) {
      if (!ctx.calls->end(id, CallState::Ended, "hung up by the control API")) {
        respond_error(message, SOUP_STATUS_CONFLICT, "the call is already over");
        return;
      }
      log_event(LogLevel::Info, "call.hangup_requested", {{"call_id", id}, {"peer", peer_of(message)}});
      respond_json(message, SOUP_STATUS_ACCEPTED, "{\"id\":\"" + id + "\",\"state\":\"ending\"}");
    } else {
      respond_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET or DELETE");
    }
  });

  server.add_handler("/metrics", [ctx](SoupServerMessage *message, const std::string &path) {
    if (!authorised(ctx, message, path))
      return;
    std::string page = ctx.metrics->render(ctx.calls->count_by_state(), ctx.calls->live_counters());
    respond(message, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", page);
  });
}

}  // namespace clawvoice::launcher
