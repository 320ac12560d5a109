#include "openclaw/sse_parser.h"

#include <cstring>

namespace clawvoice::openclaw {

static const char kBom[] = "\xEF\xBB\xBF";

bool SseParser::feed(std::string_view bytes, const EventHandler &on_event)
{
  if (broken_)
    return false;
  stopped_ = false;
  size_t pos = 0;
  while (pos < bytes.size() && !stopped_) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        pos++;
        continue;
      }
    }
    size_t end = bytes.find_first_of("\r\n", pos);
    size_t stop = end == std::string_view::npos ? bytes.size() : end;
    line_.append(bytes.data() + pos, stop - pos);
    if (at_start_ && (line_.size() >= 3 || end != std::string_view::npos)) {
      /* The stream may begin with a UTF-8 BOM, which is not part of the first line. */
      if (line_.compare(0, 3, kBom) == 0)
        line_.erase(0, 3);
      at_start_ = false;
    }
    if (line_.size() > max_line_) {
      broken_ = true;
      error_ = "event stream line longer than " + std::to_string(max_line_) + " bytes";
      return false;
    }
    if (end == std::string_view::npos)
      break;
    skip_lf_ = bytes[end] == '\r';
    pos = end + 1;
    process_line(on_event);
    line_.clear();
  }
  return true;
}

void SseParser::process_line(const EventHandler &on_event)
{
  if (line_.empty()) {
    /* Dispatch: an event with no data is not dispatched, but its type buffer is reset. */
    if (has_data_) {
      SseEvent event;
      if (!type_.empty())
        event.type = type_;
      event.data = std::move(data_);
      if (!event.data.empty() && event.data.back() == '\n')
        event.data.pop_back();
      event.id = last_id_;
      events_++;
      data_.clear();
      type_.clear();
      has_data_ = false;
      has_fields_ = false;
      on_event(event);
    } else {
      type_.clear();
      has_fields_ = false;
    }
    return;
  }
  if (line_[0] == ':')
    return;   /* comment (servers use them as keep-alives) */

  std::string_view line(line_);
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value.data(), value.size());
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value.data(), value.size());
    has_fields_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      last_id_.assign(value.data(), value.size());
    has_fields_ = true;
  }
  /* "retry" and unknown fields are ignored: we do not reconnect an answer stream. */
}

}  // namespace clawvoice::openclaw
