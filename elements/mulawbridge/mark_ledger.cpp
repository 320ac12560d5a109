#include "mulawbridge/mark_ledger.h"

#include <glib.h>

namespace clawvoice::mulawbridge {

std::string MarkLedger::make_name(uint64_t generation, uint64_t end_ns)
{
  return "cv-" + std::to_string(generation) + "-" + std::to_string(end_ns / 1000);
}

bool MarkLedger::parse_name(const std::string &name, uint64_t *generation, uint64_t *end_ns)
{
  if (name.compare(0, 3, "cv-") != 0)
    return false;
  size_t dash = name.find('-', 3);
  if (dash == std::string::npos || dash == 3 || dash + 1 >= name.size())
    return false;
  std::string gen = name.substr(3, dash - 3), end = name.substr(dash + 1);
  if (gen.find_first_not_of("0123456789") != std::string::npos ||
      end.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *generation = g_ascii_strtoull(gen.c_str(), nullptr, 10);
  *end_ns = g_ascii_strtoull(end.c_str(), nullptr, 10) * 1000;
  return true;
}

std::string MarkLedger::add(uint64_t start, uint64_t end)
{
  std::string name = make_name(generation_, end);
  if (outstanding_.size() >= kMaxOutstanding)
    outstanding_.pop_front();
  outstanding_.push_back({name, generation_, start, end});
  sent_++;
  return name;
}

MarkLedger::Echo MarkLedger::echo(const std::string &name)
{
  Echo result;
  size_t index = 0;
  while (index < outstanding_.size() && outstanding_[index].name != name)
    index++;
  if (index == outstanding_.size())
    return result;
  result.known = true;
  for (size_t i = 0; i <= index; i++) {
    const Mark &mark = outstanding_.front();
    bool heard = mark.generation == generation_;
    if (heard) {
      heard_++;
      heard_ns_ += mark.end - mark.start;
      if (!has_heard_ || mark.end > heard_end_)
        heard_end_ = mark.end;
      has_heard_ = true;
    } else {
      released_++;
    }
    if (i == index) {
      result.heard = heard;
      result.end = mark.end;
    }
    outstanding_.pop_front();
  }
  return result;
}

}  // namespace clawvoice::mulawbridge
