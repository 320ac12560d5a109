#include "config_test_support.h"

#include <gst/gst.h>

#include <mutex>

extern "C" void gst_plugin_clawvoice_register(void);

namespace clawvoice::test {

void init_gstreamer_with_plugin()
{
  static std::once_flag once;
  std::call_once(once, []() {
    gst_init(nullptr, nullptr);
    gst_plugin_clawvoice_register();
  });
}

std::string Parsed::all() const
{
  std::string out;
  for (const launcher::ConfigError &e : errors)
    out += e.to_string() + "\n";
  return out;
}

launcher::ConfigError Parsed::only(const std::string &key) const
{
  std::vector<launcher::ConfigError> matching;
  for (const launcher::ConfigError &e : errors) {
    if (e.key == key)
      matching.push_back(e);
  }
  EXPECT_EQ(matching.size(), 1u) << "errors for '" << key << "' in:\n" << all();
  return matching.empty() ? launcher::ConfigError{} : matching[0];
}

Parsed parse(const std::string &text)
{
  Parsed p;
  p.config = launcher::parse_config(text, "test.jsonc", config_data_dir(), config_data_dir(), &p.errors);
  return p;
}

ScopedEnv::ScopedEnv(const std::string &name, const std::optional<std::string> &value) : name_(name)
{
  if (const char *old = g_getenv(name.c_str()))
    saved_ = old;
  if (value)
    g_setenv(name.c_str(), value->c_str(), TRUE);
  else
    g_unsetenv(name.c_str());
}

ScopedEnv::~ScopedEnv()
{
  if (saved_)
    g_setenv(name_.c_str(), saved_->c_str(), TRUE);
  else
    g_unsetenv(name_.c_str());
}

}  // namespace clawvoice::test
