#include "openai/call_control.h"

#include <glib.h>
#include <cstring>
#include <json-glib/json-glib.h>

#include "common/json.h"

namespace clawvoice::openai {

realtime::ToolDefinition agent_tool()
{
  realtime::ToolDefinition tool;
  tool.name = kAgentToolName;
  tool.description = kAgentToolDescription;
  tool.parameters_json =
      R"({"type":"object","properties":{"message":{"type":"string","description":"The task or question, in the caller's words"}},"required":["message"]})";
  return tool;
}

std::string IncomingCall::header(const std::string &name) const
{
  for (const auto &[key, value] : sip_headers)
    if (g_ascii_strcasecmp(key.c_str(), name.c_str()) == 0)
      return value;
  return "";
}

std::string sip_user_of(const std::string &header_value)
{
  std::string v = header_value;
  size_t open = v.find('<');
  if (open != std::string::npos) {
    size_t close = v.find('>', open);
    v = v.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
  } else {
    size_t semi = v.find(';');   /* addr-spec without brackets: parameters after ';' */
    if (semi != std::string::npos)
      v = v.substr(0, semi);
  }
  g_autofree gchar *stripped = g_strstrip(g_strdup(v.c_str()));
  v = stripped;
  for (const char *scheme : {"sips:", "sip:", "tel:"}) {
    if (g_ascii_strncasecmp(v.c_str(), scheme, strlen(scheme)) == 0) {
      v = v.substr(strlen(scheme));
      break;
    }
  }
  size_t at = v.find('@');
  if (at != std::string::npos)
    v = v.substr(0, at);
  size_t param = v.find_first_of(";?");
  if (param != std::string::npos)
    v = v.substr(0, param);
  return v;
}

std::string IncomingCall::caller() const
{
  return sip_user_of(header("From"));
}

std::string IncomingCall::callee() const
{
  return sip_user_of(header("To"));
}

std::optional<IncomingCall> parse_call_incoming(const std::string &body, std::string *type, std::string *error)
{
  type->clear();
  std::string why;
  json::ObjectPtr event = json::parse_object(body, &why);
  if (!event) {
    *error = "not a JSON object: " + why;
    return std::nullopt;
  }
  *type = json::get_string(event.get(), "type");
  if (type->empty()) {
    *error = "no event type";
    return std::nullopt;
  }
  if (*type != "realtime.call.incoming") {
    *error = "not a realtime.call.incoming event";
    return std::nullopt;
  }
  IncomingCall call;
  call.event_id = json::get_string(event.get(), "id");
  call.created_at = json::get_int(event.get(), "created_at");
  JsonObject *data = json_object_has_member(event.get(), "data") ? json_object_get_object_member(event.get(), "data")
                                                                 : nullptr;
  if (!data) {
    *error = "no data object";
    return std::nullopt;
  }
  call.call_id = json::get_string(data, "call_id");
  if (call.call_id.empty()) {
    *error = "no data.call_id";
    return std::nullopt;
  }
  JsonNode *headers = json_object_get_member(data, "sip_headers");
  if (!headers || !JSON_NODE_HOLDS_ARRAY(headers)) {
    *error = "no data.sip_headers array";
    return std::nullopt;
  }
  JsonArray *list = json_node_get_array(headers);
  for (guint i = 0; i < json_array_get_length(list); i++) {
    JsonNode *item = json_array_get_element(list, i);
    if (!JSON_NODE_HOLDS_OBJECT(item)) {
      *error = "data.sip_headers[" + std::to_string(i) + "] is not an object";
      return std::nullopt;
    }
    JsonObject *h = json_node_get_object(item);
    call.sip_headers.emplace_back(json::get_string(h, "name"), json::get_string(h, "value"));
  }
  return call;
}

std::string build_call_incoming(const IncomingCall &call)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "object");
  json_builder_add_string_value(b, "event");
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, call.event_id.c_str());
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "realtime.call.incoming");
  json_builder_set_member_name(b, "created_at");
  json_builder_add_int_value(b, call.created_at);
  json_builder_set_member_name(b, "data");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "call_id");
  json_builder_add_string_value(b, call.call_id.c_str());
  json_builder_set_member_name(b, "sip_headers");
  json_builder_begin_array(b);
  for (const auto &[name, value] : call.sip_headers) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, name.c_str());
    json_builder_set_member_name(b, "value");
    json_builder_add_string_value(b, value.c_str());
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  json_builder_end_object(b);
  json::NodePtr root(json_builder_get_root(b));
  return json::to_string(root.get());
}

/* The session of build_session_update(), with `model` (the accept and client-secret requests
 * create the session, so they name the model; session.update must not). */
static json::ObjectPtr call_session_object(const realtime::SessionConfig &config)
{
  realtime::SessionConfig c = config;
  c.sideband = true;
  json::ObjectPtr update = json::parse_object(realtime::build_session_update(c));
  json::ObjectPtr session = json::copy_object(json_object_get_object_member(update.get(), "session"));
  json_object_set_string_member(session.get(), "model", c.model.c_str());
  return session;
}

std::string build_call_session(const realtime::SessionConfig &config)
{
  return json::to_string(call_session_object(config).get());
}

std::string build_reject_body(unsigned sip_status)
{
  return "{\"status_code\":" + std::to_string(sip_status) + "}";
}

std::string build_refer_body(const std::string &target_uri)
{
  json::ObjectPtr body(json_object_new());
  json_object_set_string_member(body.get(), "target_uri", target_uri.c_str());
  return json::to_string(body.get());
}

std::string build_client_secret_request(const realtime::SessionConfig &config, unsigned ttl_seconds)
{
  json::ObjectPtr body(json_object_new());
  JsonObject *expires = json_object_new();
  json_object_set_string_member(expires, "anchor", "created_at");
  json_object_set_int_member(expires, "seconds", ttl_seconds);
  json_object_set_object_member(body.get(), "expires_after", expires);
  json_object_set_object_member(body.get(), "session", call_session_object(config).release());
  return json::to_string(body.get());
}

std::string call_control_path(const std::string &call_id, const std::string &verb)
{
  g_autofree gchar *escaped = g_uri_escape_string(call_id.c_str(), nullptr, FALSE);
  return std::string("/realtime/calls/") + escaped + "/" + verb;
}

std::string rest_base_of_realtime_url(const std::string &url)
{
  GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    return "";
  std::string scheme = g_uri_get_scheme(uri);
  std::string out;
  if ((scheme == "ws" || scheme == "wss") && g_uri_get_host(uri) && *g_uri_get_host(uri)) {
    std::string host = g_uri_get_host(uri);
    if (host.find(':') != std::string::npos)
      host = "[" + host + "]";
    out = (scheme == "wss" ? "https://" : "http://") + host;
    if (g_uri_get_port(uri) > 0)
      out += ":" + std::to_string(g_uri_get_port(uri));
    /* The REST calls live beside /v1/realtime: /v1/realtime/calls, /v1/realtime/client_secrets. */
    std::string path = g_uri_get_path(uri);
    while (!path.empty() && path.back() == '/')
      path.pop_back();
    const std::string tail = "/realtime";
    if (path.size() >= tail.size() && path.compare(path.size() - tail.size(), tail.size(), tail) == 0)
      path.resize(path.size() - tail.size());
    while (!path.empty() && path.back() == '/')
      path.pop_back();
    out += path;
  }
  g_uri_unref(uri);
  return out;
}

}  // namespace clawvoice::openai
