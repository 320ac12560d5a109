/* clawvoice relay tests — an executor element in a GstHarness: tool calls pushed in, the results and
 * injects it sends upstream collected, as realtimesink would see them. */
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>

#include <map>
#include <string>
#include <vector>

#include "relay_pipeline_support.h"

namespace clawvoice::test {

class ExecutorHarness {
 public:
  /* @factory with @properties (set as from a launch line); plays and starts the tool stream. */
  ExecutorHarness(const std::string &factory, const std::map<std::string, std::string> &properties,
      bool start = true);
  ~ExecutorHarness();
  GstElement *element() const { return element_; }
  GstHarness *harness() const { return h_; }
  /* Plays, then stream-start/caps/segment. False if the state change failed. */
  bool start();

  void push_call(const std::string &call_id, const std::string &name, const std::string &arguments);
  /* Collects upstream clawvoice events until @count of them came or @timeout_ms. */
  const std::vector<UpstreamEvent> &wait_events(size_t count, guint timeout_ms = 5000);
  const std::vector<UpstreamEvent> &events() { return wait_events(0, 0); }
  /* The first event named @name for @call_id / whose text holds @needle ("" = any). */
  const UpstreamEvent *find(const std::string &name, const std::string &needle = "");
  /* Messages the element posted on its bus with this structure name (copies), in order. */
  std::vector<GstStructure *> messages(const std::string &name);
  /* Element warnings (messages) posted so far. */
  std::vector<std::string> warnings();
  /* The tools query answer (JSON array text). */
  std::string query_tools();
  void push_eos();

 private:
  void drain_bus();
  GstHarness *h_ = nullptr;
  GstElement *element_ = nullptr;
  GstBus *bus_ = nullptr;
  std::vector<UpstreamEvent> events_;
  std::vector<GstMessage *> messages_;
};

}  // namespace clawvoice::test
