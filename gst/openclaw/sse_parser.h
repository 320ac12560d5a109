/* clawvoice — an incremental parser of Server-Sent Events (text/event-stream), as the WHATWG HTML
 * spec describes them (§9.2.6 "Interpreting an event stream").
 *
 * Bytes arrive in arbitrary pieces from the socket; feed() takes each piece as it comes and reports
 * every complete event. Lines end in CRLF, LF or CR (a CR at the end of one piece and an LF at the
 * start of the next are one line end); `data:` lines of one event are joined with "\n"; a blank line
 * dispatches the event; lines starting with ':' are comments; a leading BOM is skipped; an event that
 * is still open when the stream ends is discarded, as the spec says. */
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace clawvoice::openclaw {

struct SseEvent {
  std::string type = "message";   /* the `event:` field, "message" when absent */
  std::string data;               /* the `data:` lines joined with "\n" */
  std::string id;                 /* the last event id seen (persists across events, per spec) */
};

class SseParser {
 public:
  using EventHandler = std::function<void(const SseEvent &event)>;

  /* A line longer than @max_line_bytes is a broken stream (feed() returns false), so a server that
   * never sends a line end cannot make us buffer without bound. */
  explicit SseParser(size_t max_line_bytes = 1024 * 1024) : max_line_(max_line_bytes) {}

  /* Parses @bytes and calls @on_event for each event they complete, in order. Returns false when
   * the stream is broken (overlong line); the parser then ignores further input. @on_event may stop
   * the parse early by calling stop(). */
  bool feed(std::string_view bytes, const EventHandler &on_event);
  /* Stops the feed() in progress after the current event (e.g. after `[DONE]`). */
  void stop() { stopped_ = true; }

  /* Events dispatched so far, and whether an event is half-way through (data seen, no blank line). */
  size_t events() const { return events_; }
  bool in_event() const { return !line_.empty() || has_data_ || has_fields_; }
  const std::string &error() const { return error_; }

 private:
  void process_line(const EventHandler &on_event);

  size_t max_line_;
  std::string line_;          /* the line being read */
  std::string data_;          /* the data buffer of the current event */
  std::string type_;          /* the event type buffer */
  std::string last_id_;
  bool has_data_ = false;
  bool has_fields_ = false;
  bool skip_lf_ = false;      /* the previous piece ended with CR: an LF first in this one is its pair */
  bool at_start_ = true;      /* for the BOM */
  bool stopped_ = false;
  bool broken_ = false;
  size_t events_ = 0;
  std::string error_;
};

}  // namespace clawvoice::openclaw
