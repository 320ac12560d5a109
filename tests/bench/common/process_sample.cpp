#include "process_sample.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace clawvoice::bench {

ProcessSample sample_process(GPid pid)
{
  ProcessSample s;
  gchar *stat = nullptr;
  if (g_file_get_contents(("/proc/" + std::to_string(pid) + "/stat").c_str(), &stat, nullptr, nullptr)) {
    /* Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15. */
    const char *p = strrchr(stat, ')');
    if (p) {
      gchar **fields = g_strsplit(p + 2, " ", -1);
      if (g_strv_length(fields) > 13) {
        const double tick = sysconf(_SC_CLK_TCK);
        s.cpu_s = (g_ascii_strtod(fields[11], nullptr) + g_ascii_strtod(fields[12], nullptr)) / tick;
      }
      g_strfreev(fields);
    }
    g_free(stat);
  }
  gchar *status = nullptr;
  if (g_file_get_contents(("/proc/" + std::to_string(pid) + "/status").c_str(), &status, nullptr, nullptr)) {
    gchar **lines = g_strsplit(status, "\n", -1);
    for (gchar **l = lines; *l; l++) {
      if (g_str_has_prefix(*l, "VmRSS:"))
        s.rss_mb = g_ascii_strtod(*l + 6, nullptr) / 1024.0;
      if (g_str_has_prefix(*l, "Threads:"))
        s.threads = atoi(*l + 8);
    }
    g_strfreev(lines);
    g_free(status);
  }
  return s;
}

std::string load_average()
{
  gchar *text = nullptr;
  if (!g_file_get_contents("/proc/loadavg", &text, nullptr, nullptr))
    return "?";
  gchar **parts = g_strsplit(text, " ", 4);
  std::string out = g_strv_length(parts) >= 3 ? std::string(parts[0]) + " " + parts[1] + " " + parts[2] : "?";
  g_strfreev(parts);
  g_free(text);
  return out;
}

double prometheus_value(const std::string &page, const std::string &name)
{
  size_t at = page.find("\n" + name + " ");
  return at == std::string::npos ? -1 : g_ascii_strtod(page.c_str() + at + name.size() + 2, nullptr);
}

PrometheusHistogram prometheus_histogram(const std::string &page, const std::string &name)
{
  PrometheusHistogram h;
  const std::string prefix = "\n" + name + "_bucket{le=\"";
  for (size_t at = page.find(prefix); at != std::string::npos; at = page.find(prefix, at + 1)) {
    const char *le = page.c_str() + at + prefix.size();
    const char *close = strchr(le, '"');
    if (!close || close[1] != '}')
      break;
    const double bound = g_str_has_prefix(le, "+Inf") ? G_MAXDOUBLE : g_ascii_strtod(le, nullptr);
    h.buckets.emplace_back(bound, g_ascii_strtod(close + 2, nullptr));
  }
  return h;
}

PrometheusHistogram PrometheusHistogram::since(const PrometheusHistogram &earlier) const
{
  PrometheusHistogram d = *this;
  for (size_t i = 0; i < d.buckets.size() && i < earlier.buckets.size(); i++)
    d.buckets[i].second -= earlier.buckets[i].second;
  return d;
}

double PrometheusHistogram::percentile(double p) const
{
  const double total = count();
  if (total <= 0)
    return -1;
  const double rank = p / 100.0 * total;
  double below = 0, lower_bound = 0;
  for (const auto &[le, cumulative] : buckets) {
    if (cumulative >= rank) {
      if (le == G_MAXDOUBLE)
        return lower_bound;   /* beyond the last bound: say the last bound */
      const double in_bucket = cumulative - below;
      return lower_bound + (in_bucket > 0 ? (rank - below) / in_bucket : 1.0) * (le - lower_bound);
    }
    below = cumulative;
    lower_bound = le;
  }
  return lower_bound;
}

double PrometheusHistogram::share_at_most(double le) const
{
  for (const auto &[bound, cumulative] : buckets)
    if (bound >= le - 1e-12)
      return count() > 0 ? cumulative / count() : 0;
  return 1;
}

}  // namespace clawvoice::bench
