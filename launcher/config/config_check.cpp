/* clawvoice — the deep check behind `clawvoice-launcher --check`: build every enabled route's
 * pipeline and apply its properties, as a call would, without running anything. */
#include <gst/gst.h>

#include <set>

#include "config.h"
#include "config_values.h"

namespace clawvoice::launcher {

namespace {

/* What placeholders become for the check: the shapes a real call has. A missing custom parameter
 * becomes "0", which every numeric, boolean and string property accepts. */
CallInfo sample_call(const std::string &route)
{
  CallInfo call;
  call.id = "CA00000000000000000000000000000000";
  call.caller = "+15550100000";
  call.route = route;
  return call;
}

class Checker {
 public:
  Checker(const Config &config, std::vector<ConfigError> *errors) : config_(config), errors_(errors) {}

  bool run()
  {
    size_t before = errors_->size();
    for (const auto &[name, route] : config_.routes) {
      if (route.enabled)
        check_route(route);
    }
    return errors_->size() == before;
  }

 private:
  void error(const std::string &key, const std::string &message)
  {
    /* The line of the key, or of the nearest enclosing key the file has. */
    int line = 0;
    for (std::string k = key; !k.empty() && line == 0;) {
      auto it = config_.key_lines.find(k);
      if (it != config_.key_lines.end())
        line = it->second;
      size_t dot = k.rfind('.');
      k = dot == std::string::npos ? "" : k.substr(0, dot);
    }
    errors_->push_back(ConfigError{config_.source, key, line, message});
  }

  /* Where a property of this route was configured: the route's own section wins. */
  std::string key_of(const RouteConfig &route, const std::string &element, const std::string &property = "")
  {
    auto e = route.properties.find(element);
    bool own = e != route.properties.end() && (property.empty() || e->second.count(property));
    std::string key = own ? "routes." + route.name + ".properties." + element : "properties." + element;
    return property.empty() ? key : key + "." + property;
  }

  void check_route(const RouteConfig &route)
  {
    std::string launch_key = "routes." + route.name + ".launch";
    if (!g_file_test(route.launch_path.c_str(), G_FILE_TEST_EXISTS)) {
      error(launch_key, "launch file " + route.launch_path + " does not exist");
      return;
    }
    if (!g_file_test(route.launch_path.c_str(), G_FILE_TEST_IS_REGULAR)) {
      error(launch_key, route.launch_path + " is not a file");
      return;
    }
    std::string why;
    GstElement *pipeline = load_launch_file(route.launch_path, {}, &why);
    if (!pipeline) {
      error(launch_key, why);
      return;
    }
    CallInfo call = sample_call(route.name);
    for (const auto &[element_name, props] : config_.properties_for(route.name)) {
      GstElement *element = gst_bin_get_by_name(GST_BIN(pipeline), element_name.c_str());
      if (!element) {
        error(key_of(route, element_name), "no element named '" + element_name + "' in " + route.launch_path +
              " (route " + route.name + ")");
        continue;
      }
      gst_object_unref(element);
      for (const auto &[property, value] : props) {
        PropertyOverride o{element_name, property, expand_call_placeholders(value, call, "0")};
        if (apply_property_overrides(GST_BIN(pipeline), {o}, &why))
          continue;
        /* The launch-file helper quotes the value; a secret must not reach a log that way. */
        if (is_secret_property_name(property) && why.find(o.value) != std::string::npos)
          why = "the value is not valid for " + element_name + "." + property;
        error(key_of(route, element_name, property), why + " (route " + route.name + ")");
      }
    }
    gst_object_unref(pipeline);
  }

  const Config &config_;
  std::vector<ConfigError> *errors_;
};

}  // namespace

bool check_config(const Config &config, std::vector<ConfigError> *errors)
{
  return Checker(config, errors).run();
}

int run_config_check(const std::string &path, const std::string &builtin_pipelines_dir, std::ostream &out,
                     std::ostream &err)
{
  std::vector<ConfigError> errors;
  std::optional<Config> config =
    path.empty() ? default_config(builtin_pipelines_dir) : load_config(path, builtin_pipelines_dir, &errors);
  if (config)
    check_config(*config, &errors);
  if (!errors.empty()) {
    for (const ConfigError &e : errors)
      err << e.to_string() << "\n";
    return 1;
  }
  out << "config OK\n";
  return 0;
}

}  // namespace clawvoice::launcher
