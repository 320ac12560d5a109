#include "playout_buffer.h"

#include <algorithm>

namespace clawvoice::test::twilio_emu {

bool PlayoutBuffer::push_audio(const guint8 *data, size_t len, gint64 now_us)
{
  if (buffered_bytes() + len > kMaxBufferedBytes)
    return false;
  if (len == 0)
    return true;
  if (dry_since_us_ >= 0) {
    gint64 gap = now_us - dry_since_us_;
    if (gap <= underrun_max_gap_us_)
      underruns_.push_back({dry_since_us_, gap, last_audio_us_});
    dry_since_us_ = -1;
  }
  if (dry_at_mark_since_us_ >= 0) {
    gint64 gap = now_us - dry_at_mark_since_us_;
    if (gap <= kShortPauseUs)
      gaps_at_marks_.push_back({dry_at_mark_since_us_, gap, last_audio_us_});
    dry_at_mark_since_us_ = -1;
  }
  chunks_.emplace_back(data, data + len);
  last_audio_us_ = now_us;
  enqueued_total_ += len;
  max_buffered_ = std::max(max_buffered_, buffered_bytes());
  return true;
}

bool PlayoutBuffer::push_mark(std::string name, gint64 now_us, MarkEcho *echo)
{
  dry_since_us_ = dry_at_mark_since_us_ = -1;   /* the audio before it was a whole segment */
  if (marks_.empty() && buffered_bytes() == 0 && now_us >= playing_until_us_) {
    *echo = MarkEcho{std::move(name), true, now_us};
    return true;
  }
  marks_.push_back({enqueued_total_, std::move(name), now_us});
  return false;
}

PlayoutBuffer::Cleared PlayoutBuffer::clear(gint64 now_us)
{
  Cleared cleared;
  cleared.dropped_bytes = buffered_bytes();
  for (auto &mark : marks_)
    cleared.released.push_back({std::move(mark.name), false, mark.received_us});
  marks_.clear();
  chunks_.clear();
  front_offset_ = 0;
  enqueued_total_ = played_total_;
  playing_until_us_ = now_us;   /* Twilio stops the frame that was playing */
  last_tick_played_ = false;
  dry_since_us_ = dry_at_mark_since_us_ = -1;
  return cleared;
}

void PlayoutBuffer::tick(gint64 deadline_us, Tick *out)
{
  out->echoed.clear();
  out->frame.clear();

  /* Everything started before this tick has finished playing now. */
  while (!marks_.empty() && marks_.front().position <= played_total_) {
    auto &mark = marks_.front();
    out->echoed.push_back({std::move(mark.name), true, mark.received_us});
    marks_.pop_front();
  }

  while (out->frame.size() < kFrameBytes && !chunks_.empty()) {
    const auto &chunk = chunks_.front();
    size_t take = std::min<size_t>(kFrameBytes - out->frame.size(), chunk.size() - front_offset_);
    out->frame.insert(out->frame.end(), chunk.begin() + front_offset_,
                      chunk.begin() + front_offset_ + take);
    front_offset_ += take;
    if (front_offset_ == chunk.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }

  if (!out->frame.empty()) {
    played_total_ += out->frame.size();
    playing_until_us_ = deadline_us + kFrameUs;
    if (out->frame.size() < kFrameBytes)
      short_frames_++;
  } else if (last_tick_played_ && out->echoed.empty()) {
    dry_since_us_ = deadline_us;
  } else if (last_tick_played_) {
    dry_at_mark_since_us_ = deadline_us;
  }
  last_tick_played_ = !out->frame.empty();
}

}  // namespace clawvoice::test::twilio_emu
