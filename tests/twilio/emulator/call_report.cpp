#include "call_report.h"

#include <algorithm>
#include <cmath>

namespace clawvoice::test::twilio_emu {

const char *call_state_name(CallState state)
{
  switch (state) {
    case CallState::Idle: return "idle";
    case CallState::Connecting: return "connecting";
    case CallState::Streaming: return "streaming";
    case CallState::Closed: return "closed";
    case CallState::Failed: return "failed";
  }
  return "?";
}

guint64 CallReport::marks_played() const
{
  return std::count_if(marks.begin(), marks.end(), [](const EchoedMark &m) { return m.played; });
}

guint64 CallReport::marks_cleared() const
{
  return marks.size() - marks_played();
}

bool CallReport::has_violation(int code) const
{
  return std::any_of(violations.begin(), violations.end(),
                     [code](const Violation &v) { return v.code == code; });
}

std::string CallReport::describe_violations() const
{
  std::string out;
  for (const auto &v : violations)
    out += (out.empty() ? "" : "; ") + std::to_string(v.code) + ": " + v.detail;
  return out;
}

std::string CallReport::describe_underruns() const
{
  const gint64 first_played = played_frames.empty() ? 0 : played_frames.front().time_us;
  std::string out;
  for (const auto &u : underruns)
    out += (out.empty() ? "" : "; ") + std::string("dry ") +
           std::to_string((u.dry_at_us - first_played) / 1000) + " ms into the played audio for " +
           std::to_string(u.gap_us / 1000) + " ms";
  return out;
}

Percentiles percentiles(std::vector<double> values)
{
  Percentiles p;
  p.count = values.size();
  if (values.empty())
    return p;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    size_t index = static_cast<size_t>(std::ceil(q * values.size())) - 1;
    return values[std::min(index, values.size() - 1)];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = values.back();
  return p;
}

Percentiles send_lateness_ms(const CallReport &report)
{
  std::vector<double> late;
  late.reserve(report.sent_media.size());
  for (const auto &f : report.sent_media)
    late.push_back((f.sent_us - f.due_us) / 1000.0);
  return percentiles(std::move(late));
}

Percentiles arrival_jitter_ms(const CallReport &report, size_t skip)
{
  std::vector<double> jitter;
  const auto &rx = report.received_media;
  for (size_t i = std::max<size_t>(skip, 1); i < rx.size(); i++) {
    if (rx[i].bytes != 160 || rx[i - 1].bytes != 160)
      continue;
    jitter.push_back(std::fabs((rx[i].time_us - rx[i - 1].time_us) / 1000.0 - 20.0));
  }
  return percentiles(std::move(jitter));
}

std::vector<guint8> heard_timeline(const CallReport &report)
{
  std::vector<guint8> out;
  if (report.played_frames.empty())
    return out;
  const gint64 origin = report.start_sent_us ? report.start_sent_us : report.played_frames[0].time_us;
  for (const auto &f : report.played_frames) {
    size_t slot = static_cast<size_t>(std::max<gint64>(0, f.time_us - origin) / 20000) * 160;
    if (out.size() < slot)
      out.resize(slot, 0xFF);
    out.insert(out.end(), report.played_audio.begin() + f.offset,
               report.played_audio.begin() + f.offset + f.bytes);
  }
  return out;
}

}  // namespace clawvoice::test::twilio_emu
