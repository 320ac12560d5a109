#include "openclawrelay/http_tool_set.h"

#include <json-glib/json-glib.h>

#include <set>

#include "common/json.h"

namespace clawvoice::openclawrelay {

namespace {

bool valid_name(const std::string &name)
{
  if (name.empty() || name.size() > 64)
    return false;
  for (char c : name)
    if (!g_ascii_isalnum(c) && c != '_' && c != '-')
      return false;
  return true;
}

bool fail(std::string *error, size_t index, const std::string &name, const std::string &what)
{
  if (error)
    *error = "tool " + std::to_string(index) + (name.empty() ? "" : " (" + name + ")") + ": " + what;
  return false;
}

}  // namespace

bool expand_env(const std::string &value, std::string *out, std::string *missing)
{
  std::string result;
  size_t i = 0;
  while (i < value.size()) {
    size_t start = value.find("${", i);
    if (start == std::string::npos) {
      result += value.substr(i);
      break;
    }
    size_t end = value.find('}', start + 2);
    if (end == std::string::npos) {
      result += value.substr(i);
      break;
    }
    result += value.substr(i, start - i);
    std::string name = value.substr(start + 2, end - start - 2);
    const gchar *env = g_getenv(name.c_str());
    if (!env) {
      if (missing)
        *missing = name;
      return false;
    }
    result += env;
    i = end + 1;
  }
  *out = result;
  return true;
}

bool parse_http_tools(const std::string &json_text, std::vector<HttpToolDefinition> *tools, std::string *error)
{
  std::string parse_error;
  json::NodePtr root = json::parse(json_text, &parse_error);
  if (!root || !JSON_NODE_HOLDS_ARRAY(root.get())) {
    if (error)
      *error = root ? "the tool definitions must be a JSON array" : "not valid JSON: " + parse_error;
    return false;
  }
  std::vector<HttpToolDefinition> out;
  std::set<std::string> names;
  JsonArray *array = json_node_get_array(root.get());
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *node = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_OBJECT(node))
      return fail(error, i, "", "not an object");
    JsonObject *o = json_node_get_object(node);
    HttpToolDefinition t;
    t.name = json::get_string(o, "name");
    if (!valid_name(t.name))
      return fail(error, i, t.name, "\"name\" must be 1-64 letters, digits, _ or -");
    if (!names.insert(t.name).second)
      return fail(error, i, t.name, "\"name\" is used twice");
    t.description = json::get_string(o, "description");
    if (JsonObject *params = json::get_object(o, "parameters"))
      t.parameters_json = json::to_string(params);
    else if (json_object_has_member(o, "parameters"))
      return fail(error, i, t.name, "\"parameters\" must be a JSON schema object");
    else
      t.parameters_json = "{\"type\":\"object\",\"properties\":{}}";
    t.url = json::get_string(o, "url");
    if (!(g_str_has_prefix(t.url.c_str(), "http://") || g_str_has_prefix(t.url.c_str(), "https://")) ||
        !g_uri_is_valid(t.url.c_str(), G_URI_FLAGS_NONE, nullptr))
      return fail(error, i, t.name, "\"url\" must be an http:// or https:// URL");
    g_autofree gchar *method = g_ascii_strup(json::get_string(o, "method", "POST").c_str(), -1);
    t.method = method;
    if (t.method != "POST" && t.method != "PUT" && t.method != "PATCH" && t.method != "GET")
      return fail(error, i, t.name, "\"method\" must be POST, PUT, PATCH or GET");
    gint64 timeout = json::get_int(o, "timeout_ms", 10000);
    if (timeout < 1 || timeout > 600000)
      return fail(error, i, t.name, "\"timeout_ms\" must be 1 … 600000");
    t.timeout_ms = (guint) timeout;

    std::string missing;
    if (JsonObject *auth = json::get_object(o, "auth")) {
      std::string value;
      if (auto bearer = json::get_optional_string(auth, "bearer")) {
        if (!expand_env(*bearer, &value, &missing))
          return fail(error, i, t.name, "auth: environment variable " + missing + " is not set");
        t.headers.emplace_back("Authorization", "Bearer " + value);
      } else if (auto basic = json::get_optional_string(auth, "basic")) {
        if (!expand_env(*basic, &value, &missing))
          return fail(error, i, t.name, "auth: environment variable " + missing + " is not set");
        g_autofree gchar *encoded = g_base64_encode(reinterpret_cast<const guchar *>(value.data()), value.size());
        t.headers.emplace_back("Authorization", std::string("Basic ") + encoded);
      } else {
        return fail(error, i, t.name, "\"auth\" must hold \"bearer\" or \"basic\"");
      }
    } else if (json_object_has_member(o, "auth")) {
      return fail(error, i, t.name, "\"auth\" must be an object");
    }
    if (JsonObject *headers = json::get_object(o, "headers")) {
      g_autoptr(GList) members = json_object_get_members(headers);
      for (GList *m = members; m; m = m->next) {
        const char *name = static_cast<const char *>(m->data);
        std::string value;
        if (!expand_env(json::get_string(headers, name), &value, &missing))
          return fail(error, i, t.name, std::string("header ") + name + ": environment variable " + missing +
              " is not set");
        t.headers.emplace_back(name, value);
      }
    }
    out.push_back(std::move(t));
  }
  *tools = std::move(out);
  return true;
}

std::string realtime_tools_json(const std::vector<HttpToolDefinition> &tools)
{
  JsonArray *array = json_array_new();
  for (const auto &t : tools) {
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "type", "function");
    json_object_set_string_member(o, "name", t.name.c_str());
    json_object_set_string_member(o, "description", t.description.c_str());
    json_object_set_member(o, "parameters", json::parse(t.parameters_json).release());
    json_array_add_object_element(array, o);
  }
  JsonNode *node = json_node_alloc();
  json_node_init_array(node, array);
  json_array_unref(array);
  json::NodePtr root(node);
  return json::to_string(root.get());
}

}  // namespace clawvoice::openclawrelay
