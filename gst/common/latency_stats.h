/* clawvoice — a small, thread-safe record of recent latencies (µs) with percentiles, for stats
 * properties and benchmarks. Keeps the most recent samples only (bounded memory). */
#pragma once

#include <glib.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace clawvoice {

class LatencyStats {
 public:
  explicit LatencyStats(size_t capacity = 4096) : capacity_(capacity) { samples_.reserve(capacity); }

  void add(gint64 microseconds)
  {
    std::lock_guard<std::mutex> lock(lock_);
    if (samples_.size() < capacity_) {
      samples_.push_back(microseconds);
    } else {
      samples_[next_] = microseconds;
      next_ = (next_ + 1) % capacity_;
    }
    count_++;
  }

  /* @p in [0, 100]; 0 when there are no samples. */
  gint64 percentile(double p) const
  {
    std::lock_guard<std::mutex> lock(lock_);
    if (samples_.empty())
      return 0;
    std::vector<gint64> sorted(samples_);
    size_t index = std::min(sorted.size() - 1, (size_t) (p / 100.0 * (double) sorted.size()));
    std::nth_element(sorted.begin(), sorted.begin() + (long) index, sorted.end());
    return sorted[index];
  }

  guint64 count() const
  {
    std::lock_guard<std::mutex> lock(lock_);
    return count_;
  }

 private:
  mutable std::mutex lock_;
  size_t capacity_;
  std::vector<gint64> samples_;
  size_t next_ = 0;
  guint64 count_ = 0;
};

}  // namespace clawvoice
