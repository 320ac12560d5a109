/* Base class for tool-call executors: see gsttoolexecutor.h and clawvoice-contract.h. */
#include "common/gsttoolexecutor.h"

#include <set>
#include <string>

#include "clawvoice-contract.h"
#include "common/json.h"

GST_DEBUG_CATEGORY_STATIC(gst_tool_executor_debug);
#define GST_CAT_DEFAULT gst_tool_executor_debug

namespace cvjson = clawvoice::json;

typedef struct {
  GstPad *sinkpad;
  GstPad *srcpad;
} GstToolExecutorPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_CODE(GstToolExecutor, gst_tool_executor, GST_TYPE_ELEMENT,
    G_ADD_PRIVATE(GstToolExecutor)
    GST_DEBUG_CATEGORY_INIT(gst_tool_executor_debug, "clawvoice-toolexecutor", 0,
        "clawvoice tool executor base class"))

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS(CLAWVOICE_TOOL_CALL_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS(CLAWVOICE_TOOL_CALL_CAPS));

/* Appends this executor's tools to the query's JSON array, skipping names already served upstream
 * (the first executor in the chain wins, as it is the one that gets the call). */
static void append_tools(GstToolExecutor *self, GstStructure *s)
{
  GstToolExecutorClass *klass = GST_TOOL_EXECUTOR_GET_CLASS(self);
  const gchar *existing = gst_structure_get_string(s, "tools");
  cvjson::NodePtr all = cvjson::parse(existing ? existing : "[]");
  if (!all || !JSON_NODE_HOLDS_ARRAY(all.get()))
    all = cvjson::parse("[]");
  JsonArray *array = json_node_get_array(all.get());
  std::set<std::string> names;
  for (guint i = 0; i < json_array_get_length(array); i++)
    names.insert(cvjson::get_string(json_array_get_object_element(array, i), "name"));

  g_autofree gchar *mine_text = klass->get_tools ? klass->get_tools(self) : g_strdup("[]");
  cvjson::NodePtr mine = cvjson::parse(mine_text ? mine_text : "[]");
  if (!mine || !JSON_NODE_HOLDS_ARRAY(mine.get())) {
    GST_WARNING_OBJECT(self, "get_tools() did not return a JSON array");
    return;
  }
  JsonArray *mine_array = json_node_get_array(mine.get());
  for (guint i = 0; i < json_array_get_length(mine_array); i++) {
    JsonNode *tool = json_array_get_element(mine_array, i);
    std::string name = JSON_NODE_HOLDS_OBJECT(tool)
        ? cvjson::get_string(json_node_get_object(tool), "name") : "";
    if (name.empty() || names.count(name)) {
      GST_WARNING_OBJECT(self, "tool '%s' skipped: unnamed or already served upstream", name.c_str());
      continue;
    }
    names.insert(name);
    json_array_add_element(array, json_node_copy(tool));
  }
  gst_structure_set(s, "tools", G_TYPE_STRING, cvjson::to_string(all.get()).c_str(), nullptr);
}

static gboolean serves_tool(GstToolExecutor *self, const std::string &name)
{
  GstToolExecutorClass *klass = GST_TOOL_EXECUTOR_GET_CLASS(self);
  g_autofree gchar *tools = klass->get_tools ? klass->get_tools(self) : nullptr;
  cvjson::NodePtr node = cvjson::parse(tools ? tools : "[]");
  if (!node || !JSON_NODE_HOLDS_ARRAY(node.get()))
    return FALSE;
  JsonArray *array = json_node_get_array(node.get());
  for (guint i = 0; i < json_array_get_length(array); i++) {
    if (cvjson::get_string(json_array_get_object_element(array, i), "name") == name)
      return TRUE;
  }
  return FALSE;
}

static gboolean gst_tool_executor_sink_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstToolExecutor *self = GST_TOOL_EXECUTOR(parent);
  auto *priv = static_cast<GstToolExecutorPrivate *>(gst_tool_executor_get_instance_private(self));
  if (GST_QUERY_TYPE(query) == GST_QUERY_CUSTOM) {
    GstStructure *s = gst_query_writable_structure(query);
    if (s && gst_structure_has_name(s, CLAWVOICE_QUERY_TOOLS)) {
      append_tools(self, s);
      /* Pass it on to the rest of the chain; an unlinked end is fine. */
      gst_pad_peer_query(priv->srcpad, query);
      return TRUE;
    }
  }
  return gst_pad_query_default(pad, parent, query);
}

static GstFlowReturn gst_tool_executor_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstToolExecutor *self = GST_TOOL_EXECUTOR(parent);
  auto *priv = static_cast<GstToolExecutorPrivate *>(gst_tool_executor_get_instance_private(self));
  GstToolExecutorClass *klass = GST_TOOL_EXECUTOR_GET_CLASS(self);

  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    gst_buffer_unref(buffer);
    return GST_FLOW_ERROR;
  }
  std::string text(reinterpret_cast<const char *>(map.data), map.size);
  gst_buffer_unmap(buffer, &map);

  cvjson::ObjectPtr call = cvjson::parse_object(text);
  std::string call_id = cvjson::get_string(call.get(), "call_id");
  std::string name = cvjson::get_string(call.get(), "name");
  std::string arguments = cvjson::get_string(call.get(), "arguments", "{}");
  if (!call || call_id.empty() || name.empty()) {
    GST_ELEMENT_WARNING(self, STREAM, FORMAT, ("Malformed tool call received"),
        ("expected {\"call_id\",\"name\",\"arguments\"}, got %zu bytes", text.size()));
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }

  if (serves_tool(self, name) && klass->handle_call &&
      klass->handle_call(self, call_id.c_str(), name.c_str(), arguments.c_str())) {
    GST_DEBUG_OBJECT(self, "handling tool call %s (%s)", call_id.c_str(), name.c_str());
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  GST_DEBUG_OBJECT(self, "passing tool call %s (%s) on", call_id.c_str(), name.c_str());
  return gst_pad_push(priv->srcpad, buffer);
}

gboolean gst_tool_executor_send_result(GstToolExecutor *self, const gchar *call_id,
    const gchar *output, gboolean respond)
{
  g_return_val_if_fail(GST_IS_TOOL_EXECUTOR(self), FALSE);
  auto *priv = static_cast<GstToolExecutorPrivate *>(gst_tool_executor_get_instance_private(self));
  GstStructure *s = gst_structure_new(CLAWVOICE_EVENT_TOOL_RESULT, "call-id", G_TYPE_STRING, call_id,
      "output", G_TYPE_STRING, output, "respond", G_TYPE_BOOLEAN, respond, nullptr);
  return gst_pad_push_event(priv->sinkpad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
}

gboolean gst_tool_executor_inject(GstToolExecutor *self, const gchar *text, const gchar *role,
    gboolean urgent)
{
  g_return_val_if_fail(GST_IS_TOOL_EXECUTOR(self), FALSE);
  auto *priv = static_cast<GstToolExecutorPrivate *>(gst_tool_executor_get_instance_private(self));
  GstStructure *s = gst_structure_new(CLAWVOICE_EVENT_INJECT, "text", G_TYPE_STRING, text,
      "role", G_TYPE_STRING, role ? role : "system", "urgent", G_TYPE_BOOLEAN, urgent, nullptr);
  return gst_pad_push_event(priv->sinkpad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
}

static void gst_tool_executor_init(GstToolExecutor *self)
{
  auto *priv = static_cast<GstToolExecutorPrivate *>(gst_tool_executor_get_instance_private(self));
  GstElementClass *klass = GST_ELEMENT_GET_CLASS(self);
  priv->sinkpad = gst_pad_new_from_template(gst_element_class_get_pad_template(klass, "sink"), "sink");
  gst_pad_set_chain_function(priv->sinkpad, gst_tool_executor_chain);
  gst_pad_set_query_function(priv->sinkpad, gst_tool_executor_sink_query);
  GST_PAD_SET_PROXY_CAPS(priv->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), priv->sinkpad);
  priv->srcpad = gst_pad_new_from_template(gst_element_class_get_pad_template(klass, "src"), "src");
  GST_PAD_SET_PROXY_CAPS(priv->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), priv->srcpad);
}

static void gst_tool_executor_class_init(GstToolExecutorClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_type_mark_as_plugin_api(GST_TYPE_TOOL_EXECUTOR, (GstPluginAPIFlags) 0);
}
