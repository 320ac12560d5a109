/* Benchmarks: what a process costs, read from /proc (the launcher under load, or the bench itself). */
#pragma once

#include <glib.h>

#include <string>

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

}  // namespace clawvoice::bench
