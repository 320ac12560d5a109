#include "realtimesink/playout_queue.h"

#include <algorithm>
#include <cstring>

namespace clawvoice {

namespace {
constexpr size_t kMaxSpans = 3000;     /* 60 s of 20 ms periods */
constexpr size_t kMaxItemsKept = 64;   /* per-item bookkeeping kept for the most recent items */
constexpr uint64_t kNsPerMs = 1000000;
}  // namespace

void PlayoutQueue::configure(unsigned bytes_per_ms, unsigned period_ms, uint8_t silence_byte)
{
  bytes_per_ms_ = bytes_per_ms;
  period_ms_ = period_ms;
  silence_byte_ = silence_byte;
}

void PlayoutQueue::push(const std::string &item_id, const uint8_t *data, size_t size)
{
  if (size == 0)
    return;
  int64_t &received = received_bytes_[item_id];
  chunks_.push_back(Chunk{item_id, std::vector<uint8_t>(data, data + size), 0, received});
  received += (int64_t) size;
  queued_ += size;
  if (received_bytes_.size() > kMaxItemsKept) {
    /* Forget the oldest items' sizes; only recent items can still be truncated. */
    received_bytes_.erase(received_bytes_.begin());
  }
}

void PlayoutQueue::finish_item(const std::string &item_id)
{
  finished_[item_id] = true;
  if (finished_.size() > kMaxItemsKept)
    finished_.erase(finished_.begin());
}

bool PlayoutQueue::pop(Period *period)
{
  const size_t want = period_bytes();
  if (queued_ == 0)
    return false;
  if (queued_ < want) {
    /* Hold a partial period back unless its item is complete: more of it is on the way. */
    const std::string &last_item = chunks_.back().item_id;
    auto it = finished_.find(last_item);
    if (it == finished_.end() || !it->second)
      return false;
  }
  period->audio.assign(want, silence_byte_);
  period->item_id = chunks_.front().item_id;
  period->item_offset_ms =
      (chunks_.front().item_start_byte + (int64_t) chunks_.front().offset) / bytes_per_ms_;
  size_t filled = 0;
  while (filled < want && !chunks_.empty()) {
    Chunk &chunk = chunks_.front();
    size_t n = std::min(want - filled, chunk.data.size() - chunk.offset);
    std::memcpy(period->audio.data() + filled, chunk.data.data() + chunk.offset, n);
    chunk.offset += n;
    filled += n;
    queued_ -= n;
    if (chunk.offset == chunk.data.size())
      chunks_.pop_front();
  }
  return true;
}

void PlayoutQueue::record_output(const Period &period, uint64_t timestamp, uint64_t duration)
{
  spans_.push_back(Span{period.item_id, timestamp, duration, period.item_offset_ms});
  if (spans_.size() > kMaxSpans)
    spans_.pop_front();
}

int64_t PlayoutQueue::clear()
{
  int64_t dropped = (int64_t) (queued_ / bytes_per_ms_);
  chunks_.clear();
  queued_ = 0;
  return dropped;
}

int64_t PlayoutQueue::received_ms(const std::string &item_id) const
{
  auto it = received_bytes_.find(item_id);
  return it == received_bytes_.end() ? 0 : it->second / bytes_per_ms_;
}

int64_t PlayoutQueue::heard_ms(const std::string &item_id, uint64_t position) const
{
  int64_t heard = 0;
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->item_id != item_id || it->timestamp >= position)
      continue;
    /* The latest span of the item that had started playing by @position. */
    uint64_t into = std::min(position - it->timestamp, it->duration);
    heard = it->item_offset_ms + (int64_t) (into / kNsPerMs);
    break;
  }
  return std::min(heard, received_ms(item_id));
}

uint64_t PlayoutQueue::output_end(const std::string &item_id) const
{
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (it->item_id == item_id)
      return it->timestamp + it->duration;
  }
  return 0;
}

void PlayoutQueue::reset()
{
  chunks_.clear();
  queued_ = 0;
  received_bytes_.clear();
  finished_.clear();
  spans_.clear();
}

}  // namespace clawvoice
