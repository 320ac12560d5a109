#include "relay_harness.h"

#include <gtest/gtest.h>

#include "clawvoice-contract.h"

namespace clawvoice::test {

ExecutorHarness::ExecutorHarness(const std::string &factory, const std::map<std::string, std::string> &properties,
    bool start_now)
{
  element_ = gst_element_factory_make(factory.c_str(), nullptr);
  if (!element_) {
    ADD_FAILURE() << "no element " << factory;
    return;
  }
  for (const auto &[name, value] : properties)
    gst_util_set_object_arg(G_OBJECT(element_), name.c_str(), value.c_str());
  /* Ours: the harness holds a reference of its own until teardown. */
  gst_object_ref_sink(element_);
  h_ = gst_harness_new_with_element(element_, "sink", "src");
  bus_ = gst_bus_new();
  gst_element_set_bus(element_, bus_);
  if (start_now) {
    EXPECT_TRUE(start());
  }
}

ExecutorHarness::~ExecutorHarness()
{
  if (h_)
    gst_harness_teardown(h_);
  /* Queued messages hold the element, which holds the bus: take them all before letting go. */
  if (bus_)
    drain_bus();
  for (GstMessage *m : messages_)
    gst_message_unref(m);
  if (bus_)
    gst_object_unref(bus_);
  if (element_)
    gst_object_unref(element_);
}

bool ExecutorHarness::start()
{
  /* gst_harness_new_with_element() already plays the element. */
  if (GST_STATE(element_) != GST_STATE_PLAYING &&
      gst_element_set_state(element_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return false;
  gst_harness_set_src_caps_str(h_, CLAWVOICE_TOOL_CALL_CAPS);
  return true;
}

void ExecutorHarness::push_call(const std::string &call_id, const std::string &name, const std::string &arguments)
{
  EXPECT_EQ(gst_harness_push(h_, tool_call_buffer(call_id, name, arguments)), GST_FLOW_OK);
}

const std::vector<UpstreamEvent> &ExecutorHarness::wait_events(size_t count, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  do {
    while (GstEvent *e = gst_harness_try_pull_upstream_event(h_)) {
      if (GST_EVENT_TYPE(e) == GST_EVENT_CUSTOM_UPSTREAM)
        events_.push_back(parse_upstream_event(e));
      gst_event_unref(e);
    }
    if (events_.size() >= count)
      break;
    g_usleep(2000);
  } while (g_get_monotonic_time() < deadline);
  return events_;
}

const UpstreamEvent *ExecutorHarness::find(const std::string &name, const std::string &needle)
{
  events();
  for (const UpstreamEvent &e : events_) {
    if (e.name != name)
      continue;
    const std::string &hay = name == CLAWVOICE_EVENT_INJECT ? e.text : e.output + " " + e.call_id;
    if (needle.empty() || hay.find(needle) != std::string::npos)
      return &e;
  }
  return nullptr;
}

void ExecutorHarness::drain_bus()
{
  while (GstMessage *m = gst_bus_pop(bus_))
    messages_.push_back(m);
}

std::vector<GstStructure *> ExecutorHarness::messages(const std::string &name)
{
  drain_bus();
  std::vector<GstStructure *> out;
  for (GstMessage *m : messages_) {
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, name.c_str()))
      out.push_back(const_cast<GstStructure *>(s));
  }
  return out;
}

std::vector<std::string> ExecutorHarness::warnings()
{
  drain_bus();
  std::vector<std::string> out;
  for (GstMessage *m : messages_) {
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_WARNING && GST_MESSAGE_TYPE(m) != GST_MESSAGE_ERROR)
      continue;
    GError *error = nullptr;
    gchar *debug = nullptr;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING)
      gst_message_parse_warning(m, &error, &debug);
    else
      gst_message_parse_error(m, &error, &debug);
    out.push_back(std::string(error->message) + " | " + (debug ? debug : ""));
    g_clear_error(&error);
    g_free(debug);
  }
  return out;
}

std::string ExecutorHarness::query_tools()
{
  GstQuery *q = gst_query_new_custom(GST_QUERY_CUSTOM,
      gst_structure_new(CLAWVOICE_QUERY_TOOLS, "tools", G_TYPE_STRING, "[]", nullptr));
  GstPad *sink = gst_element_get_static_pad(element_, "sink");
  gst_pad_query(sink, q);
  gst_object_unref(sink);
  std::string tools = gst_structure_get_string(gst_query_get_structure(q), "tools");
  gst_query_unref(q);
  return tools;
}

void ExecutorHarness::push_eos()
{
  gst_harness_push_event(h_, gst_event_new_eos());
}

}  // namespace clawvoice::test
