/* The fake gateway's request rules. Messages and shapes follow the gateway's own handler
 * (openai-http.ts / http-common.ts in openclaw/openclaw); where the reference does not say, the
 * choice is written beside the refusal. */
#include "gateway_request.h"

#include <glib.h>

#include <cstring>

#include "common/json.h"

namespace clawvoice::sim {

std::string gateway_error_body(const std::string &message, const std::string &type)
{
  JsonObject *error = json_object_new();
  json_object_set_string_member(error, "message", message.c_str());
  json_object_set_string_member(error, "type", type.c_str());
  JsonObject *root = json_object_new();
  json_object_set_object_member(root, "error", error);
  std::string text = json::to_string(root);
  json_object_unref(root);
  return text;
}

std::string gateway_status_body(unsigned status)
{
  switch (status) {
    case 401: return gateway_error_body("Unauthorized", "unauthorized");
    case 403: return gateway_error_body("Forbidden", "forbidden");
    case 429:
      return gateway_error_body("Too many failed authentication attempts. Please try again later.",
                                "rate_limited");
    case 500: return gateway_error_body("internal error", "api_error");
    default: break;
  }
  const char *phrase = nullptr;
  switch (status) {
    case 400: phrase = "Bad Request"; break;
    case 404: phrase = "Not Found"; break;
    case 502: phrase = "Bad Gateway"; break;
    case 503: phrase = "Service Unavailable"; break;
    case 504: phrase = "Gateway Timeout"; break;
    default: phrase = "error"; break;
  }
  return gateway_error_body(phrase, status >= 500 ? "api_error" : "invalid_request_error");
}

static bool refuse(GatewayRefusal *refusal, const std::string &message, unsigned status = 400)
{
  refusal->status = status;
  refusal->message = message;
  refusal->type = "invalid_request_error";
  return false;
}

/* Text of a message's content: a string, or the text parts of an array (as the gateway reads it). */
static bool content_text(JsonNode *content, std::string *text)
{
  if (!content || JSON_NODE_HOLDS_NULL(content)) {
    text->clear();
    return true;
  }
  if (JSON_NODE_HOLDS_VALUE(content) && json_node_get_value_type(content) == G_TYPE_STRING) {
    *text = json_node_get_string(content);
    return true;
  }
  if (!JSON_NODE_HOLDS_ARRAY(content))
    return false;
  JsonArray *parts = json_node_get_array(content);
  std::string joined;
  for (guint i = 0; i < json_array_get_length(parts); i++) {
    JsonNode *node = json_array_get_element(parts, i);
    if (!JSON_NODE_HOLDS_OBJECT(node))
      return false;
    JsonObject *part = json_node_get_object(node);
    std::string type = json::get_string(part, "type");
    if (type.empty())
      return false;
    if ((type == "text" || type == "input_text") && json_object_has_member(part, "text")) {
      if (!joined.empty())
        joined += "\n";
      joined += json::get_string(part, "text");
    }
  }
  *text = joined;
  return true;
}

static bool is_string(JsonObject *o, const char *member)
{
  JsonNode *node = json_object_get_member(o, member);
  return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

bool parse_chat_call(const std::string &body, ChatCall *call, GatewayRefusal *refusal)
{
  std::string parse_error;
  json::NodePtr root = json::parse(body, &parse_error);
  if (!root)
    return refuse(refusal, "Invalid JSON body: " + parse_error);
  if (!JSON_NODE_HOLDS_OBJECT(root.get()))
    return refuse(refusal, "The request body must be a JSON object.");
  JsonObject *o = json_node_get_object(root.get());

  if (json_object_has_member(o, "model")) {
    if (!is_string(o, "model"))
      return refuse(refusal, "`model` must be a string.");
    call->model = json::get_string(o, "model");
  }
  if (json_object_has_member(o, "stream")) {
    JsonNode *stream = json_object_get_member(o, "stream");
    if (!stream || !JSON_NODE_HOLDS_VALUE(stream) || json_node_get_value_type(stream) != G_TYPE_BOOLEAN)
      return refuse(refusal, "`stream` must be a boolean.");
    call->stream = json_node_get_boolean(stream);
  }
  if (json_object_has_member(o, "user")) {
    if (!is_string(o, "user"))
      return refuse(refusal, "`user` must be a string.");
    call->user = json::get_string(o, "user");
  }
  JsonArray *messages = json::get_array(o, "messages");
  if (!messages || json_array_get_length(messages) == 0)
    return refuse(refusal, "`messages` must be a non-empty array.");

  static const char *const roles[] = {"system", "developer", "user", "assistant", "tool",
                                      "function"};
  std::string system;
  for (guint i = 0; i < json_array_get_length(messages); i++) {
    std::string where = "`messages[" + std::to_string(i) + "]";
    JsonNode *node = json_array_get_element(messages, i);
    if (!JSON_NODE_HOLDS_OBJECT(node))
      return refuse(refusal, where + "` must be an object.");
    JsonObject *m = json_node_get_object(node);
    if (!is_string(m, "role"))
      return refuse(refusal, where + ".role` must be a string.");
    std::string role = json::get_string(m, "role");
    bool known = false;
    for (const char *r : roles)
      known = known || role == r;
    if (!known)
      return refuse(refusal, where + ".role` must be one of system, developer, user, assistant, "
                             "tool; got '" + role + "'.");
    std::string text;
    if (!content_text(json_object_get_member(m, "content"), &text))
      return refuse(refusal, where + ".content` must be a string or an array of content parts.");
    call->messages.emplace_back(role, text);
    if (role == "system" || role == "developer") {
      if (!text.empty())
        system += (system.empty() ? "" : "\n\n") + text;
    }
  }
  call->system_prompt = system;
  /* The last user message is the turn (the gateway's "activeUserMessageIndex"). */
  for (auto it = call->messages.rbegin(); it != call->messages.rend(); ++it) {
    if (it->first == "user") {
      g_autofree char *trimmed = g_strstrip(g_strdup(it->second.c_str()));
      call->question = trimmed;
      break;
    }
  }
  if (call->question.empty())
    return refuse(refusal, "Missing user message in `messages`.");
  return true;
}

static bool valid_agent_id(const std::string &id)
{
  if (id.empty() || id.size() > 64 || !g_ascii_isalnum(id[0]))
    return false;
  for (char c : id)
    if (!g_ascii_isalnum(c) && c != '_' && c != '-')
      return false;
  return true;
}

bool resolve_agent(const std::string &header, const std::string &model,
                   const std::vector<std::string> &agents, std::string *agent_id,
                   GatewayRefusal *refusal)
{
  const std::string fallback = agents.empty() ? "main" : agents.front();
  std::string id;
  if (!header.empty()) {
    id = header;
  } else if (model.empty() || model == "openclaw" || model == "openclaw/default") {
    id = fallback;
  } else {
    static const char *const prefixes[] = {"openclaw/", "openclaw:", "agent:"};
    for (const char *prefix : prefixes)
      if (g_str_has_prefix(model.c_str(), prefix))
        id = model.substr(strlen(prefix));
    /* Chosen: the gateway treats `model` as an agent target; a provider model name here is a
     * client bug we want to see, so it is refused rather than routed to the default agent. */
    if (id.empty())
      return refuse(refusal, "Unknown model '" + model + "': use \"openclaw\", "
                             "\"openclaw/<agentId>\" or \"openclaw:<agentId>\".");
  }
  g_autofree char *lower = g_ascii_strdown(id.c_str(), -1);
  id = lower;
  if (!valid_agent_id(id))
    return refuse(refusal, "Invalid agent id '" + id + "'.");
  bool known = false;
  for (const std::string &a : agents)
    known = known || a == id;
  /* Chosen: 400 invalid_request_error (the request names something that does not exist here). */
  if (!known)
    return refuse(refusal, "Unknown agent '" + id + "'.");
  *agent_id = id;
  return true;
}

bool resolve_session(const std::string &header, const std::string &user,
                     const std::string &agent_id, std::string *session_key,
                     GatewayRefusal *refusal)
{
  if (!header.empty()) {
    static const char *const reserved[] = {"subagent:", "cron:", "acp:"};
    for (const char *prefix : reserved)
      if (g_str_has_prefix(header.c_str(), prefix))
        return refuse(refusal, std::string("Session keys starting with '") + prefix +
                                   "' are reserved and cannot be used over HTTP.");
    *session_key = header;
    return true;
  }
  if (!user.empty()) {
    *session_key = "agent:" + agent_id + ":openai-user:" + user;
    return true;
  }
  g_autofree char *uuid = g_uuid_string_random();
  *session_key = "agent:" + agent_id + ":openai:" + uuid;
  return true;
}

}  // namespace clawvoice::sim
