/* Benchmarks: the command line every launcher benchmark takes, `NAME [--window SECONDS] [N ...]`. */
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace clawvoice::bench {

struct BenchSpec {
  std::string name;                  /* "twilio-bench", for usage and errors */
  double default_window_s = 12;
  double max_window_s = 600;
  std::vector<size_t> default_counts;
  size_t max_calls = 1000;
};

struct BenchArgs {
  double window_s = 0;
  std::vector<size_t> counts;
};

/* Parses argv into *out. Returns -1 to go on, else the exit code (0 after --help, 2 on bad usage,
 * with the message printed). */
int parse_bench_args(int argc, char **argv, const BenchSpec &spec, BenchArgs *out);

}  // namespace clawvoice::bench
