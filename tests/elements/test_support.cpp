#include "test_support.h"

#include <pthread.h>

#include <mutex>

#include "common/gsttoolexecutor.h"

extern "C" void gst_plugin_clawvoice_register(void);

namespace clawvoice::test {

void init_gstreamer()
{
  static std::once_flag once;
  std::call_once(once, []() {
    gst_init(nullptr, nullptr);
    gst_plugin_clawvoice_register();
    register_test_elements();
  });
}

std::string data_path(const std::string &name)
{
  return std::string(CLAWVOICE_TEST_DATA_DIR) + "/" + name;
}

Pipeline::Pipeline(const std::string &launch)
{
  GError *error = nullptr;
  pipeline_ = gst_parse_launch_full(launch.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (error) {
    ADD_FAILURE() << "cannot build pipeline: " << error->message << "\n" << launch;
    g_clear_error(&error);
  }
}

Pipeline::~Pipeline()
{
  if (pipeline_) {
    EXPECT_EQ(gst_element_set_state(pipeline_, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(pipeline_);
  }
  for (GstMessage *m : messages_)
    gst_message_unref(m);
}

GstElement *Pipeline::by_name(const std::string &name) const
{
  GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline_), name.c_str());
  if (e)
    gst_object_unref(e);   /* the bin keeps it alive */
  return e;
}

GstStateChangeReturn Pipeline::play()
{
  return gst_element_set_state(pipeline_, GST_STATE_PLAYING);
}

void Pipeline::drain_bus(guint timeout_ms)
{
  GstBus *bus = gst_element_get_bus(pipeline_);
  GstMessage *m = gst_bus_timed_pop(bus, timeout_ms * GST_MSECOND);
  while (m) {
    messages_.push_back(m);
    m = gst_bus_pop(bus);
  }
  gst_object_unref(bus);
}

GstMessageType Pipeline::run(guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  size_t seen = 0;
  while (g_get_monotonic_time() < deadline) {
    drain_bus(50);
    for (; seen < messages_.size(); seen++) {
      GstMessageType t = GST_MESSAGE_TYPE(messages_[seen]);
      if (t == GST_MESSAGE_EOS || t == GST_MESSAGE_ERROR)
        return t;
    }
  }
  return (GstMessageType) 0;
}

bool Pipeline::run_until(const std::function<bool()> &predicate, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time() < deadline) {
    if (predicate())
      return true;
    drain_bus(20);
  }
  return predicate();
}

std::vector<const GstStructure *> Pipeline::element_messages(const std::string &name) const
{
  std::vector<const GstStructure *> out;
  for (GstMessage *m : messages_) {
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ELEMENT)
      continue;
    const GstStructure *s = gst_message_get_structure(m);
    if (s && gst_structure_has_name(s, name.c_str()))
      out.push_back(s);
  }
  return out;
}

std::string Pipeline::first_error() const
{
  for (GstMessage *m : messages_) {
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ERROR)
      continue;
    GError *error = nullptr;
    gchar *debug = nullptr;
    gst_message_parse_error(m, &error, &debug);
    std::string text = std::string(error->message) + " | " + (debug ? debug : "");
    g_clear_error(&error);
    g_free(debug);
    return text;
  }
  return "";
}

std::vector<std::string> Pipeline::warnings() const
{
  std::vector<std::string> out;
  for (GstMessage *m : messages_) {
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_WARNING)
      continue;
    GError *error = nullptr;
    gst_message_parse_warning(m, &error, nullptr);
    out.push_back(error->message);
    g_clear_error(&error);
  }
  return out;
}

std::unique_ptr<sim::RealtimeSimulator> start_simulator(sim::Options options)
{
  auto simulator = std::make_unique<sim::RealtimeSimulator>(std::move(options));
  std::string error;
  if (!simulator->start(&error)) {
    ADD_FAILURE() << "simulator did not start: " << error;
    return nullptr;
  }
  return simulator;
}

}  // namespace clawvoice::test

/* ---- testexecutor: a minimal executor built on the GstToolExecutor base class ---- */

#define TEST_TYPE_EXECUTOR (test_executor_get_type())
G_DECLARE_FINAL_TYPE(TestExecutor, test_executor, TEST, EXECUTOR, GstToolExecutor)

struct _TestExecutor {
  GstToolExecutor parent;
  gchar *tool_name;
  gchar *reply;
  guint delay_ms;
  gint calls;
};

G_DEFINE_TYPE(TestExecutor, test_executor, GST_TYPE_TOOL_EXECUTOR)

enum { PROP_T0, PROP_TOOL_NAME, PROP_REPLY, PROP_DELAY_MS, PROP_CALLS };

static gchar *test_executor_get_tools(GstToolExecutor *base)
{
  TestExecutor *self = TEST_EXECUTOR(base);
  return g_strdup_printf("[{\"type\":\"function\",\"name\":\"%s\",\"description\":\"Test tool.\","
                         "\"parameters\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\"}},"
                         "\"required\":[\"message\"]}}]",
      self->tool_name);
}

struct PendingAnswer {
  TestExecutor *self;
  gchar *call_id;
};

static gboolean test_executor_answer(gpointer data)
{
  auto *answer = static_cast<PendingAnswer *>(data);
  g_autofree gchar *output = g_strdup_printf("{\"result\":\"%s\"}", answer->self->reply);
  gst_tool_executor_send_result(GST_TOOL_EXECUTOR(answer->self), answer->call_id, output, TRUE);
  gst_object_unref(answer->self);
  g_free(answer->call_id);
  delete answer;
  return G_SOURCE_REMOVE;
}

static gpointer answer_thread(gpointer data)
{
  auto *answer = static_cast<PendingAnswer *>(data);
  g_usleep((gulong) answer->self->delay_ms * 1000);
  test_executor_answer(answer);
  return nullptr;
}

static gboolean test_executor_handle_call(GstToolExecutor *base, const gchar *call_id, const gchar *,
    const gchar *)
{
  TestExecutor *self = TEST_EXECUTOR(base);
  g_atomic_int_inc(&self->calls);
  gst_object_ref(self);
  auto *answer = new PendingAnswer{self, g_strdup(call_id)};
  /* Answer from another thread, later, as a real executor would. */
  g_thread_unref(g_thread_new("test-executor", answer_thread, answer));
  return TRUE;
}

static void test_executor_set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  TestExecutor *self = TEST_EXECUTOR(object);
  switch (id) {
    case PROP_TOOL_NAME: g_free(self->tool_name); self->tool_name = g_value_dup_string(value); break;
    case PROP_REPLY: g_free(self->reply); self->reply = g_value_dup_string(value); break;
    case PROP_DELAY_MS: self->delay_ms = g_value_get_uint(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void test_executor_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  TestExecutor *self = TEST_EXECUTOR(object);
  switch (id) {
    case PROP_TOOL_NAME: g_value_set_string(value, self->tool_name); break;
    case PROP_REPLY: g_value_set_string(value, self->reply); break;
    case PROP_DELAY_MS: g_value_set_uint(value, self->delay_ms); break;
    case PROP_CALLS: g_value_set_int(value, g_atomic_int_get(&self->calls)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void test_executor_finalize(GObject *object)
{
  TestExecutor *self = TEST_EXECUTOR(object);
  g_free(self->tool_name);
  g_free(self->reply);
  G_OBJECT_CLASS(test_executor_parent_class)->finalize(object);
}

static void test_executor_init(TestExecutor *self)
{
  self->tool_name = g_strdup("send_to_openclaw");
  self->reply = g_strdup("It will be sunny in Paris tomorrow.");
  self->delay_ms = 100;
}

static void test_executor_class_init(TestExecutorClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = test_executor_set_property;
  gobject_class->get_property = test_executor_get_property;
  gobject_class->finalize = test_executor_finalize;
  g_object_class_install_property(gobject_class, PROP_TOOL_NAME, g_param_spec_string("tool-name", "", "",
      "send_to_openclaw", G_PARAM_READWRITE));
  g_object_class_install_property(gobject_class, PROP_REPLY, g_param_spec_string("reply", "", "",
      "It will be sunny in Paris tomorrow.", G_PARAM_READWRITE));
  g_object_class_install_property(gobject_class, PROP_DELAY_MS, g_param_spec_uint("delay-ms", "", "",
      0, 60000, 100, G_PARAM_READWRITE));
  g_object_class_install_property(gobject_class, PROP_CALLS, g_param_spec_int("calls", "", "",
      0, G_MAXINT, 0, G_PARAM_READABLE));
  GstToolExecutorClass *executor_class = GST_TOOL_EXECUTOR_CLASS(klass);
  executor_class->get_tools = test_executor_get_tools;
  executor_class->handle_call = test_executor_handle_call;
  gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "Test executor", "Generic",
      "Serves one tool with a canned answer", "clawvoice tests");
}

namespace clawvoice::test {
void register_test_elements()
{
  gst_element_register(nullptr, "testexecutor", GST_RANK_NONE, TEST_TYPE_EXECUTOR);
}
bool src_has_task(GstElement *element)
{
  GstPad *src = gst_element_get_static_pad(element, "src");
  GST_OBJECT_LOCK(src);
  bool has = GST_PAD_TASK(src) != nullptr;
  GST_OBJECT_UNLOCK(src);
  gst_object_unref(src);
  return has;
}

void PushingThreads::watch(GstPad *pad)
{
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, [](GstPad *, GstPadProbeInfo *, gpointer data) {
    char name[32] = {0};
    pthread_getname_np(pthread_self(), name, sizeof name);
    auto *self = static_cast<PushingThreads *>(data);
    std::lock_guard<std::mutex> l(self->lock);
    self->names.insert(name);
    return GST_PAD_PROBE_OK;
  }, this, nullptr);
}

}  // namespace clawvoice::test
