#include "common/json.h"

namespace clawvoice::json {

NodePtr parse(const std::string &text, std::string *error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  GError *err = nullptr;
  if (!json_parser_load_from_data(parser, text.data(), (gssize) text.size(), &err)) {
    if (error)
      *error = err ? err->message : "invalid JSON";
    g_clear_error(&err);
    return nullptr;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root) {
    if (error)
      *error = "empty document";
    return nullptr;
  }
  return NodePtr(json_node_copy(root));
}

ObjectPtr parse_object(const std::string &text, std::string *error)
{
  NodePtr node = parse(text, error);
  if (!node)
    return nullptr;
  if (!JSON_NODE_HOLDS_OBJECT(node.get())) {
    if (error)
      *error = "top-level value is not an object";
    return nullptr;
  }
  return ObjectPtr(json_object_ref(json_node_get_object(node.get())));
}

std::string to_string(JsonNode *node)
{
  g_autofree gchar *s = json_to_string(node, FALSE);
  return s ? std::string(s) : std::string();
}

std::string to_string(JsonObject *object)
{
  NodePtr node(json_node_init_object(json_node_alloc(), object));
  return to_string(node.get());
}

static JsonNode *member_value(JsonObject *o, const char *member)
{
  if (!o || !json_object_has_member(o, member))
    return nullptr;
  JsonNode *n = json_object_get_member(o, member);
  if (!n || JSON_NODE_HOLDS_NULL(n))
    return nullptr;
  return n;
}

std::string get_string(JsonObject *o, const char *member, const std::string &fallback)
{
  auto v = get_optional_string(o, member);
  return v ? *v : fallback;
}

std::optional<std::string> get_optional_string(JsonObject *o, const char *member)
{
  JsonNode *n = member_value(o, member);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
    return std::nullopt;
  return std::string(json_node_get_string(n));
}

gint64 get_int(JsonObject *o, const char *member, gint64 fallback)
{
  JsonNode *n = member_value(o, member);
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return fallback;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64)
    return json_node_get_int(n);
  if (t == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double(n);
  return fallback;
}

double get_double(JsonObject *o, const char *member, double fallback)
{
  JsonNode *n = member_value(o, member);
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return fallback;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_DOUBLE)
    return json_node_get_double(n);
  if (t == G_TYPE_INT64)
    return (double) json_node_get_int(n);
  return fallback;
}

bool get_bool(JsonObject *o, const char *member, bool fallback)
{
  JsonNode *n = member_value(o, member);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return fallback;
  return json_node_get_boolean(n);
}

JsonObject *get_object(JsonObject *o, const char *member)
{
  JsonNode *n = member_value(o, member);
  return (n && JSON_NODE_HOLDS_OBJECT(n)) ? json_node_get_object(n) : nullptr;
}

JsonArray *get_array(JsonObject *o, const char *member)
{
  JsonNode *n = member_value(o, member);
  return (n && JSON_NODE_HOLDS_ARRAY(n)) ? json_node_get_array(n) : nullptr;
}

ObjectPtr copy_object(JsonObject *o)
{
  /* json_node_copy() only takes a reference to an object node's JsonObject (json-glib 1.6), so a
   * real deep copy goes through text: simple, and these objects are small. */
  return parse_object(to_string(o));
}

}  // namespace clawvoice::json
