#include "bench_args.h"

#include <glib.h>

#include <cstdio>
#include <cstdlib>

namespace clawvoice::bench {

int parse_bench_args(int argc, char **argv, const BenchSpec &spec, BenchArgs *out)
{
  out->window_s = spec.default_window_s;
  out->counts.clear();
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::string counts;
      for (size_t n : spec.default_counts)
        counts += (counts.empty() ? "" : " ") + std::to_string(n);
      std::printf("usage: %s [--window SECONDS] [N ...]   (default N: %s)\n", spec.name.c_str(), counts.c_str());
      return 0;
    }
    if (arg == "--window" && i + 1 < argc) {
      out->window_s = g_ascii_strtod(argv[++i], nullptr);
      continue;
    }
    long n = strtol(arg.c_str(), nullptr, 10);
    if (n < 1 || static_cast<size_t>(n) > spec.max_calls) {
      std::fprintf(stderr, "%s: bad call count '%s'\n", spec.name.c_str(), arg.c_str());
      return 2;
    }
    out->counts.push_back(static_cast<size_t>(n));
  }
  if (out->counts.empty())
    out->counts = spec.default_counts;
  if (out->window_s < 2 || out->window_s > spec.max_window_s) {
    std::fprintf(stderr, "%s: --window must be 2…%.0f s\n", spec.name.c_str(), spec.max_window_s);
    return 2;
  }
  return -1;
}

}  // namespace clawvoice::bench
