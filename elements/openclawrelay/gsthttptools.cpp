/**
 * SECTION:element-httptools
 * @title: httptools
 *
 * httptools serves tools to the voice model that are plain HTTP endpoints, defined in the config
 * (`tools`, a JSON array, or `tools-file`, a file holding one): name, description, JSON-schema
 * parameters, URL, method, auth and timeout (see docs/elements.md for the format). A call is
 * executed on the shared network thread: the model's arguments are POSTed as JSON (or sent as query
 * parameters for GET) and the response body, JSON, is the tool's output. Failures come back as
 * `{"ok":false,"error":"…"}` so the model can tell the caller what went wrong.
 *
 * It is a tool executor: calls for tools it does not define pass on to the next executor, so it
 * chains with openclawrelay in either order. End of stream, a flush or leaving PAUSED drops the
 * calls in flight.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 … realtimesink name=rt … rt.tools ! openclawrelay url=http://127.0.0.1:18789 ! \
 *     httptools tools-file=/etc/clawvoice/calendar-tools.json
 * ]| Calendar tools (find-slots, check-slot, create-event) next to the agent relay.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "openclawrelay/gsthttptools.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/net_thread.h"
#include "openclawrelay/http_tool_runner.h"
#include "openclawrelay/http_tool_set.h"

GST_DEBUG_CATEGORY_STATIC(gst_http_tools_debug);
#define GST_CAT_DEFAULT gst_http_tools_debug

using namespace clawvoice;
using namespace clawvoice::openclawrelay;

namespace {

struct Private {
  std::mutex lock;   /* guards everything below */
  std::string tools_json;
  std::string tools_file;
  /* Parsed from the properties when first needed after a change. */
  bool parsed = false;
  std::vector<HttpToolDefinition> tools;
  std::string parse_error;

  std::shared_ptr<net::NetThread> net;
  std::unique_ptr<HttpToolRunner> runner;
  guint64 calls = 0;
  guint64 failures = 0;
};

/* With the lock held. Reads the definitions from `tools` or `tools-file` (file I/O: the first
 * time only, and never on the streaming thread once started: READY→PAUSED parses them). */
void ensure_parsed(Private *p)
{
  if (p->parsed)
    return;
  p->parsed = true;
  p->tools.clear();
  p->parse_error.clear();
  std::string text = p->tools_json;
  if (!p->tools_file.empty()) {
    gchar *data = nullptr;
    GError *error = nullptr;
    if (!g_file_get_contents(p->tools_file.c_str(), &data, nullptr, &error)) {
      p->parse_error = std::string("cannot read tools-file: ") + error->message;
      g_clear_error(&error);
      return;
    }
    text = data;
    g_free(data);
  }
  if (text.empty())
    return;   /* no tools: a pass-through */
  std::string error;
  if (!parse_http_tools(text, &p->tools, &error))
    p->parse_error = (p->tools_file.empty() ? "tools: " : p->tools_file + ": ") + error;
}

}  // namespace

struct _GstHttpTools {
  GstToolExecutor parent;
  Private *priv;
};

G_DEFINE_TYPE(GstHttpTools, gst_http_tools, GST_TYPE_TOOL_EXECUTOR);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(httptools, "httptools", GST_RANK_NONE, GST_TYPE_HTTP_TOOLS,
    GST_DEBUG_CATEGORY_INIT(gst_http_tools_debug, "clawvoice-httptools", 0, "HTTP tools executor"));

enum { PROP_0, PROP_TOOLS, PROP_TOOLS_FILE, PROP_STATS };

static gchar *gst_http_tools_get_tools(GstToolExecutor *base)
{
  Private *p = GST_HTTP_TOOLS(base)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  ensure_parsed(p);
  return g_strdup(realtime_tools_json(p->tools).c_str());
}

static gboolean gst_http_tools_handle_call(GstToolExecutor *base, const gchar *call_id, const gchar *name,
    const gchar *arguments_json)
{
  GstHttpTools *self = GST_HTTP_TOOLS(base);
  Private *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  const HttpToolDefinition *tool = nullptr;
  for (const auto &t : p->tools)
    if (t.name == name)
      tool = &t;
  if (!tool || !p->runner)
    return FALSE;
  p->calls++;
  GST_DEBUG_OBJECT(self, "call %s: %s %s", call_id, tool->method.c_str(), tool->url.c_str());
  std::string id = call_id;
  std::string tool_name = name;
  gint64 started = g_get_monotonic_time();
  p->runner->call(*tool, arguments_json ? arguments_json : "{}",
      [self, id, tool_name, started](const std::string &output) {
        bool failed = g_str_has_prefix(output.c_str(), "{\"ok\":false");
        if (failed) {
          std::lock_guard<std::mutex> l(self->priv->lock);
          self->priv->failures++;
        }
        GST_INFO_OBJECT(self, "call %s (%s) answered in %" G_GINT64_FORMAT " ms%s", id.c_str(), tool_name.c_str(),
            (g_get_monotonic_time() - started) / 1000, failed ? ": failed" : "");
        if (failed)
          GST_INFO_OBJECT(self, "call %s: %s", id.c_str(), output.c_str());
        gst_tool_executor_send_result(GST_TOOL_EXECUTOR(self), id.c_str(), output.c_str(), TRUE);
      });
  return TRUE;
}

static GstPadProbeReturn sink_event_probe(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  GstHttpTools *self = GST_HTTP_TOOLS(data);
  GstEventType type = GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info));
  if (type == GST_EVENT_EOS || type == GST_EVENT_FLUSH_START) {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    if (self->priv->runner && self->priv->runner->in_flight())
      GST_INFO_OBJECT(self, "%s: dropping %u calls in flight", GST_EVENT_TYPE_NAME(GST_PAD_PROBE_INFO_EVENT(info)),
          self->priv->runner->in_flight());
    if (self->priv->runner)
      self->priv->runner->cancel_all();
  }
  return GST_PAD_PROBE_OK;
}

static GstStateChangeReturn gst_http_tools_change_state(GstElement *element, GstStateChange transition)
{
  GstHttpTools *self = GST_HTTP_TOOLS(element);
  Private *p = self->priv;
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      p->net = net::NetThread::acquire();
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      std::lock_guard<std::mutex> lock(p->lock);
      ensure_parsed(p);
      if (!p->parse_error.empty()) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("The HTTP tool definitions are not valid."),
            ("%s", p->parse_error.c_str()));
        return GST_STATE_CHANGE_FAILURE;
      }
      GST_INFO_OBJECT(self, "%zu HTTP tools", p->tools.size());
      p->runner = std::make_unique<HttpToolRunner>(p->net);
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::unique_ptr<HttpToolRunner> runner;
      {
        std::lock_guard<std::mutex> lock(p->lock);
        runner = std::move(p->runner);
      }
      runner.reset();   /* outside the lock: waits for the network thread, whose callbacks take it */
      break;
    }
    default:
      break;
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_http_tools_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    p->net.reset();
  return ret;
}

static void gst_http_tools_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  Private *p = GST_HTTP_TOOLS(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  const gchar *s = nullptr;
  switch (id) {
    case PROP_TOOLS:
      s = g_value_get_string(value);
      p->tools_json = s ? s : "";
      p->parsed = false;
      break;
    case PROP_TOOLS_FILE:
      s = g_value_get_string(value);
      p->tools_file = s ? s : "";
      p->parsed = false;
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void gst_http_tools_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  Private *p = GST_HTTP_TOOLS(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (id) {
    /* The definitions as given: auth values may name environment variables, never their values. */
    case PROP_TOOLS: g_value_set_string(value, p->tools_json.empty() ? nullptr : p->tools_json.c_str()); break;
    case PROP_TOOLS_FILE: g_value_set_string(value, p->tools_file.empty() ? nullptr : p->tools_file.c_str()); break;
    case PROP_STATS:
      g_value_take_boxed(value, gst_structure_new("httptools-stats", "tools", G_TYPE_UINT, (guint) p->tools.size(),
          "calls", G_TYPE_UINT64, p->calls, "failures", G_TYPE_UINT64, p->failures,
          "in-flight", G_TYPE_UINT, p->runner ? p->runner->in_flight() : 0u, nullptr));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void gst_http_tools_init(GstHttpTools *self)
{
  self->priv = new Private();
  GstPad *sink = gst_element_get_static_pad(GST_ELEMENT(self), "sink");
  gst_pad_add_probe(sink, (GstPadProbeType) (GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      sink_event_probe, self, nullptr);
  gst_object_unref(sink);
}

static void gst_http_tools_finalize(GObject *object)
{
  delete GST_HTTP_TOOLS(object)->priv;
  G_OBJECT_CLASS(gst_http_tools_parent_class)->finalize(object);
}

static void gst_http_tools_class_init(GstHttpToolsClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstToolExecutorClass *executor_class = GST_TOOL_EXECUTOR_CLASS(klass);
  gobject_class->set_property = gst_http_tools_set_property;
  gobject_class->get_property = gst_http_tools_get_property;
  gobject_class->finalize = gst_http_tools_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_http_tools_change_state);
  executor_class->get_tools = GST_DEBUG_FUNCPTR(gst_http_tools_get_tools);
  executor_class->handle_call = GST_DEBUG_FUNCPTR(gst_http_tools_handle_call);

  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(gobject_class, PROP_TOOLS, g_param_spec_string("tools", "Tools",
      "JSON array of HTTP tool definitions: name, description, parameters (JSON schema), url, method, auth "
      "({\"bearer\":\"${ENV}\"} or {\"basic\":\"user:${ENV}\"}), headers, timeout_ms", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_TOOLS_FILE, g_param_spec_string("tools-file", "Tools file",
      "A file holding the tool definitions (instead of tools)", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_STATS, g_param_spec_boxed("stats", "Statistics",
      "tools, calls, failures, in-flight", GST_TYPE_STRUCTURE,
      (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_set_static_metadata(element_class, "HTTP tools", "Filter/Network",
      "Serves HTTP endpoints defined in the config as tools of the voice model (arguments POSTed as JSON, the "
      "JSON answer as the tool's output)", "clawvoice developers");
  gst_element_class_add_static_metadata(element_class, "example-launch-line",
      "gst-launch-1.0 … realtimesink name=rt … rt.tools ! openclawrelay ! httptools "
      "tools-file=calendar-tools.json   (calendar tools next to the agent relay; see docs/elements.md)");
  gst_element_class_add_static_metadata(element_class, GST_ELEMENT_METADATA_DOC_URI,
      "docs/elements.md in the clawvoice source tree");
}
