/* clawvoice-launcher — the numbers behind GET /metrics (Prometheus text exposition format 0.0.4).
 *
 * Counters only go up; gauges are read from the call manager when the page is rendered; histograms
 * have fixed buckets chosen for conversation (tens of ms to seconds). Thread-safe. */
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace clawvoice::launcher {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double value);
  /* Adds counts already bucketed with the same bounds (@counts: one per bucket, +Inf last). */
  void add_counts(const std::vector<unsigned long long> &counts, double sum);
  /* Appends `name_bucket{le=…}`, `name_sum`, `name_count` lines. */
  void render(const std::string &name, std::string *out) const;

 private:
  std::vector<double> bounds_;
  std::vector<unsigned long long> counts_;   /* per bucket (not cumulative); last = +Inf */
  double sum_ = 0.0;
  unsigned long long count_ = 0;
};

/* What a finished or running call adds to the totals. */
struct CallCounters {
  unsigned long long audio_frames_in = 0;     /* caller audio buffers into realtimesink */
  unsigned long long audio_frames_out = 0;    /* 20 ms periods of reply audio out of it */
  unsigned long long audio_frames_dropped = 0;
  double cost_usd = 0.0;
  /* realtimesink's inbound delay histogram (see clawvoice-contract.h), and the sum in seconds. */
  std::vector<unsigned long long> input_delay_counts;
  double input_delay_sum_s = 0.0;

  CallCounters &operator+=(const CallCounters &o);
};

class Metrics {
 public:
  Metrics();
  void call_started(const std::string &route);
  void call_refused(const std::string &route, const std::string &reason);
  void call_ended(const std::string &route, const std::string &state, const CallCounters &totals);
  void webhook(const std::string &route, int status);
  void observe_setup_seconds(double seconds);       /* stream accepted → pipeline playing */
  void observe_response_seconds(double seconds);    /* caller stopped speaking → reply started */

  /* The whole page; `live` are the running calls' counters, `by_state` the current call counts. */
  std::string render(const std::map<std::string, int> &by_state, const CallCounters &live) const;

 private:
  mutable std::mutex lock_;
  std::map<std::string, unsigned long long> started_;                         /* route */
  std::map<std::pair<std::string, std::string>, unsigned long long> refused_; /* route, reason */
  std::map<std::pair<std::string, std::string>, unsigned long long> ended_;   /* route, state */
  std::map<std::pair<std::string, int>, unsigned long long> webhooks_;        /* route, status */
  CallCounters finished_;
  Histogram setup_;
  Histogram response_;
};

}  // namespace clawvoice::launcher
