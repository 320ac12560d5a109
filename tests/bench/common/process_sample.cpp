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

}  // namespace clawvoice::bench
