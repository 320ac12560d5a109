/* clawvoice tests — helpers for the launcher config tests. */
#pragma once

#include <glib.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "config.h"

namespace clawvoice::test {

/* Where the tests' launch files live (tests/launcher/config/data) and the repository root. */
inline std::string config_data_dir() { return CLAWVOICE_CONFIG_TEST_DATA_DIR; }
inline std::string source_root() { return CLAWVOICE_SOURCE_ROOT; }

/* gst_init() and the clawvoice plugin registered statically, once per process. */
void init_gstreamer_with_plugin();

/* parse_config() of `text` as the file "test.jsonc" in the data directory. */
struct Parsed {
  std::optional<launcher::Config> config;
  std::vector<launcher::ConfigError> errors;
  /* All errors, one to_string() per line, for failure messages. */
  std::string all() const;
  /* The one error for `key` (fails the test when there is not exactly one). */
  launcher::ConfigError only(const std::string &key) const;
};
Parsed parse(const std::string &text);

/* Sets an environment variable for the lifetime of the object, then restores it. */
class ScopedEnv {
 public:
  ScopedEnv(const std::string &name, const std::optional<std::string> &value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv &) = delete;
  ScopedEnv &operator=(const ScopedEnv &) = delete;

 private:
  std::string name_;
  std::optional<std::string> saved_;
};

}  // namespace clawvoice::test
