/* clawvoice — the config file into a Config: the schema walk, with every error collected. */
#include <gio/gio.h>
#include <glib.h>

#include <algorithm>

#include "call_placeholders.h"
#include "config.h"
#include "config_values.h"
#include "env_expand.h"
#include "jsonc.h"
#include "known_routes.h"
#include "openai/webhook_signature.h"
#include "openclaw/gateway_client.h"

namespace clawvoice::launcher {

namespace {

using Kind = JsoncValue::Kind;

constexpr size_t kControlTokenMinLength = 16;

std::string join(const std::string &path, const std::string &key)
{
  return path.empty() ? key : path + "." + key;
}

std::string quoted_list(const std::vector<std::string> &names)
{
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

/* Letters, digits, '-' and '_': what an element or property name can be in a launch line
 * (the same rule as parse_property_override()). */
bool is_identifier(const std::string &s)
{
  if (s.empty())
    return false;
  for (char c : s) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_')
      return false;
  }
  return true;
}

/* `path` made absolute against `base_dir`, with "." and ".." resolved. */
std::string absolute_path(const std::string &path, const std::string &base_dir)
{
  gchar *abs = g_canonicalize_filename(path.c_str(), base_dir.empty() ? nullptr : base_dir.c_str());
  std::string out = abs;
  g_free(abs);
  return out;
}

class ConfigParser {
 public:
  ConfigParser(const std::string &origin, const std::string &base_dir, std::vector<ConfigError> *errors)
    : origin_(origin), base_dir_(absolute_path(base_dir.empty() ? "." : base_dir, "")), errors_(errors)
  {
  }

  std::optional<Config> parse(const std::string &text, const std::string &builtin_pipelines_dir)
  {
    JsoncSyntaxError syntax;
    std::optional<JsoncValue> root = parse_jsonc(text, &syntax);
    if (!root) {
      error(syntax.line, "", "column " + std::to_string(syntax.column) + ": " + syntax.message);
      return std::nullopt;
    }
    if (root->kind != Kind::Object) {
      error(root->line, "", std::string("the config must be a JSON object, not ") + jsonc_kind_name(root->kind));
      return std::nullopt;
    }

    Config config;
    config.source = origin_;
    config_ = &config;
    config.pipelines_dir = absolute_path(builtin_pipelines_dir, "");

    check_keys(*root, "", {"server", "calls", "log", "pipelines_dir", "realtime", "openclaw", "simulator", "properties",
                           "routes"});
    if (const JsoncValue *v = member(*root, "", "server", Kind::Object))
      parse_server(*v, "server");
    if (const JsoncValue *v = member(*root, "", "calls", Kind::Object))
      parse_calls(*v, "calls");
    if (const JsoncValue *v = member(*root, "", "log", Kind::Object))
      parse_log(*v, "log");
    std::string dir;
    if (read_string(*root, "", "pipelines_dir", &dir)) {
      if (dir.empty())
        error(line_of("pipelines_dir"), "pipelines_dir", "must not be empty");
      else
        config.pipelines_dir = absolute_path(dir, base_dir_);
    }
    const JsoncValue *realtime = member(*root, "", "realtime", Kind::Object);
    parse_realtime(realtime, "realtime");
    parse_openclaw(member(*root, "", "openclaw", Kind::Object), "openclaw");
    if (const JsoncValue *v = member(*root, "", "simulator", Kind::Object))
      parse_simulator(*v, "simulator");
    if (const JsoncValue *v = member(*root, "", "properties", Kind::Object))
      parse_properties(*v, "properties", &config.properties);
    parse_routes(member(*root, "", "routes", Kind::Object), "routes");

    if (config.public_url_derived)
      config.public_url = derive_public_url(config.listen);

    config_ = nullptr;
    if (failed_) {
      /* In file order: a person fixes them top to bottom. */
      std::stable_sort(errors_->begin() + first_error_, errors_->end(),
                       [](const ConfigError &a, const ConfigError &b) { return a.line < b.line; });
      return std::nullopt;
    }
    return config;
  }

 private:
  void error(int line, const std::string &key, const std::string &message)
  {
    if (!failed_)
      first_error_ = errors_->size();
    errors_->push_back(ConfigError{origin_, key, line, message});
    failed_ = true;
  }

  int line_of(const std::string &path) const
  {
    auto it = config_->key_lines.find(path);
    return it == config_->key_lines.end() ? 0 : it->second;
  }

  /* Records every member's line; a key not in `allowed` is an error naming the ones that are. */
  void check_keys(const JsoncValue &object, const std::string &path, const std::vector<std::string> &allowed)
  {
    for (const JsoncMember &m : object.members) {
      std::string key = join(path, m.key);
      config_->key_lines[key] = m.line;
      if (std::find(allowed.begin(), allowed.end(), m.key) == allowed.end())
        error(m.line, key, "unknown key; " + std::string(path.empty() ? "top-level keys" : "keys in " + path) +
                           " are: " + quoted_list(allowed));
    }
  }

  /* `object.key` when present and of `kind`; a value of another type is an error. */
  const JsoncValue *member(const JsoncValue &object, const std::string &path, const char *key, Kind kind)
  {
    const JsoncValue *v = object.find(key);
    if (v && v->kind != kind) {
      std::string full = join(path, key);
      error(line_of(full), full,
            std::string("expected ") + jsonc_kind_name(kind) + ", got " + jsonc_kind_name(v->kind));
      return nullptr;
    }
    return v;
  }

  /* A string member with ${ENV} expanded; false when absent or in error (reported). */
  bool read_string(const JsoncValue &object, const std::string &path, const char *key, std::string *out)
  {
    const JsoncValue *v = member(object, path, key, Kind::String);
    return v && expand(*v, join(path, key), out);
  }

  bool expand(const JsoncValue &v, const std::string &key, std::string *out)
  {
    std::string why;
    if (!expand_env(v.text, out, &why)) {
      error(v.line, key, why);
      return false;
    }
    return true;
  }

  bool read_bool(const JsoncValue &object, const std::string &path, const char *key, bool *out)
  {
    const JsoncValue *v = member(object, path, key, Kind::Bool);
    if (v)
      *out = v->boolean;
    return v != nullptr;
  }

  bool read_uint(const JsoncValue &object, const std::string &path, const char *key, guint min, guint max,
                 guint *out)
  {
    const JsoncValue *v = member(object, path, key, Kind::Number);
    if (!v)
      return false;
    std::string full = join(path, key);
    if (v->text.find_first_of(".eE") != std::string::npos) {
      error(v->line, full, "must be a whole number, not " + v->text);
      return false;
    }
    gint64 number = 0;
    if (!g_ascii_string_to_signed(v->text.c_str(), 10, min, max, &number, nullptr)) {
      error(v->line, full, "must be from " + std::to_string(min) + " to " + std::to_string(max) + ", not " + v->text);
      return false;
    }
    *out = (guint) number;
    return true;
  }

  void read_listen(const JsoncValue &object, const std::string &path, ListenAddress *out)
  {
    std::string text, why;
    if (read_string(object, path, "listen", &text) && !parse_listen_address(text, out, &why))
      error(line_of(join(path, "listen")), join(path, "listen"), why);
  }

  /* A secret-bearing string: checked, never echoed. */
  void read_token(const JsoncValue &object, const std::string &path, const char *key, size_t min_length,
                  std::string *out)
  {
    std::string text, why;
    if (!read_string(object, path, key, &text))
      return;
    if (!text.empty() && !check_token(text, min_length, &why)) {
      error(line_of(join(path, key)), join(path, key), why);
      return;
    }
    *out = text;
  }

  void parse_server(const JsoncValue &v, const std::string &path)
  {
    check_keys(v, path, {"listen", "public_url", "control_token"});
    read_listen(v, path, &config_->listen);
    std::string url, why;
    if (read_string(v, path, "public_url", &url)) {
      if (!check_base_url(url, &config_->public_url, &why))
        error(line_of(path + ".public_url"), path + ".public_url", why);
      else
        config_->public_url_derived = false;
    }
    read_token(v, path, "control_token", kControlTokenMinLength, &config_->control_token);
  }

  void parse_calls(const JsoncValue &v, const std::string &path)
  {
    check_keys(v, path, {"max_concurrent", "ttl_seconds"});
    read_uint(v, path, "max_concurrent", 1, 10000, &config_->max_concurrent_calls);
    read_uint(v, path, "ttl_seconds", 10, 86400, &config_->call_ttl_seconds);
  }

  void parse_log(const JsoncValue &v, const std::string &path)
  {
    check_keys(v, path, {"level", "gst_debug"});
    std::string level, why;
    if (read_string(v, path, "level", &level)) {
      if (level == "debug" || level == "info" || level == "warning" || level == "error")
        config_->log_level = level;
      else
        error(line_of(path + ".level"), path + ".level", "'" + level + "' is not one of: debug, info, warning, error");
    }
    std::string spec;
    if (read_string(v, path, "gst_debug", &spec)) {
      if (check_gst_debug(spec, &why))
        config_->gst_debug = spec;
      else
        error(line_of(path + ".gst_debug"), path + ".gst_debug", why);
    }
  }

  void parse_realtime(const JsoncValue *v, const std::string &path)
  {
    RealtimeBackend &rt = config_->realtime;
    if (!v)
      return;
    check_keys(*v, path, {"backend", "url", "api_key"});
    std::string backend, url, why;
    if (read_string(*v, path, "backend", &backend)) {
      if (backend == "simulator")
        rt.kind = RealtimeBackend::Kind::Simulator;
      else if (backend == "openai")
        rt.kind = RealtimeBackend::Kind::OpenAI;
      else
        error(line_of(path + ".backend"), path + ".backend", "'" + backend + "' is not one of: simulator, openai");
    }
    if (read_string(*v, path, "url", &url)) {
      if (check_websocket_url(url, &why))
        rt.url = url;
      else
        error(line_of(path + ".url"), path + ".url", why);
    }
    bool key_given = v->find("api_key") != nullptr;
    size_t before = errors_->size();
    read_token(*v, path, "api_key", 1, &rt.api_key);
    bool key_failed = errors_->size() != before;
    if (rt.kind == RealtimeBackend::Kind::OpenAI && rt.api_key.empty() && !key_failed)
      error(line_of(key_given ? path + ".api_key" : path), path + ".api_key",
            key_given ? "is empty; the openai backend needs an API key" : "required when backend is openai");
  }

  void parse_openclaw(const JsoncValue *v, const std::string &path)
  {
    AgentBackend &agent = config_->openclaw;
    if (!v)
      return;
    check_keys(*v, path, {"backend", "url", "token", "agent_id"});
    std::string backend, url, normalised, why;
    if (read_string(*v, path, "backend", &backend)) {
      if (backend == "simulator")
        agent.kind = AgentBackend::Kind::Simulator;
      else if (backend == "gateway")
        agent.kind = AgentBackend::Kind::Gateway;
      else
        error(line_of(path + ".backend"), path + ".backend", "'" + backend + "' is not one of: simulator, gateway");
    }
    if (read_string(*v, path, "url", &url)) {
      if (check_base_url(url, &normalised, &why))
        agent.url = normalised;
      else
        error(line_of(path + ".url"), path + ".url", why);
    }
    std::string agent_id;
    if (read_string(*v, path, "agent_id", &agent_id)) {
      if (is_identifier(agent_id))
        agent.agent_id = agent_id;
      else
        error(line_of(path + ".agent_id"), path + ".agent_id", "'" + agent_id + "' is not an agent id (letters, digits, '-' and '_')");
    }
    bool token_given = v->find("token") != nullptr;
    size_t before = errors_->size();
    read_token(*v, path, "token", 1, &agent.token);
    bool token_failed = errors_->size() != before;
    if (agent.kind == AgentBackend::Kind::Gateway && agent.token.empty() && !token_failed)
      error(line_of(token_given ? path + ".token" : path), path + ".token",
            token_given ? "is empty; the gateway backend needs its token" : "required when backend is gateway");
  }

  void parse_simulator(const JsoncValue &v, const std::string &path)
  {
    SimulatorConfig &sim = config_->simulator;
    check_keys(v, path, {"listen", "api_key", "reply", "response_delay_ms"});
    read_listen(v, path, &sim.listen);
    std::string key;
    if (read_string(v, path, "api_key", &key)) {
      std::string why;
      if (check_token(key, 1, &why))
        sim.api_key = key;
      else
        error(line_of(path + ".api_key"), path + ".api_key", key.empty() ? "must not be empty" : why);
    }
    read_string(v, path, "reply", &sim.reply);
    read_uint(v, path, "response_delay_ms", 0, 60000, &sim.response_delay_ms);
  }

  /* element → property → value; values are strings (with ${ENV} and placeholders), numbers (kept as
   * written) or booleans. */
  void parse_properties(const JsoncValue &v, const std::string &path, ElementProperties *out)
  {
    for (const JsoncMember &element : v.members) {
      std::string element_path = join(path, element.key);
      config_->key_lines[element_path] = element.line;
      if (!is_identifier(element.key)) {
        error(element.line, element_path, "'" + element.key +
              "' is not an element name (letters, digits, '-' and '_', as in name=… of a launch file)");
        continue;
      }
      if (element.value.kind != Kind::Object) {
        error(element.line, element_path, std::string("expected an object of property: value, got ") +
              jsonc_kind_name(element.value.kind));
        continue;
      }
      std::map<std::string, std::string> &props = (*out)[element.key];
      for (const JsoncMember &prop : element.value.members) {
        std::string key = join(element_path, prop.key);
        config_->key_lines[key] = prop.line;
        if (!is_identifier(prop.key)) {
          error(prop.line, key, "'" + prop.key + "' is not a property name (letters, digits, '-' and '_')");
          continue;
        }
        std::string value, why;
        switch (prop.value.kind) {
          case Kind::String:
            if (!expand(prop.value, key, &value))
              continue;
            if (!validate_call_placeholders(value, &why)) {
              error(prop.value.line, key, why);
              continue;
            }
            break;
          case Kind::Number: value = prop.value.text; break;
          case Kind::Bool: value = prop.value.boolean ? "true" : "false"; break;
          default:
            error(prop.line, key, std::string("expected a string, number or boolean, got ") +
                  jsonc_kind_name(prop.value.kind));
            continue;
        }
        props[prop.key] = value;
      }
    }
  }

  void parse_routes(const JsoncValue *v, const std::string &path)
  {
    std::vector<std::string> names = known_route_names();
    if (v) {
      for (const JsoncMember &m : v->members) {
        std::string route_path = join(path, m.key);
        config_->key_lines[route_path] = m.line;
        auto spec = std::find_if(known_routes().begin(), known_routes().end(),
                                 [&](const RouteSpec &s) { return m.key == s.name; });
        if (spec == known_routes().end()) {
          error(m.line, route_path, "unknown route '" + m.key + "'; known routes: " + quoted_list(names));
          continue;
        }
        if (m.value.kind != Kind::Object) {
          error(m.line, route_path, std::string("expected an object, got ") + jsonc_kind_name(m.value.kind));
          continue;
        }
        parse_route(m.value, route_path, *spec);
      }
    }
    /* Every known route is present, so the service can look any of them up. */
    for (const RouteSpec &spec : known_routes()) {
      if (config_->routes.count(spec.name))
        continue;
      RouteConfig route;
      route.name = spec.name;
      route.launch_path = absolute_path(spec.default_launch, config_->pipelines_dir);
      config_->routes[spec.name] = route;
    }
  }

  void parse_route(const JsoncValue &v, const std::string &path, const RouteSpec &spec)
  {
    std::vector<std::string> allowed = {"enabled", "launch", "properties"};
    if (spec.takes_auth_token)
      allowed.push_back("auth_token");
    if (spec.takes_status_callback)
      allowed.push_back("status_callback");
    if (std::string(spec.name) == "browser")
      allowed.insert(allowed.end(), {"stun_urls", "turn_urls", "turn_secret", "turn_ttl_seconds", "api_token",
                                     "allowed_origins", "token_ttl_seconds", "ice_addresses", "web_root"});
    if (std::string(spec.name) == "openai")
      allowed.insert(allowed.end(), {"webhook_secret", "allow_callers", "reject_status", "instructions", "voice",
                                     "model", "transcription_model", "client_secret_ttl_seconds", "tokens",
                                     "rate_limit_per_minute"});
    if (std::string(spec.name) == "openai_compat")
      allowed.insert(allowed.end(), {"tokens", "rate_limit_per_minute", "session_key", "filler", "filler_after_ms",
                                     "model"});
    if (std::string(spec.name) == "sip")
      allowed.insert(allowed.end(), {"listen", "public_address", "rtp_port_min", "rtp_port_max", "allow", "realm",
                                     "users", "rtp_timeout_seconds", "answer_delay_ms"});
    check_keys(v, path, allowed);

    RouteConfig route;
    route.name = spec.name;
    route.enabled = true;   /* writing a route's section means wanting it; "enabled": false turns it off */
    read_bool(v, path, "enabled", &route.enabled);

    std::string launch = spec.default_launch;
    if (read_string(v, path, "launch", &launch) && launch.empty()) {
      error(line_of(path + ".launch"), path + ".launch", "must not be empty");
      launch = spec.default_launch;
    }
    /* A bare file name is one of the launch files in pipelines_dir; anything with a '/' is a path. */
    route.launch_path = launch.find('/') == std::string::npos ? absolute_path(launch, config_->pipelines_dir)
                                                              : absolute_path(launch, base_dir_);

    if (spec.takes_status_callback)
      read_bool(v, path, "status_callback", &route.status_callback);
    if (spec.takes_auth_token) {
      size_t before = errors_->size();
      read_token(v, path, "auth_token", 1, &route.auth_token);
      bool failed = errors_->size() != before;
      if (route.enabled && route.auth_token.empty() && !failed) {
        bool given = v.find("auth_token") != nullptr;
        error(line_of(given ? path + ".auth_token" : path), path + ".auth_token",
              std::string(given ? "is empty" : "is missing") +
              "; required when the route is enabled (it checks the signature of the route's webhooks)");
      }
    }
    if (std::string(spec.name) == "browser")
      parse_browser_route(v, path, &route);
    if (std::string(spec.name) == "openai" || std::string(spec.name) == "openai_compat")
      parse_openai_route(v, path, spec.name, &route);
    if (std::string(spec.name) == "sip")
      parse_sip_route(v, path, &route);
    if (const JsoncValue *props = member(v, path, "properties", Kind::Object))
      parse_properties(*props, path + ".properties", &route.properties);
    config_->routes[spec.name] = route;
  }

  /* The SIP route's keys (docs/sip.md). */
  void parse_sip_route(const JsoncValue &v, const std::string &path, RouteConfig *route)
  {
    read_listen(v, path, &route->sip_listen);
    std::string address;
    if (read_string(v, path, "public_address", &address) && !address.empty()) {   /* "" = the listen host */
      GInetAddress *inet = g_inet_address_new_from_string(address.c_str());
      bool wildcard = inet && g_inet_address_get_is_any(inet);
      if (inet)
        g_object_unref(inet);
      if (!inet || wildcard)
        error(line_of(path + ".public_address"), path + ".public_address",
              "'" + address + "' is not an IP address callers can send to");
      else
        route->sip_public_address = address;
    }
    read_uint(v, path, "rtp_port_min", 1024, 65535, &route->sip_rtp_port_min);
    read_uint(v, path, "rtp_port_max", 1024, 65535, &route->sip_rtp_port_max);
    if (route->sip_rtp_port_min > route->sip_rtp_port_max)
      error(line_of(path + ".rtp_port_max"), path + ".rtp_port_max",
            "must not be below rtp_port_min (" + std::to_string(route->sip_rtp_port_min) + ")");
    if (const JsoncValue *list = member(v, path, "allow", Kind::Array)) {
      for (size_t i = 0; i < list->items.size(); i++) {
        const JsoncValue &item = list->items[i];
        std::string key = path + ".allow[" + std::to_string(i) + "]", text;
        if (item.kind != Kind::String) {
          error(item.line, key, std::string("expected a string, got ") + jsonc_kind_name(item.kind));
          continue;
        }
        if (!expand(item, key, &text))
          continue;
        GInetAddressMask *mask = g_inet_address_mask_new_from_string(text.c_str(), nullptr);
        if (!mask) {
          error(item.line, key, "'" + text + "' is not an IP address or CIDR block (192.0.2.0/24)");
          continue;
        }
        g_object_unref(mask);
        route->sip_allow.push_back(text);
      }
    }
    std::string realm;
    if (read_string(v, path, "realm", &realm)) {
      if (realm.empty() || realm.find_first_of("\"\\\r\n") != std::string::npos)
        error(line_of(path + ".realm"), path + ".realm", "must be non-empty, without quotes, backslashes or line breaks");
      else
        route->sip_realm = realm;
    }
    if (const JsoncValue *users = member(v, path, "users", Kind::Object)) {
      for (const JsoncMember &m : users->members) {
        std::string key = path + ".users." + m.key, password, why;
        config_->key_lines[key] = m.line;
        if (m.key.empty() || m.key.find_first_of(" \t\":@;,") != std::string::npos) {
          error(m.line, key, "'" + m.key + "' is not a SIP user name");
          continue;
        }
        if (m.value.kind != Kind::String) {
          error(m.line, key, std::string("expected a password string, got ") + jsonc_kind_name(m.value.kind));
          continue;
        }
        if (!expand(m.value, key, &password))
          continue;
        if (!check_token(password, 8, &why)) {   /* never echoes the value */
          error(m.line, key, why);
          continue;
        }
        route->sip_users[m.key] = password;
      }
    }
    read_uint(v, path, "rtp_timeout_seconds", 1, 3600, &route->sip_rtp_timeout_seconds);
    read_uint(v, path, "answer_delay_ms", 0, 30000, &route->sip_answer_delay_ms);
  }

  /* An array of strings (${ENV} expanded), each checked by @check (which says why it is wrong). */
  template <typename Check>
  void read_string_list(const JsoncValue &object, const std::string &path, const char *key,
                        std::vector<std::string> *out, Check check)
  {
    const JsoncValue *v = member(object, path, key, Kind::Array);
    if (!v)
      return;
    std::string full = join(path, key);
    out->clear();
    for (size_t i = 0; i < v->items.size(); i++) {
      const JsoncValue &item = v->items[i];
      std::string item_key = full + "[" + std::to_string(i) + "]";
      std::string text, why;
      if (item.kind != Kind::String) {
        error(item.line, item_key, std::string("expected a string, got ") + jsonc_kind_name(item.kind));
        continue;
      }
      if (!expand(item, item_key, &text))
        continue;
      if (!check(text, &why)) {
        error(item.line, item_key, why);
        continue;
      }
      out->push_back(text);
    }
  }

  /* The browser route's keys (docs/browser.md). */
  void parse_browser_route(const JsoncValue &v, const std::string &path, RouteConfig *route)
  {
    auto ice_url = [](const char *kind, const char *secure) {
      return [kind, secure](const std::string &url, std::string *why) {
        std::string a = std::string(kind) + ":", b = std::string(secure) + ":";
        if ((url.compare(0, a.size(), a) == 0 && url.size() > a.size()) ||
            (url.compare(0, b.size(), b) == 0 && url.size() > b.size()))
          return true;
        *why = "'" + url + "' must start with " + a + " or " + b + " (an RFC 7064/7065 URI)";
        return false;
      };
    };
    read_string_list(v, path, "stun_urls", &route->stun_urls, ice_url("stun", "stuns"));
    read_string_list(v, path, "turn_urls", &route->turn_urls, ice_url("turn", "turns"));
    read_string_list(v, path, "allowed_origins", &route->allowed_origins, [](const std::string &origin, std::string *why) {
      std::string normalised;
      if (!check_base_url(origin, &normalised, why))
        return false;
      GUri *uri = g_uri_parse(origin.c_str(), G_URI_FLAGS_NONE, nullptr);
      bool bare = uri && (!*g_uri_get_path(uri) || g_str_equal(g_uri_get_path(uri), "/"));
      if (uri)
        g_uri_unref(uri);
      if (!bare)
        *why = "'" + origin + "' is not an origin (scheme://host[:port], no path)";
      return bare;
    });
    read_string_list(v, path, "ice_addresses", &route->ice_addresses, [](const std::string &ip, std::string *why) {
      GInetAddress *inet = g_inet_address_new_from_string(ip.c_str());
      if (inet)
        g_object_unref(inet);
      else
        *why = "'" + ip + "' is not an IP address";
      return inet != nullptr;
    });
    for (std::string &origin : route->allowed_origins)
      while (origin.size() > 1 && origin.back() == '/')
        origin.pop_back();
    size_t before = errors_->size();
    read_token(v, path, "turn_secret", 16, &route->turn_secret);
    if (!route->turn_urls.empty() && route->turn_secret.empty() && errors_->size() == before)
      error(line_of(path + (v.find("turn_secret") ? ".turn_secret" : ".turn_urls")), path + ".turn_secret",
            "is missing or empty; required with turn_urls (the TURN server's static-auth-secret)");
    read_token(v, path, "api_token", 16, &route->api_token);
    read_uint(v, path, "turn_ttl_seconds", 60, 86400, &route->turn_ttl_seconds);
    read_uint(v, path, "token_ttl_seconds", 5, 3600, &route->token_ttl_seconds);
    std::string web_root;
    if (read_string(v, path, "web_root", &web_root)) {
      if (web_root.empty())
        error(line_of(path + ".web_root"), path + ".web_root", "must not be empty");
      else
        route->web_root = absolute_path(web_root, base_dir_);
    }
  }

  /* The openai and openai_compat routes' keys (docs/openai.md). */
  void parse_openai_route(const JsoncValue &v, const std::string &path, const std::string &name, RouteConfig *route)
  {
    read_string_list(v, path, "tokens", &route->bearer_tokens, [](const std::string &token, std::string *why) {
      return check_token(token, 16, why);
    });
    read_uint(v, path, "rate_limit_per_minute", 0, 100000, &route->rate_limit_per_minute);
    if (name == "openai_compat") {
      if (route->enabled && route->bearer_tokens.empty())
        error(line_of(path + (v.find("tokens") ? ".tokens" : "")), path + ".tokens",
              "is missing or empty; the OpenAI-compatible endpoint needs at least one bearer token");
      std::string key;
      if (read_string(v, path, "session_key", &key)) {
        std::string problem = openclaw::session_key_problem(key);
        if (problem.empty())
          route->session_key = key;
        else
          error(line_of(path + ".session_key"), path + ".session_key", problem);
      }
      read_string(v, path, "filler", &route->filler_text);
      read_uint(v, path, "filler_after_ms", 0, 1500, &route->filler_after_ms);
      std::string model;
      if (read_string(v, path, "model", &model)) {
        if (is_identifier(model) || model.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/") == std::string::npos)
          route->compat_model = model;
        else
          error(line_of(path + ".model"), path + ".model", "'" + model + "' is not a model id");
      }
      return;
    }
    size_t before = errors_->size();
    read_token(v, path, "webhook_secret", 1, &route->webhook_secret);
    std::string why;
    openai::WebhookSecret secret;
    if (errors_->size() == before && !route->webhook_secret.empty() &&
        !openai::WebhookSecret::parse(route->webhook_secret, &secret, &why))
      error(line_of(path + ".webhook_secret"), path + ".webhook_secret", why);
    else if (errors_->size() == before && route->enabled && route->webhook_secret.empty())
      error(line_of(path + (v.find("webhook_secret") ? ".webhook_secret" : "")), path + ".webhook_secret",
            "is missing or empty; required when the route is enabled (it checks the signature of OpenAI's webhooks)");
    read_string_list(v, path, "allow_callers", &route->allow_callers, [](const std::string &caller, std::string *why) {
      if (!caller.empty() && caller.find_first_of(" \t<>\"") == std::string::npos)
        return true;
      *why = "'" + caller + "' is not a caller number or SIP user (no spaces or brackets; a trailing * is a prefix)";
      return false;
    });
    read_uint(v, path, "reject_status", 400, 699, &route->reject_status);
    read_string(v, path, "instructions", &route->session_instructions);
    std::string voice;
    if (read_string(v, path, "voice", &voice)) {
      static const std::vector<std::string> voices = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer",
                                                      "verse", "marin", "cedar"};
      if (std::find(voices.begin(), voices.end(), voice) != voices.end())
        route->session_voice = voice;
      else
        error(line_of(path + ".voice"), path + ".voice", "'" + voice + "' is not one of: " + quoted_list(voices));
    }
    std::string model;
    if (read_string(v, path, "model", &model)) {
      if (is_identifier(model))
        route->session_model = model;
      else
        error(line_of(path + ".model"), path + ".model", "'" + model + "' is not a model name");
    }
    std::string transcription;
    if (read_string(v, path, "transcription_model", &transcription)) {
      if (transcription.empty() || is_identifier(transcription))
        route->transcription_model = transcription;
      else
        error(line_of(path + ".transcription_model"), path + ".transcription_model",
              "'" + transcription + "' is not a model name");
    }
    read_uint(v, path, "client_secret_ttl_seconds", 10, 7200, &route->client_secret_ttl_seconds);
  }

  std::string origin_;
  std::string base_dir_;
  std::vector<ConfigError> *errors_;
  Config *config_ = nullptr;
  bool failed_ = false;
  size_t first_error_ = 0;
};

}  // namespace

std::optional<Config> parse_config(const std::string &text, const std::string &origin,
                                   const std::string &base_dir, const std::string &builtin_pipelines_dir,
                                   std::vector<ConfigError> *errors)
{
  ConfigParser parser(origin, base_dir, errors);
  return parser.parse(text, builtin_pipelines_dir);
}

std::optional<Config> load_config(const std::string &path, const std::string &builtin_pipelines_dir,
                                  std::vector<ConfigError> *errors)
{
  gchar *contents = nullptr;
  gsize length = 0;
  GError *gerror = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &gerror)) {
    errors->push_back(ConfigError{path, "", 0, gerror->message});
    g_error_free(gerror);
    return std::nullopt;
  }
  std::string text(contents, length);
  g_free(contents);
  gchar *dir = g_path_get_dirname(path.c_str());
  std::optional<Config> config = parse_config(text, path, dir, builtin_pipelines_dir, errors);
  g_free(dir);
  return config;
}

}  // namespace clawvoice::launcher
