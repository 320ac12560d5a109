/* clawvoice — the Config's own behaviour: overlaying properties, the embedded default, describing
 * it for logs with secrets masked. */
#include "config.h"

#include <json-glib/json-glib.h>

#include <random>

#include "common/json.h"
#include "config_values.h"
#include "openai/webhook_signature.h"

namespace clawvoice::launcher {

ElementProperties Config::properties_for(const std::string &route) const
{
  ElementProperties merged = properties;
  auto it = routes.find(route);
  if (it == routes.end())
    return merged;
  for (const auto &[element, props] : it->second.properties) {
    for (const auto &[property, value] : props)
      merged[element][property] = value;
  }
  return merged;
}

std::string ConfigError::to_string() const
{
  std::string out = file;
  if (line > 0)
    out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty())
    out += key + ": ";
  return out + message;
}

std::vector<PropertyOverride> property_overrides_for_call(const Config &config, const CallInfo &call)
{
  std::vector<PropertyOverride> overrides;
  for (const auto &[element, props] : config.properties_for(call.route)) {
    for (const auto &[property, value] : props)
      overrides.push_back(PropertyOverride{element, property, expand_call_placeholders(value, call)});
  }
  return overrides;
}

/* 32 hex digits from the system's random source (std::random_device reads getrandom()/urandom on
 * Linux): the shape of a Twilio auth token, and long enough for a bearer token. */
static std::string random_token()
{
  std::random_device device;
  static const char hex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 4; i++) {
    guint32 word = device();
    for (int nibble = 0; nibble < 8; nibble++, word >>= 4)
      token += hex[word & 0xf];
  }
  return token;
}

Config default_config(const std::string &builtin_pipelines_dir)
{
  /* Built through the parser from a config text, so the default obeys every rule a file does. */
  std::string text = "{ \"server\": { \"control_token\": \"" + random_token() + "\" },"
                     "  \"realtime\": { \"backend\": \"simulator\" },"
                     "  \"routes\": { \"twilio\": { \"enabled\": true, \"auth_token\": \"" + random_token() +
                     "\" },"
                     "              \"browser\": { \"enabled\": true },"
                     /* The page's "Direct to OpenAI" mode (/api/token, /api/send, /ws: the control token),
                        the SIP webhook and the OpenAI-compatible endpoint, all tryable against the
                        simulator; the caller's words transcribed so the direct page shows them. */
                     "              \"openai\": { \"enabled\": true, \"webhook_secret\": \"" +
                     openai::generate_webhook_secret() + "\","
                     "                          \"transcription_model\": \"gpt-4o-mini-transcribe\" },"
                     "              \"openai_compat\": { \"enabled\": true, \"tokens\": [\"" + random_token() +
                     "\"] } } }";
  std::vector<ConfigError> errors;
  std::optional<Config> config =
    parse_config(text, "(embedded default)", builtin_pipelines_dir, builtin_pipelines_dir, &errors);
  g_assert(config.has_value());
  config->key_lines.clear();   /* lines of a generated text would only mislead */
  return *config;
}

static const char *masked(const std::string &secret)
{
  return secret.empty() ? "" : "***";
}

static void add_properties(JsonBuilder *b, const ElementProperties &properties)
{
  json_builder_begin_object(b);
  for (const auto &[element, props] : properties) {
    json_builder_set_member_name(b, element.c_str());
    json_builder_begin_object(b);
    for (const auto &[property, value] : props) {
      json_builder_set_member_name(b, property.c_str());
      json_builder_add_string_value(b, is_secret_property_name(property) ? masked(value) : value.c_str());
    }
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

static void add_string(JsonBuilder *b, const char *name, const std::string &value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value.c_str());
}

static void add_int(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

static void add_bool(JsonBuilder *b, const char *name, bool value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, value);
}

std::string describe_config(const Config &c)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "source", c.source);

  json_builder_set_member_name(b, "server");
  json_builder_begin_object(b);
  add_string(b, "listen", c.listen.to_string());
  add_string(b, "public_url", c.public_url);
  add_string(b, "control_token", masked(c.control_token));
  json_builder_end_object(b);

  json_builder_set_member_name(b, "calls");
  json_builder_begin_object(b);
  add_int(b, "max_concurrent", c.max_concurrent_calls);
  add_int(b, "ttl_seconds", c.call_ttl_seconds);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "log");
  json_builder_begin_object(b);
  add_string(b, "level", c.log_level);
  add_string(b, "gst_debug", c.gst_debug);
  json_builder_end_object(b);

  add_string(b, "pipelines_dir", c.pipelines_dir);

  json_builder_set_member_name(b, "realtime");
  json_builder_begin_object(b);
  add_string(b, "backend", c.realtime.kind == RealtimeBackend::Kind::OpenAI ? "openai" : "simulator");
  add_string(b, "url", c.realtime.url);
  add_string(b, "api_key", masked(c.realtime.api_key));
  json_builder_end_object(b);

  json_builder_set_member_name(b, "openclaw");
  json_builder_begin_object(b);
  add_string(b, "backend", c.openclaw.kind == AgentBackend::Kind::Gateway ? "gateway" : "simulator");
  add_string(b, "url", c.openclaw.url);
  add_string(b, "token", masked(c.openclaw.token));
  add_string(b, "agent_id", c.openclaw.agent_id);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "simulator");
  json_builder_begin_object(b);
  add_string(b, "listen", c.simulator.listen.to_string());
  add_string(b, "api_key", masked(c.simulator.api_key));
  add_string(b, "reply", c.simulator.reply);
  add_int(b, "response_delay_ms", c.simulator.response_delay_ms);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "properties");
  add_properties(b, c.properties);

  json_builder_set_member_name(b, "routes");
  json_builder_begin_object(b);
  for (const auto &[name, route] : c.routes) {
    json_builder_set_member_name(b, name.c_str());
    json_builder_begin_object(b);
    add_bool(b, "enabled", route.enabled);
    add_string(b, "launch", route.launch_path);
    add_string(b, "auth_token", masked(route.auth_token));
    add_bool(b, "status_callback", route.status_callback);
    if (name == "browser") {
      add_string(b, "turn_secret", masked(route.turn_secret));
      add_string(b, "api_token", masked(route.api_token));
      add_int(b, "turn_ttl_seconds", route.turn_ttl_seconds);
      add_int(b, "token_ttl_seconds", route.token_ttl_seconds);
      add_string(b, "web_root", route.web_root);
    }
    json_builder_set_member_name(b, "properties");
    add_properties(b, route.properties);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);

  json_builder_end_object(b);
  json::NodePtr root(json_builder_get_root(b));
  g_object_unref(b);
  return json::to_string(root.get());
}

}  // namespace clawvoice::launcher
