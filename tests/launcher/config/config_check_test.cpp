/* check_config(): the deep check behind `clawvoice-launcher --check`, against real launch files
 * built with the real clawvoice plugin. */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config_test_support.h"

using namespace clawvoice::launcher;
using clawvoice::test::config_data_dir;
using clawvoice::test::parse;
using clawvoice::test::Parsed;

namespace {

bool contains(const std::string &haystack, const std::string &needle)
{
  return haystack.find(needle) != std::string::npos;
}

class ConfigCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { clawvoice::test::init_gstreamer_with_plugin(); }

  /* Parses `text` (which must be valid) and checks it. */
  std::vector<ConfigError> check(const std::string &text)
  {
    Parsed p = parse(text);
    EXPECT_TRUE(p.config) << p.all();
    std::vector<ConfigError> errors;
    if (p.config) {
      bool ok = check_config(*p.config, &errors);
      EXPECT_EQ(ok, errors.empty());
    }
    return errors;
  }

  static std::string all(const std::vector<ConfigError> &errors)
  {
    std::string out;
    for (const ConfigError &e : errors)
      out += e.to_string() + "\n";
    return out;
  }
};

/* A route on good.launch with the given global and route properties (JSON objects). */
std::string twilio_on(const std::string &launch, const std::string &global = "{}", const std::string &route = "{}")
{
  return "{\n"
         "  \"properties\": " + global + ",\n"                                            // line 2
         "  \"routes\": {\n"
         "    \"twilio\": {\n"                                                            // line 4
         "      \"launch\": \"" + launch + "\",\n"                                        // line 5
         "      \"auth_token\": \"t\",\n"
         "      \"properties\": " + route + "\n"                                          // line 7
         "    }\n"
         "  }\n"
         "}\n";
}

TEST_F(ConfigCheck, AGoodConfigPasses)
{
  std::vector<ConfigError> errors = check(twilio_on(
    "good.launch",
    R"({"rt": {"voice": 12, "instructions": "Caller {call.caller} on {call.id}", "sync": true, "turn-detection": "semantic-vad"},
        "pace": {"sync": false}, "src": {"num-buffers": "{call.param.n}", "volume": 0.5}})",
    R"({"rt": {"voice": "cedar"}, "out": {"sync": false}})"));
  EXPECT_TRUE(errors.empty()) << all(errors);
}

TEST_F(ConfigCheck, DisabledRoutesAreNotChecked)
{
  std::vector<ConfigError> errors =
    check(R"({"routes": {"twilio": {"enabled": false, "launch": "absent.launch"}}})");
  EXPECT_TRUE(errors.empty()) << all(errors);
}

TEST_F(ConfigCheck, ALaunchFileThatDoesNotExist)
{
  std::vector<ConfigError> errors = check(twilio_on("absent.launch"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_EQ(errors[0].to_string(), "test.jsonc:5: routes.twilio.launch: launch file " + config_data_dir() +
                                     "/absent.launch does not exist");
}

TEST_F(ConfigCheck, ALaunchFileWithAnUnknownElement)
{
  std::vector<ConfigError> errors = check(twilio_on("unknown-element.launch", R"({"rt": {"voice": "x"}})"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);   /* its properties are not checked on top */
  EXPECT_EQ(errors[0].key, "routes.twilio.launch");
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_TRUE(contains(errors[0].message, "unknown-element.launch")) << errors[0].message;
  EXPECT_TRUE(contains(errors[0].message, "clawvoicenosuchelement")) << errors[0].message;
}

TEST_F(ConfigCheck, LaunchFilesThatAreNotPipelines)
{
  std::vector<ConfigError> errors = check(twilio_on("broken-syntax.launch"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_EQ(errors[0].key, "routes.twilio.launch");
  EXPECT_TRUE(contains(errors[0].message, "broken-syntax.launch")) << errors[0].message;

  errors = check(twilio_on("comments-only.launch"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_TRUE(contains(errors[0].message, "no pipeline description")) << errors[0].message;

  errors = check(twilio_on("."));   /* the config directory itself */
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_TRUE(contains(errors[0].message, "is not a file")) << errors[0].message;
}

TEST_F(ConfigCheck, AnElementThatIsNotInTheLaunchFile)
{
  std::vector<ConfigError> errors =
    check(twilio_on("good.launch", R"({"bridge": {"lead-ms": 100, "x": 1}})", R"({"sip": {"port": 5060}})"));
  ASSERT_EQ(errors.size(), 2u) << all(errors);   /* once per element, not once per property */
  EXPECT_EQ(errors[0].key, "properties.bridge");
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_TRUE(contains(errors[0].message, "no element named 'bridge' in " + config_data_dir() + "/good.launch"))
    << errors[0].message;
  EXPECT_EQ(errors[1].key, "routes.twilio.properties.sip");
  EXPECT_EQ(errors[1].line, 7);
}

TEST_F(ConfigCheck, AnUnknownProperty)
{
  std::vector<ConfigError> errors = check(twilio_on("good.launch", R"({"rt": {"colour": "blue"}})"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_EQ(errors[0].key, "properties.rt.colour");
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_TRUE(contains(errors[0].message, "has no property 'colour'")) << errors[0].message;
}

TEST_F(ConfigCheck, AReadOnlyProperty)
{
  std::vector<ConfigError> errors = check(twilio_on("good.launch", "{}", R"({"out": {"last-sample": "x"}})"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_EQ(errors[0].key, "routes.twilio.properties.out.last-sample");
  EXPECT_TRUE(contains(errors[0].message, "cannot be set")) << errors[0].message;
}

TEST_F(ConfigCheck, ValuesThatDoNotDeserialise)
{
  /* A number for a string property is fine ("12"); a word for a boolean or an integer is not. */
  std::vector<ConfigError> errors = check(twilio_on(
    "good.launch", R"({"rt": {"voice": 12, "sync": "maybe"}, "src": {"num-buffers": "many", "wave": "zigzag"}})",
    R"({"rt": {"speed": "fast"}})"));
  ASSERT_EQ(errors.size(), 4u) << all(errors);
  std::map<std::string, std::string> by_key;
  for (const ConfigError &e : errors)
    by_key[e.key] = e.message;
  EXPECT_TRUE(contains(by_key["properties.rt.sync"], "'maybe' is not a valid value for rt.sync (gboolean)"))
    << all(errors);
  EXPECT_TRUE(contains(by_key["properties.src.num-buffers"], "'many'")) << all(errors);
  EXPECT_TRUE(contains(by_key["properties.src.wave"], "'zigzag'")) << all(errors);
  EXPECT_TRUE(contains(by_key["routes.twilio.properties.rt.speed"], "'fast'")) << all(errors);
  EXPECT_EQ(by_key.count("properties.rt.voice"), 0u);
}

TEST_F(ConfigCheck, PlaceholdersAreCheckedWithSampleValues)
{
  /* A call id is never a number: the sample value shows it before the first call does. */
  std::vector<ConfigError> errors = check(twilio_on("good.launch", R"({"src": {"num-buffers": "{call.id}"}})"));
  ASSERT_EQ(errors.size(), 1u) << all(errors);
  EXPECT_EQ(errors[0].key, "properties.src.num-buffers");
  /* A missing custom parameter stands in as "0", which a number takes. */
  errors = check(twilio_on("good.launch", R"({"src": {"num-buffers": "{call.param.n}"}})"));
  EXPECT_TRUE(errors.empty()) << all(errors);
}

TEST_F(ConfigCheck, RunConfigCheckPrintsOneErrorPerLineOrConfigOk)
{
  gchar *dir = g_dir_make_tmp("clawvoice-check-XXXXXX", nullptr);
  ASSERT_NE(dir, nullptr);
  std::string good = std::string(dir) + "/good.jsonc", bad = std::string(dir) + "/bad.jsonc";
  std::ofstream(good) << "{ \"pipelines_dir\": \"" << config_data_dir()
                      << "\", \"routes\": { \"twilio\": { \"launch\": \"good.launch\", \"auth_token\": \"t\" } } }";
  std::ofstream(bad) << "{ \"pipelines_dir\": \"" << config_data_dir() << "\",\n"
                     << "  \"routes\": { \"twilio\": { \"launch\": \"good.launch\", \"auth_token\": \"t\",\n"
                     << "    \"properties\": { \"rt\": { \"sync\": \"maybe\", \"colour\": 1 } } } } }";

  std::ostringstream out, err;
  EXPECT_EQ(run_config_check(good, "/builtin", out, err), 0);
  EXPECT_EQ(out.str(), "config OK\n");
  EXPECT_EQ(err.str(), "");

  std::ostringstream out2, err2;
  EXPECT_EQ(run_config_check(bad, "/builtin", out2, err2), 1);
  EXPECT_EQ(out2.str(), "");
  std::string text = err2.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_TRUE(contains(text, bad + ":3: routes.twilio.properties.rt.colour: ")) << text;
  EXPECT_TRUE(contains(text, bad + ":3: routes.twilio.properties.rt.sync: ")) << text;

  /* A load error stops before the deep check, with the same format. */
  std::ostringstream out3, err3;
  EXPECT_EQ(run_config_check(std::string(dir) + "/absent.jsonc", "/builtin", out3, err3), 1);
  EXPECT_TRUE(contains(err3.str(), "absent.jsonc")) << err3.str();

  /* The embedded default (twilio, browser, openai, openai_compat on), against a pipelines directory
   * without their files. */
  std::ostringstream out4, err4;
  EXPECT_EQ(run_config_check("", config_data_dir(), out4, err4), 1);
  EXPECT_EQ(err4.str(), "(embedded default): routes.browser.launch: launch file " + config_data_dir() +
                          "/browser.launch does not exist\n"
                          "(embedded default): routes.openai.launch: launch file " + config_data_dir() +
                          "/openai-sideband.launch does not exist\n"
                          "(embedded default): routes.openai_compat.launch: launch file " + config_data_dir() +
                          "/openai-sideband.launch does not exist\n"
                          "(embedded default): routes.twilio.launch: launch file " + config_data_dir() +
                          "/twilio.launch does not exist\n");

  g_remove(good.c_str());
  g_remove(bad.c_str());
  g_rmdir(dir);
  g_free(dir);
}

}  // namespace
