/* clawvoice tests — shared support for element and pipeline tests. */
#pragma once

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "realtime_simulator.h"

namespace clawvoice::test {

/* Initialises GStreamer once and registers the clawvoice plugin (statically) and the test elements. */
void init_gstreamer();

/* Path of a file in tests/data. */
std::string data_path(const std::string &name);

/* A pipeline built from a launch line, with its bus watched by the test. */
class Pipeline {
 public:
  explicit Pipeline(const std::string &launch);
  ~Pipeline();   /* sets NULL and checks it got there */
  GstElement *get() const { return pipeline_; }
  GstElement *by_name(const std::string &name) const;   /* borrowed */
  GstStateChangeReturn play();

  /* Runs until EOS, ERROR or @timeout_ms; returns the message type that ended it (or 0 on timeout). */
  GstMessageType run(guint timeout_ms);
  /* Runs until @predicate(collected messages) is true or @timeout_ms; returns whether it became true. */
  bool run_until(const std::function<bool()> &predicate, guint timeout_ms);

  /* Every message seen so far (owned copies). */
  const std::vector<GstMessage *> &messages() const { return messages_; }
  /* Element messages with this structure name, in order. */
  std::vector<const GstStructure *> element_messages(const std::string &name) const;
  std::string first_error() const;   /* "" if none */
  std::vector<std::string> warnings() const;

 private:
  void drain_bus(guint timeout_ms);
  GstElement *pipeline_ = nullptr;
  std::vector<GstMessage *> messages_;
};

/* A simulator on 127.0.0.1:0 with a test's options. */
std::unique_ptr<sim::RealtimeSimulator> start_simulator(sim::Options options = {});

/* Registers the test executor elements:
 *  - "testexecutor": serves the tool named by its `tool-name` property (default send_to_openclaw);
 *    answers every call after `delay-ms` with `{"result": <reply property>}`; counts calls. */
void register_test_elements();

/* Whether @element's src pad has a task (elements that push from a network thread have none). */
bool src_has_task(GstElement *element);

/* The names of the threads that push buffers through @pad (a probe; the network threads are
 * "clawvoice-net…"). Keep it alive as long as the pad. */
struct PushingThreads {
  std::mutex lock;
  std::set<std::string> names;
  void watch(GstPad *pad);
};

}  // namespace clawvoice::test
