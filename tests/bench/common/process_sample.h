/* Benchmarks: what a process costs, read from /proc (the launcher under load, or the bench itself). */
#pragma once

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace clawvoice::bench {

struct ProcessSample {
  double cpu_s = 0;    /* utime + stime, seconds */
  double rss_mb = 0;   /* VmRSS */
  int threads = 0;
};

/* Zeroes for what could not be read (the process is gone, say). */
ProcessSample sample_process(GPid pid);

/* The 1-, 5- and 15-minute load averages, as /proc/loadavg has them: benchmarks print it beside
 * their figures, since a loaded machine makes them meaningless. */
std::string load_average();

/* The value of an unlabelled sample `name` in a Prometheus text page; -1 if absent. */
double prometheus_value(const std::string &page, const std::string &name);

/* A Prometheus histogram read from a page: cumulative counts by upper bound (+Inf last). */
struct PrometheusHistogram {
  std::vector<std::pair<double, double>> buckets;   /* (le, cumulative count) */
  double count() const { return buckets.empty() ? 0 : buckets.back().second; }
  /* What was observed between @earlier and this one. */
  PrometheusHistogram since(const PrometheusHistogram &earlier) const;
  /* The @p-th percentile (0-100), interpolated inside its bucket; -1 when empty. */
  double percentile(double p) const;
  /* The share of observations at or under @le (one of the bounds). */
  double share_at_most(double le) const;
};
PrometheusHistogram prometheus_histogram(const std::string &page, const std::string &name);

}  // namespace clawvoice::bench
