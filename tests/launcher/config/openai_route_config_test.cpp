/* The openai and openai_compat routes' keys: defaults, every key read, and the errors that name
 * the key without quoting a secret. */
#include "config_test_support.h"

using namespace clawvoice::launcher;
using namespace clawvoice::test;

namespace {
const char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}

TEST(OpenAIRouteConfig, DefaultsWhenOnlyTheSecretIsGiven)
{
  Parsed p = parse(std::string(R"({"routes":{"openai":{"webhook_secret":")") + kSecret + R"("}}})");
  ASSERT_TRUE(p.config) << p.all();
  const RouteConfig &r = p.config->routes.at("openai");
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.webhook_secret, kSecret);
  EXPECT_TRUE(r.allow_callers.empty());
  EXPECT_EQ(r.reject_status, 486u);
  EXPECT_EQ(r.session_voice, "marin");
  EXPECT_EQ(r.session_model, "gpt-realtime");
  EXPECT_EQ(r.client_secret_ttl_seconds, 600u);
  EXPECT_TRUE(r.bearer_tokens.empty());
  EXPECT_EQ(r.rate_limit_per_minute, 60u);
  EXPECT_EQ(r.launch_path, config_data_dir() + "/openai-sideband.launch");
  EXPECT_FALSE(p.config->routes.at("openai_compat").enabled);
}

TEST(OpenAIRouteConfig, EveryKeyIsRead)
{
  Parsed p = parse(std::string(R"({"routes":{
    "openai":{"webhook_secret":")") + kSecret + R"(","allow_callers":["+1555*","alice"],"reject_status":403,
              "instructions":"Be Ada.","voice":"cedar","model":"gpt-realtime-mini","transcription_model":"gpt-4o-mini-transcribe",
              "client_secret_ttl_seconds":120,"tokens":["token-one-0123456789","token-two-0123456789"],"rate_limit_per_minute":5},
    "openai_compat":{"tokens":["compat-0123456789abc"],"rate_limit_per_minute":0,"session_key":"agent:main:main",
                     "filler":"Hmm, let me see.","filler_after_ms":500,"model":"openclaw-voice"}}})");
  ASSERT_TRUE(p.config) << p.all();
  const RouteConfig &r = p.config->routes.at("openai");
  EXPECT_EQ(r.allow_callers, (std::vector<std::string>{"+1555*", "alice"}));
  EXPECT_EQ(r.reject_status, 403u);
  EXPECT_EQ(r.session_instructions, "Be Ada.");
  EXPECT_EQ(r.session_voice, "cedar");
  EXPECT_EQ(r.session_model, "gpt-realtime-mini");
  EXPECT_EQ(r.transcription_model, "gpt-4o-mini-transcribe");
  EXPECT_EQ(r.client_secret_ttl_seconds, 120u);
  EXPECT_EQ(r.bearer_tokens.size(), 2u);
  EXPECT_EQ(r.rate_limit_per_minute, 5u);
  const RouteConfig &c = p.config->routes.at("openai_compat");
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.bearer_tokens, (std::vector<std::string>{"compat-0123456789abc"}));
  EXPECT_EQ(c.rate_limit_per_minute, 0u);
  EXPECT_EQ(c.session_key, "agent:main:main");
  EXPECT_EQ(c.filler_text, "Hmm, let me see.");
  EXPECT_EQ(c.filler_after_ms, 500u);
  EXPECT_EQ(c.compat_model, "openclaw-voice");
}

TEST(OpenAIRouteConfig, SecretIsRequiredAndChecked)
{
  Parsed missing = parse(R"({"routes":{"openai":{}}})");
  EXPECT_FALSE(missing.config);
  EXPECT_NE(missing.only("routes.openai.webhook_secret").message.find("required"), std::string::npos);
  Parsed bad = parse(R"({"routes":{"openai":{"webhook_secret":"whsec_no!base64"}}})");
  ASSERT_FALSE(bad.config);
  ConfigError e = bad.only("routes.openai.webhook_secret");
  EXPECT_EQ(e.message.find("no!base64"), std::string::npos) << "never quote a secret: " << e.message;
  Parsed off = parse(R"({"routes":{"openai":{"enabled":false}}})");
  EXPECT_TRUE(off.config) << off.all();
}

TEST(OpenAIRouteConfig, BadValuesNameTheirKey)
{
  Parsed p = parse(std::string(R"({"routes":{"openai":{"webhook_secret":")") + kSecret +
                   R"(","voice":"robot","reject_status":200,"client_secret_ttl_seconds":5,"tokens":["short"],
                       "allow_callers":["bad caller"],"model":"a b"},
                       "openai_compat":{"tokens":[],"session_key":"cron:x","filler_after_ms":1900,"stream":true}}})");
  ASSERT_FALSE(p.config);
  for (const char *key : {"routes.openai.voice", "routes.openai.reject_status", "routes.openai.client_secret_ttl_seconds",
                          "routes.openai.tokens[0]", "routes.openai.allow_callers[0]", "routes.openai.model",
                          "routes.openai_compat.tokens", "routes.openai_compat.session_key",
                          "routes.openai_compat.filler_after_ms", "routes.openai_compat.stream"})
    EXPECT_NO_FATAL_FAILURE(p.only(key)) << key << "\n" << p.all();
}

TEST(OpenAIRouteConfig, KeysOfOneRouteAreNotTakenByAnother)
{
  Parsed p = parse(R"({"routes":{"twilio":{"auth_token":"x","webhook_secret":"whsec_AAAA"},
                                 "openai_compat":{"tokens":["compat-0123456789abc"],"webhook_secret":"whsec_AAAA"}}})");
  ASSERT_FALSE(p.config);
  EXPECT_NO_FATAL_FAILURE(p.only("routes.twilio.webhook_secret"));
  EXPECT_NO_FATAL_FAILURE(p.only("routes.openai_compat.webhook_secret"));
}
