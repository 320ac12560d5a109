/* Parsing the launcher config: defaults, every key, and every class of error with its file, key,
 * line and message. */
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config_test_support.h"

using namespace clawvoice::launcher;
using clawvoice::test::config_data_dir;
using clawvoice::test::parse;
using clawvoice::test::Parsed;
using clawvoice::test::ScopedEnv;

namespace {

bool contains(const std::string &haystack, const std::string &needle)
{
  return haystack.find(needle) != std::string::npos;
}

TEST(ConfigParse, EmptyObjectGivesTheDocumentedDefaults)
{
  Parsed p = parse("{}");
  ASSERT_TRUE(p.config) << p.all();
  const Config &c = *p.config;
  EXPECT_EQ(c.source, "test.jsonc");
  EXPECT_EQ(c.listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_TRUE(c.public_url_derived);
  EXPECT_EQ(c.control_token, "");
  EXPECT_EQ(c.max_concurrent_calls, 50u);
  EXPECT_EQ(c.call_ttl_seconds, 600u);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.gst_debug, "");
  EXPECT_EQ(c.pipelines_dir, config_data_dir());
  EXPECT_EQ(c.realtime.kind, RealtimeBackend::Kind::Simulator);
  EXPECT_EQ(c.realtime.url, "wss://api.openai.com/v1/realtime");
  EXPECT_EQ(c.simulator.listen.to_string(), "127.0.0.1:0");
  EXPECT_EQ(c.simulator.api_key, "sk-sim-local");
  EXPECT_EQ(c.simulator.response_delay_ms, 0u);
  EXPECT_TRUE(c.properties.empty());
  /* Every known route is there, disabled, pointing at its launch file in pipelines_dir. */
  ASSERT_EQ(c.routes.size(), known_route_names().size());
  const RouteConfig &twilio = c.routes.at("twilio");
  EXPECT_EQ(twilio.name, "twilio");
  EXPECT_FALSE(twilio.enabled);
  EXPECT_EQ(twilio.launch_path, config_data_dir() + "/twilio.launch");
  EXPECT_TRUE(twilio.status_callback);
}

TEST(ConfigParse, EveryKeyIsRead)
{
  ScopedEnv token("CV_TEST_CONTROL", "0123456789abcdef0123"), key("CV_TEST_OPENAI", "sk-live-xyz"),
    auth("CV_TEST_TWILIO", "twilio-auth-token-1");
  Parsed p = parse(R"({
    "server": { "listen": "[::1]:9090", "public_url": "https://voice.example.com/base/",
                "control_token": "${CV_TEST_CONTROL}" },
    "calls": { "max_concurrent": 200, "ttl_seconds": 30 },
    "log": { "level": "debug", "gst_debug": "2,clawvoice*:6" },
    "pipelines_dir": "../../config/./",
    "realtime": { "backend": "openai", "url": "wss://rt.example.com/v1/realtime", "api_key": "${CV_TEST_OPENAI}" },
    "simulator": { "listen": "0.0.0.0:8765", "api_key": "sk-sim", "reply": "Hello.", "response_delay_ms": 250 },
    "properties": { "rt": { "voice": "marin", "speed": 1.10, "sync": false } },
    "routes": { "twilio": { "launch": "other.launch", "auth_token": "${CV_TEST_TWILIO}",
                            "status_callback": false, "properties": { "rt": { "voice": "cedar" } } } }
  })");
  ASSERT_TRUE(p.config) << p.all();
  const Config &c = *p.config;
  EXPECT_EQ(c.listen.host, "::1");
  EXPECT_EQ(c.listen.port, 9090);
  EXPECT_EQ(c.listen.to_string(), "[::1]:9090");
  EXPECT_EQ(c.public_url, "https://voice.example.com/base");
  EXPECT_FALSE(c.public_url_derived);
  EXPECT_EQ(c.control_token, "0123456789abcdef0123");
  EXPECT_EQ(c.max_concurrent_calls, 200u);
  EXPECT_EQ(c.call_ttl_seconds, 30u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.gst_debug, "2,clawvoice*:6");
  /* Relative to the config file's directory, with "." and ".." resolved. */
  EXPECT_EQ(c.pipelines_dir, config_data_dir().substr(0, config_data_dir().rfind('/')));
  EXPECT_EQ(c.realtime.kind, RealtimeBackend::Kind::OpenAI);
  EXPECT_EQ(c.realtime.url, "wss://rt.example.com/v1/realtime");
  EXPECT_EQ(c.realtime.api_key, "sk-live-xyz");
  EXPECT_EQ(c.simulator.listen.to_string(), "0.0.0.0:8765");
  EXPECT_EQ(c.simulator.api_key, "sk-sim");
  EXPECT_EQ(c.simulator.reply, "Hello.");
  EXPECT_EQ(c.simulator.response_delay_ms, 250u);
  /* Numbers as written, booleans as gst-launch spells them. */
  EXPECT_EQ(c.properties.at("rt").at("speed"), "1.10");
  EXPECT_EQ(c.properties.at("rt").at("sync"), "false");
  const RouteConfig &twilio = c.routes.at("twilio");
  EXPECT_TRUE(twilio.enabled);   /* a route's section turns it on unless it says "enabled": false */
  EXPECT_EQ(twilio.launch_path, c.pipelines_dir + "/other.launch");
  EXPECT_EQ(twilio.auth_token, "twilio-auth-token-1");
  EXPECT_FALSE(twilio.status_callback);
  EXPECT_EQ(twilio.properties.at("rt").at("voice"), "cedar");
  /* Where each key is, for later errors. */
  EXPECT_EQ(c.key_lines.at("server.listen"), 2);
  EXPECT_EQ(c.key_lines.at("routes.twilio.properties.rt.voice"), 11);
}

TEST(ConfigParse, LaunchWithASlashIsAPathFromTheConfigFile)
{
  Parsed p = parse(R"({"routes": {"twilio": {"launch": "sub/../mine.launch", "auth_token": "t"}}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->routes.at("twilio").launch_path, config_data_dir() + "/mine.launch");
  p = parse(R"({"routes": {"twilio": {"launch": "/abs/x.launch", "auth_token": "t"}}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->routes.at("twilio").launch_path, "/abs/x.launch");
}

TEST(ConfigParse, UnknownKeysAreErrorsWithTheirLineAndTheKnownOnes)
{
  Parsed p = parse("{\n"
                   "  \"sever\": {},\n"
                   "  \"server\": {\n"
                   "    \"listen\": \"127.0.0.1:1\",\n"
                   "    \"public-url\": \"http://x\"\n"
                   "  },\n"
                   "  \"routes\": { \"twilio\": { \"auth_token\": \"t\", \"auth-token\": \"t\" } }\n"
                   "}\n");
  EXPECT_FALSE(p.config);
  ASSERT_EQ(p.errors.size(), 3u) << p.all();
  ConfigError top = p.only("sever");
  EXPECT_EQ(top.file, "test.jsonc");
  EXPECT_EQ(top.line, 2);
  EXPECT_TRUE(contains(top.message, "unknown key")) << top.message;
  EXPECT_TRUE(contains(top.message, "server, calls, log, pipelines_dir")) << top.message;
  ConfigError nested = p.only("server.public-url");
  EXPECT_EQ(nested.line, 5);
  EXPECT_TRUE(contains(nested.message, "listen, public_url, control_token")) << nested.message;
  EXPECT_EQ(nested.to_string(), "test.jsonc:5: server.public-url: " + nested.message);
  ConfigError route = p.only("routes.twilio.auth-token");
  EXPECT_EQ(route.line, 7);
  EXPECT_TRUE(contains(route.message, "auth_token")) << route.message;
}

TEST(ConfigParse, WrongTypesSayWhatWasExpected)
{
  Parsed p = parse("{\n"
                   "  \"server\": [],\n"
                   "  \"calls\": { \"max_concurrent\": \"50\", \"ttl_seconds\": null },\n"
                   "  \"log\": { \"level\": 3 },\n"
                   "  \"routes\": { \"twilio\": { \"enabled\": \"yes\", \"auth_token\": \"t\", \"properties\": [] } },\n"
                   "  \"pipelines_dir\": false\n"
                   "}");
  EXPECT_FALSE(p.config);
  struct Expect { const char *key; int line; const char *message; };
  const Expect expected[] = {
    {"server", 2, "expected an object, got an array"},
    {"calls.max_concurrent", 3, "expected a number, got a string"},
    {"calls.ttl_seconds", 3, "expected a number, got null"},
    {"log.level", 4, "expected a string, got a number"},
    {"routes.twilio.enabled", 5, "expected a boolean, got a string"},
    {"routes.twilio.properties", 5, "expected an object, got an array"},
    {"pipelines_dir", 6, "expected a string, got a boolean"},
  };
  EXPECT_EQ(p.errors.size(), std::size(expected)) << p.all();
  for (const Expect &e : expected) {
    ConfigError got = p.only(e.key);
    EXPECT_EQ(got.line, e.line) << e.key;
    EXPECT_EQ(got.message, e.message) << e.key;
  }
}

TEST(ConfigParse, NumbersMustBeWholeAndInRange)
{
  struct Case { const char *calls; const char *key; const char *says; };
  const Case cases[] = {
    {R"({"max_concurrent": 50.5})", "calls.max_concurrent", "whole number, not 50.5"},
    {R"({"max_concurrent": 1e2})", "calls.max_concurrent", "whole number"},
    {R"({"max_concurrent": 0})", "calls.max_concurrent", "from 1 to 10000, not 0"},
    {R"({"max_concurrent": 10001})", "calls.max_concurrent", "from 1 to 10000"},
    {R"({"max_concurrent": -1})", "calls.max_concurrent", "from 1 to 10000, not -1"},
    {R"({"max_concurrent": 99999999999999999999999})", "calls.max_concurrent", "from 1 to 10000"},
    {R"({"ttl_seconds": 9})", "calls.ttl_seconds", "from 10 to 86400"},
    {R"({"ttl_seconds": 86401})", "calls.ttl_seconds", "from 10 to 86400"},
  };
  for (const Case &c : cases) {
    Parsed p = parse(std::string("{\"calls\": ") + c.calls + "}");
    EXPECT_FALSE(p.config) << c.calls;
    EXPECT_TRUE(contains(p.only(c.key).message, c.says)) << c.calls << " → " << p.all();
  }
  Parsed edges = parse(R"({"calls": {"max_concurrent": 10000, "ttl_seconds": 10}})");
  ASSERT_TRUE(edges.config) << edges.all();
  EXPECT_EQ(edges.config->max_concurrent_calls, 10000u);
}

TEST(ConfigParse, ListenAddresses)
{
  struct Good { const char *text; const char *host; guint16 port; };
  const Good good[] = {
    {"127.0.0.1:8080", "127.0.0.1", 8080}, {"0.0.0.0:0", "0.0.0.0", 0}, {"localhost:80", "localhost", 80},
    {"[::1]:8080", "::1", 8080},           {"[::]:65535", "::", 65535}, {"voice.example.com:443", "voice.example.com", 443},
  };
  for (const Good &g : good) {
    ListenAddress a;
    std::string error;
    ASSERT_TRUE(parse_listen_address(g.text, &a, &error)) << g.text << ": " << error;
    EXPECT_EQ(a.host, g.host);
    EXPECT_EQ(a.port, g.port);
    EXPECT_EQ(a.to_string(), g.text);
  }
  struct Bad { const char *text; const char *says; };
  const Bad bad[] = {
    {"localhost", "is not HOST:PORT"},      {"127.0.0.1:65536", "from 0 to 65535"},
    {"127.0.0.1:", "from 0 to 65535"},      {"127.0.0.1:8o", "from 0 to 65535"},
    {"::1:8080", "goes in brackets"},       {"[::1]8080", "is not [IPV6]:PORT"},
    {"[nothost]:80", "not an IPv6 address"}, {"[127.0.0.1]:80", "not an IPv6 address"},
    {"300.1.1.1:80", "not an IP address or host name"}, {":8080", "not an IP address or host name"},
    {"bad host:80", "not an IP address or host name"},  {"-x.example:80", "not an IP address or host name"},
    {"127.0.0.1:+80", "from 0 to 65535"},
  };
  for (const Bad &b : bad) {
    ListenAddress a;
    std::string error;
    EXPECT_FALSE(parse_listen_address(b.text, &a, &error)) << b.text;
    EXPECT_TRUE(contains(error, b.says)) << b.text << " → " << error;
  }
  /* In the file, with the key and line. */
  Parsed p = parse("{\"simulator\": {\n\"listen\": \"localhost\"}}");
  ConfigError e = p.only("simulator.listen");
  EXPECT_EQ(e.line, 2);
  EXPECT_TRUE(contains(e.message, "is not HOST:PORT")) << e.message;
}

TEST(ConfigParse, PublicUrlIsDerivedFromListenWhenNotSet)
{
  Parsed p = parse(R"({"server": {"listen": "0.0.0.0:9000"}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->public_url, "http://127.0.0.1:9000");   /* a wildcard is not an address to call */
  p = parse(R"({"server": {"listen": "[::]:9000"}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->public_url, "http://[::1]:9000");
  EXPECT_EQ(derive_public_url(ListenAddress{"voice.local", 80}), "http://voice.local:80");
}

TEST(ConfigParse, UrlsAreChecked)
{
  struct Case { const char *json; const char *key; const char *says; };
  const Case cases[] = {
    {R"({"server": {"public_url": "ftp://x.example"}})", "server.public_url", "must start with http:// or https://"},
    {R"({"server": {"public_url": "https://x.example/?a=1"}})", "server.public_url", "query"},
    {R"({"server": {"public_url": "https://x.example/#top"}})", "server.public_url", "fragment"},
    {R"({"server": {"public_url": "https://u:p@x.example"}})", "server.public_url", "user name or password"},
    {R"({"server": {"public_url": "voice.example.com"}})", "server.public_url", "is not a URL"},
    {R"({"server": {"public_url": "https:///path"}})", "server.public_url", "no host"},
    {R"({"realtime": {"url": "https://api.openai.com/v1/realtime"}})", "realtime.url", "ws:// or wss://"},
    {R"({"realtime": {"url": "wss://x/#f"}})", "realtime.url", "fragment"},
  };
  for (const Case &c : cases) {
    Parsed p = parse(c.json);
    EXPECT_FALSE(p.config) << c.json;
    EXPECT_TRUE(contains(p.only(c.key).message, c.says)) << c.json << " → " << p.all();
  }
  Parsed p = parse(R"({"server": {"public_url": "http://127.0.0.1:8080///"}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->public_url, "http://127.0.0.1:8080");
}

TEST(ConfigParse, MissingEnvironmentVariableNamesKeyAndVariable)
{
  ScopedEnv unset("CV_TEST_NOT_SET", std::nullopt);
  Parsed p = parse("{\n  \"routes\": {\n    \"twilio\": {\n      \"auth_token\": \"${CV_TEST_NOT_SET}\"\n    }\n  }\n}");
  EXPECT_FALSE(p.config);
  ASSERT_EQ(p.errors.size(), 1u) << p.all();   /* not also "auth_token is missing" */
  EXPECT_EQ(p.errors[0].to_string(),
            "test.jsonc:4: routes.twilio.auth_token: environment variable CV_TEST_NOT_SET is not set "
            "(write ${CV_TEST_NOT_SET:-default} for a fallback)");
}

TEST(ConfigParse, EnvDefaultsAndEscapes)
{
  ScopedEnv unset("CV_TEST_NOT_SET", std::nullopt), set("CV_TEST_VOICE", "ash");
  Parsed p = parse(R"({
    "server": {"listen": "${CV_TEST_NOT_SET:-127.0.0.1:7000}"},
    "properties": {"rt": {"voice": "${CV_TEST_VOICE}", "instructions": "literal $${HOME} and ${CV_TEST_NOT_SET:-}"}}
  })");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->listen.port, 7000);
  EXPECT_EQ(p.config->properties.at("rt").at("voice"), "ash");
  EXPECT_EQ(p.config->properties.at("rt").at("instructions"), "literal ${HOME} and ");
}

TEST(ConfigParse, CommentsDoNotShiftErrorLines)
{
  Parsed p = parse("// clawvoice config\n"
                   "/* a block comment\n"
                   "   over lines, with a \"quote\" and a { brace */\n"
                   "{\n"
                   "  \"server\": { // the front door\n"
                   "    \"listen\": \"127.0.0.1:80800\" /* too big */\n"
                   "  }\n"
                   "}\n");
  ConfigError e = p.only("server.listen");
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.to_string(), "test.jsonc:6: server.listen: port '80800' is not a number from 0 to 65535");
}

TEST(ConfigParse, TrailingCommaIsASyntaxErrorWithItsLine)
{
  Parsed p = parse("{\n  \"calls\": {\n    \"max_concurrent\": 5,\n  }\n}\n");
  EXPECT_FALSE(p.config);
  ASSERT_EQ(p.errors.size(), 1u) << p.all();
  EXPECT_EQ(p.errors[0].line, 3);
  EXPECT_EQ(p.errors[0].key, "");
  EXPECT_EQ(p.errors[0].to_string(),
            "test.jsonc:3: column 24: trailing comma before '}' (not allowed in JSON)");
}

TEST(ConfigParse, TheTopLevelMustBeAnObject)
{
  Parsed p = parse("\n[1, 2]");
  EXPECT_FALSE(p.config);
  ASSERT_EQ(p.errors.size(), 1u) << p.all();
  EXPECT_EQ(p.errors[0].line, 2);
  EXPECT_TRUE(contains(p.errors[0].message, "must be a JSON object, not an array")) << p.all();
}

TEST(ConfigParse, UnknownRouteListsTheKnownOnes)
{
  Parsed p = parse("{\"routes\": {\n\"twillio\": {}, \"twilio\": {\"auth_token\": \"t\"}}}");
  EXPECT_FALSE(p.config);
  ConfigError e = p.only("routes.twillio");
  EXPECT_EQ(e.line, 2);
  std::string known;   /* every route the launcher knows, in the registry's order */
  for (const std::string &name : known_route_names())
    known += (known.empty() ? "" : ", ") + name;
  EXPECT_EQ(e.message, "unknown route 'twillio'; known routes: " + known);
  EXPECT_EQ(known.rfind("twilio", 0), 0u);
}

TEST(ConfigParse, EnabledTwilioRouteNeedsAnAuthToken)
{
  Parsed p = parse("{\"routes\": {\n  \"twilio\": {\n    \"launch\": \"twilio.launch\"\n  }\n}}");
  EXPECT_FALSE(p.config);
  ConfigError e = p.only("routes.twilio.auth_token");
  EXPECT_EQ(e.line, 2);   /* where the route is: the key that is missing has no line */
  EXPECT_TRUE(contains(e.message, "is missing; required when the route is enabled")) << e.message;

  p = parse("{\"routes\": {\"twilio\": {\n\"auth_token\": \"\"}}}");
  e = p.only("routes.twilio.auth_token");
  EXPECT_EQ(e.line, 2);
  EXPECT_TRUE(contains(e.message, "is empty")) << e.message;

  p = parse(R"({"routes": {"twilio": {"enabled": false}}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_FALSE(p.config->routes.at("twilio").enabled);
}

TEST(ConfigParse, OpenAiBackendNeedsAnApiKey)
{
  Parsed p = parse("{\n\"realtime\": {\"backend\": \"openai\"}}");
  ConfigError e = p.only("realtime.api_key");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.message, "required when backend is openai");

  p = parse(R"({"realtime": {"backend": "openai", "api_key": "${CV_TEST_NOT_SET:-}"}})");
  EXPECT_TRUE(contains(p.only("realtime.api_key").message, "is empty")) << p.all();

  p = parse(R"({"realtime": {"backend": "gemini"}})");
  EXPECT_EQ(p.only("realtime.backend").message, "'gemini' is not one of: simulator, openai");
}

TEST(ConfigParse, SecretsAreCheckedWithoutBeingEchoed)
{
  Parsed p = parse(R"({"server": {"control_token": "short-secret"},
                        "routes": {"twilio": {"auth_token": "has space"}}})");
  EXPECT_FALSE(p.config);
  ConfigError control = p.only("server.control_token");
  EXPECT_EQ(control.message, "is 12 characters long; at least 16 are required");
  EXPECT_FALSE(contains(p.all(), "short-secret"));
  EXPECT_FALSE(contains(p.all(), "has space"));
  EXPECT_TRUE(contains(p.only("routes.twilio.auth_token").message, "without spaces"));

  /* An empty control token disables the control endpoints; it is not an error. */
  p = parse(R"({"server": {"control_token": ""}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->control_token, "");
}

TEST(ConfigParse, LogSettings)
{
  Parsed p = parse(R"({"log": {"level": "verbose", "gst_debug": "rt:loud"}})");
  EXPECT_EQ(p.only("log.level").message, "'verbose' is not one of: debug, info, warning, error");
  EXPECT_TRUE(contains(p.only("log.gst_debug").message, "'loud' in 'rt:loud' is not a level")) << p.all();
  p = parse(R"({"log": {"gst_debug": ":4"}})");
  EXPECT_TRUE(contains(p.only("log.gst_debug").message, "no category")) << p.all();
  p = parse(R"({"log": {"level": "warning", "gst_debug": "WARNING, realtimesink:LOG,clawvoice-*:9"}})");
  ASSERT_TRUE(p.config) << p.all();
  EXPECT_EQ(p.config->log_level, "warning");
}

TEST(ConfigParse, PropertyValuesAndPlaceholders)
{
  Parsed p = parse("{\n"
                   "  \"properties\": {\n"
                   "    \"rt\": { \"instructions\": \"Caller {call.caller} on {call.route}, lang {call.param.lang}\",\n"
                   "            \"description\": \"{call.id}\", \"speed\": 1.25, \"sync\": true,\n"
                   "            \"voice\": \"{call.voice}\" },\n"
                   "    \"bad name\": { \"x\": 1 },\n"
                   "    \"reply\": \"location\",\n"
                   "    \"caller\": { \"location\": [\"a\"], \"bad.prop\": \"x\", \"blocksize\": null }\n"
                   "  }\n"
                   "}\n");
  EXPECT_FALSE(p.config);
  EXPECT_EQ(p.only("properties.rt.voice").line, 5);
  EXPECT_TRUE(contains(p.only("properties.rt.voice").message, "unknown placeholder '{call.voice}'"));
  EXPECT_TRUE(contains(p.only("properties.bad name").message, "is not an element name"));
  EXPECT_EQ(p.only("properties.reply").message, "expected an object of property: value, got a string");
  EXPECT_EQ(p.only("properties.caller.location").message, "expected a string, number or boolean, got an array");
  EXPECT_TRUE(contains(p.only("properties.caller.bad.prop").message, "is not a property name"));
  EXPECT_EQ(p.only("properties.caller.blocksize").message, "expected a string, number or boolean, got null");
  EXPECT_EQ(p.errors.size(), 6u) << p.all();
  /* Valid placeholders are not errors. */
  for (const ConfigError &e : p.errors)
    EXPECT_NE(e.key, "properties.rt.instructions");
}

TEST(ConfigParse, AllErrorsAreCollectedInFileOrder)
{
  ScopedEnv unset("CV_TEST_NOT_SET", std::nullopt);
  Parsed p = parse("{\n"
                   "  \"routes\": { \"pigeon\": {} },\n"                    // 2
                   "  \"server\": { \"listen\": \"nowhere\" },\n"         // 3
                   "  \"calls\": { \"ttl_seconds\": 1 },\n"                 // 4
                   "  \"bogus\": 1,\n"                                      // 5
                   "  \"realtime\": { \"api_key\": \"${CV_TEST_NOT_SET}\" }\n"   // 6
                   "}\n");
  EXPECT_FALSE(p.config);
  ASSERT_EQ(p.errors.size(), 5u) << p.all();
  const char *keys[] = {"routes.pigeon", "server.listen", "calls.ttl_seconds", "bogus", "realtime.api_key"};
  for (size_t i = 0; i < 5; i++) {
    EXPECT_EQ(p.errors[i].key, keys[i]) << p.all();
    EXPECT_EQ(p.errors[i].line, (int) i + 2) << p.all();
  }
}

TEST(ConfigParse, PropertiesForOverlaysTheRouteOnTheGlobalOnes)
{
  Parsed p = parse(R"({
    "properties": { "rt": { "voice": "marin", "instructions": "global" }, "pace": { "sync": true } },
    "routes": { "twilio": { "auth_token": "t", "properties": { "rt": { "voice": "cedar" }, "bridge": { "lead-ms": 150 } } } }
  })");
  ASSERT_TRUE(p.config) << p.all();
  ElementProperties merged = p.config->properties_for("twilio");
  EXPECT_EQ(merged.at("rt").at("voice"), "cedar");           /* the route wins */
  EXPECT_EQ(merged.at("rt").at("instructions"), "global");   /* property by property, not element by element */
  EXPECT_EQ(merged.at("pace").at("sync"), "true");
  EXPECT_EQ(merged.at("bridge").at("lead-ms"), "150");
  EXPECT_EQ(merged.size(), 3u);
  /* The global ones are untouched; an unknown route gets only them. */
  EXPECT_EQ(p.config->properties.at("rt").at("voice"), "marin");
  EXPECT_EQ(p.config->properties_for("nope"), p.config->properties);
}

TEST(ConfigParse, OverridesForACallExpandItsPlaceholders)
{
  Parsed p = parse(R"({
    "properties": { "rt": { "description": "{call.id}", "instructions": "from {call.caller}, {call.param.who}" } },
    "routes": { "twilio": { "auth_token": "t", "properties": { "rt": { "voice": "{call.param.voice}" } } } }
  })");
  ASSERT_TRUE(p.config) << p.all();
  CallInfo call{"CA9", "+33100", "twilio", {{"voice", "ash"}}};
  std::vector<PropertyOverride> o = property_overrides_for_call(*p.config, call);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].element, "rt");
  EXPECT_EQ(o[0].property, "description");
  EXPECT_EQ(o[0].value, "CA9");
  EXPECT_EQ(o[1].property, "instructions");
  EXPECT_EQ(o[1].value, "from +33100, ");
  EXPECT_EQ(o[2].property, "voice");
  EXPECT_EQ(o[2].value, "ash");
}

TEST(ConfigParse, DescribeConfigMasksEverySecret)
{
  const std::string control = "control-token-0123456789", openai = "sk-openai-secret-value",
                    twilio = "twilio-secret-value-42", sim = "sk-sim-secret-value", prop = "prop-secret-value-7";
  ScopedEnv key("CV_TEST_OPENAI", openai);
  Parsed p = parse(R"({"server": {"control_token": ")" + control + R"("},
    "realtime": {"backend": "openai", "api_key": "${CV_TEST_OPENAI}"},
    "simulator": {"api_key": ")" + sim + R"("},
    "properties": {"rt": {"api-key": ")" + prop + R"(", "voice": "marin"}},
    "routes": {"twilio": {"auth_token": ")" + twilio + R"("}}})");
  ASSERT_TRUE(p.config) << p.all();
  std::string text = describe_config(*p.config);
  for (const std::string &secret : {control, openai, twilio, sim, prop})
    EXPECT_FALSE(contains(text, secret)) << secret << " in " << text;
  EXPECT_TRUE(contains(text, R"("control_token":"***")")) << text;
  EXPECT_TRUE(contains(text, R"("api-key":"***")")) << text;
  EXPECT_TRUE(contains(text, R"("voice":"marin")")) << text;   /* not everything is masked */
  EXPECT_TRUE(contains(text, R"("listen":"127.0.0.1:8080")")) << text;
  /* An empty secret shows as empty: control endpoints disabled is worth seeing. */
  Parsed none = parse("{}");
  EXPECT_TRUE(contains(describe_config(*none.config), R"("control_token":"")"));
}

TEST(ConfigParse, DefaultConfigIsTheDemo)
{
  Config a = default_config(config_data_dir());
  Config b = default_config(config_data_dir());
  EXPECT_EQ(a.source, "(embedded default)");
  EXPECT_EQ(a.realtime.kind, RealtimeBackend::Kind::Simulator);
  EXPECT_EQ(a.pipelines_dir, config_data_dir());
  const RouteConfig &twilio = a.routes.at("twilio");
  EXPECT_TRUE(twilio.enabled);
  EXPECT_EQ(twilio.launch_path, config_data_dir() + "/twilio.launch");
  EXPECT_EQ(twilio.auth_token.size(), 32u);
  EXPECT_EQ(a.control_token.size(), 32u);
  EXPECT_EQ(twilio.auth_token.find_first_not_of("0123456789abcdef"), std::string::npos);
  /* Random each start. */
  EXPECT_NE(a.control_token, b.control_token);
  EXPECT_NE(twilio.auth_token, b.routes.at("twilio").auth_token);
  EXPECT_NE(a.control_token, twilio.auth_token);
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override
  {
    gchar *dir = g_dir_make_tmp("clawvoice-config-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    g_free(dir);
  }
  void TearDown() override
  {
    for (const std::string &f : files_)
      g_remove(f.c_str());
    g_rmdir(dir_.c_str());
  }
  std::string write(const std::string &name, const std::string &text)
  {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ConfigFile, ErrorsNameTheFileAndPathsAreRelativeToIt)
{
  std::string path = write("bad.jsonc", "{\n  \"calls\": { \"max_concurrent\": 0 }\n}\n");
  std::vector<ConfigError> errors;
  EXPECT_FALSE(load_config(path, "/builtin", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), path + ":2: calls.max_concurrent: must be from 1 to 10000, not 0");

  path = write("good.jsonc", R"({"pipelines_dir": "pipes", "routes": {"twilio": {"auth_token": "t", "launch": "./my.launch"}}})");
  errors.clear();
  std::optional<Config> c = load_config(path, "/builtin", &errors);
  ASSERT_TRUE(c) << errors[0].to_string();
  EXPECT_EQ(c->source, path);
  EXPECT_EQ(c->pipelines_dir, dir_ + "/pipes");
  EXPECT_EQ(c->routes.at("twilio").launch_path, dir_ + "/my.launch");
}

TEST_F(ConfigFile, AMissingFileIsAnErrorNamingIt)
{
  std::vector<ConfigError> errors;
  std::string path = dir_ + "/absent.jsonc";
  EXPECT_FALSE(load_config(path, "/builtin", &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, path);
  EXPECT_TRUE(contains(errors[0].to_string(), "absent.jsonc")) << errors[0].to_string();
  EXPECT_TRUE(contains(errors[0].message, "No such file")) << errors[0].message;
}

}  // namespace
