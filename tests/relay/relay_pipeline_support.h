/* clawvoice relay tests — helpers for element and pipeline tests: a calendar bridge server,
 * tool-call buffers, upstream events as values. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <string>
#include <memory>
#include <mutex>
#include <vector>

namespace clawvoice::test {

/* A small calendar bridge on 127.0.0.1:0 implementing the contract httptools' docs use:
 * POST /calendar/find-slots → {"ok":true,"slots":[…]}, /calendar/check-slot → {"ok":true,"free":…},
 * /calendar/create-event → {"ok":true,"event_id":…}. A real SoupServer on its own thread. */
class CalendarServer {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::string query;
    std::string body;
    std::string authorization;
    std::string content_type;
  };
  struct Options {
    std::string bearer;               /* required token ("" = none required) */
    unsigned delay_ms = 0;            /* before answering */
    unsigned fail_status = 0;         /* answer every request with this status */
  };
  explicit CalendarServer(Options options);
  CalendarServer() : CalendarServer(Options{}) {}
  ~CalendarServer();
  std::string url() const;   /* "http://127.0.0.1:<port>" */
  std::vector<Request> requests() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/* Polls @predicate every 10 ms until it holds or @timeout_ms passed. */
bool wait_for(const std::function<bool()> &predicate, guint timeout_ms);

/* A tool-call buffer as realtimesink pushes it. */
GstBuffer *tool_call_buffer(const std::string &call_id, const std::string &name, const std::string &arguments);

/* A clawvoice upstream event seen by a test (tool result or inject), as plain values. */
struct UpstreamEvent {
  std::string name;        /* CLAWVOICE_EVENT_TOOL_RESULT or CLAWVOICE_EVENT_INJECT */
  std::string call_id;     /* tool result */
  std::string output;      /* tool result */
  std::string text;        /* inject */
  std::string role;
  bool urgent = false;
  bool respond = true;
  gint64 at_us = 0;        /* monotonic time it was seen */
};
UpstreamEvent parse_upstream_event(GstEvent *event);

}  // namespace clawvoice::test
