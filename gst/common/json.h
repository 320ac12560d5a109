/* clawvoice — small json-glib helpers shared by the library, the elements and the simulator.
 *
 * json-glib is verbose for the few shapes we read and write; these wrappers keep call sites short
 * and make ownership explicit (JsonNodePtr / JsonObjectPtr unref on scope exit). */
#pragma once

#include <json-glib/json-glib.h>

#include <memory>
#include <optional>
#include <string>

namespace clawvoice::json {

struct NodeUnref { void operator()(JsonNode *n) const { if (n) json_node_unref(n); } };
struct ObjectUnref { void operator()(JsonObject *o) const { if (o) json_object_unref(o); } };
struct ArrayUnref { void operator()(JsonArray *a) const { if (a) json_array_unref(a); } };
using NodePtr = std::unique_ptr<JsonNode, NodeUnref>;
using ObjectPtr = std::unique_ptr<JsonObject, ObjectUnref>;
using ArrayPtr = std::unique_ptr<JsonArray, ArrayUnref>;

/* Parses @text; on failure returns nullptr and fills @error with the parser's message. */
NodePtr parse(const std::string &text, std::string *error = nullptr);
/* Parses @text and returns its root object, or nullptr if it is not valid JSON or not an object. */
ObjectPtr parse_object(const std::string &text, std::string *error = nullptr);

/* Compact serialisation (no whitespace), as sent on the wire. */
std::string to_string(JsonNode *node);
std::string to_string(JsonObject *object);

/* Typed getters that tolerate a missing member or a wrong type (return the fallback). */
std::string get_string(JsonObject *o, const char *member, const std::string &fallback = "");
std::optional<std::string> get_optional_string(JsonObject *o, const char *member);
gint64 get_int(JsonObject *o, const char *member, gint64 fallback = 0);
double get_double(JsonObject *o, const char *member, double fallback = 0.0);
bool get_bool(JsonObject *o, const char *member, bool fallback = false);
/* Borrowed pointers (owned by @o), or nullptr when missing or of another type. */
JsonObject *get_object(JsonObject *o, const char *member);
JsonArray *get_array(JsonObject *o, const char *member);

/* A new object holding a deep copy of @o. */
ObjectPtr copy_object(JsonObject *o);

}  // namespace clawvoice::json
