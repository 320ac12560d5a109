#include "routes/browser/call_events.h"

#include <json-glib/json-glib.h>

#include "common/json.h"

namespace clawvoice::launcher {

namespace {

void add_string(JsonObject *o, const char *member, const GstStructure *s, const char *field)
{
  const gchar *value = gst_structure_get_string(s, field);
  if (value)
    json_object_set_string_member(o, member, value);
}

}  // namespace

json::ObjectPtr call_event_payload(GstMessage *message)
{
  if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ELEMENT)
    return nullptr;
  const GstStructure *s = gst_message_get_structure(message);
  const gchar *name = gst_structure_get_name(s);
  JsonObject *o = json_object_new();
  if (g_str_equal(name, "clawvoice-transcript")) {
    json_object_set_string_member(o, "kind", "transcript");
    add_string(o, "role", s, "role");
    add_string(o, "text", s, "text");
    add_string(o, "item_id", s, "item-id");
    gboolean final = FALSE;
    gst_structure_get_boolean(s, "final", &final);
    json_object_set_boolean_member(o, "final", final);
  } else if (g_str_equal(name, "clawvoice-turn")) {
    json_object_set_string_member(o, "kind", "turn");
    add_string(o, "event", s, "event");
  } else if (g_str_equal(name, "clawvoice-task")) {
    json_object_set_string_member(o, "kind", "task");
    guint id = 0;
    gst_structure_get_uint(s, "task-id", &id);
    json_object_set_int_member(o, "task_id", id);
    add_string(o, "status", s, "status");
    add_string(o, "question", s, "question");
    add_string(o, "answer", s, "answer");
    add_string(o, "error", s, "error");
    gint64 elapsed = 0;
    gst_structure_get_int64(s, "elapsed-ms", &elapsed);
    json_object_set_int_member(o, "elapsed_ms", elapsed);
  } else if (g_str_equal(name, "clawvoice-usage")) {
    json_object_set_string_member(o, "kind", "cost");
    gdouble total = 0, last = 0;
    gst_structure_get_double(s, "total-cost", &total);
    gst_structure_get_double(s, "cost", &last);
    json_object_set_double_member(o, "total_usd", total);
    json_object_set_double_member(o, "last_usd", last);
  } else {
    json_object_unref(o);
    return nullptr;
  }
  return json::ObjectPtr(o);
}

}  // namespace clawvoice::launcher
