/* The SIP route's config keys (routes.sip.*; docs/sip.md): defaults, every key read, and an error
 * that names the key for each bad value — never echoing a password. */
#include <gtest/gtest.h>

#include "config_test_support.h"

namespace clawvoice::test {
namespace {

using launcher::RouteConfig;

TEST(SipConfig, DefaultsWhenTheSectionIsEmpty)
{
  Parsed p = parse(R"({ "routes": { "sip": {} } })");
  ASSERT_TRUE(p.config) << p.all();
  const RouteConfig &sip = p.config->routes.at("sip");
  EXPECT_TRUE(sip.enabled);
  EXPECT_EQ(sip.launch_path, config_data_dir() + "/sip.launch");
  EXPECT_EQ(sip.sip_listen.to_string(), "127.0.0.1:5060");
  EXPECT_EQ(sip.sip_public_address, "");
  EXPECT_EQ(sip.sip_rtp_port_min, 20000u);
  EXPECT_EQ(sip.sip_rtp_port_max, 20999u);
  EXPECT_TRUE(sip.sip_allow.empty());
  EXPECT_EQ(sip.sip_realm, "clawvoice");
  EXPECT_TRUE(sip.sip_users.empty());
  EXPECT_EQ(sip.sip_rtp_timeout_seconds, 30u);
  EXPECT_EQ(sip.sip_answer_delay_ms, 0u);
}

TEST(SipConfig, EveryKeyIsRead)
{
  ScopedEnv pass("CV_TEST_SIP_PASS", "bob-password-1");
  Parsed p = parse(R"({ "routes": { "sip": {
    "listen": "0.0.0.0:5070", "public_address": "203.0.113.5", "rtp_port_min": 30000, "rtp_port_max": 30009,
    "allow": ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"], "realm": "voice.example.com",
    "users": { "alice": "alice-password", "bob": "${CV_TEST_SIP_PASS}" },
    "rtp_timeout_seconds": 12, "answer_delay_ms": 1500 } } })");
  ASSERT_TRUE(p.config) << p.all();
  const RouteConfig &sip = p.config->routes.at("sip");
  EXPECT_EQ(sip.sip_listen.to_string(), "0.0.0.0:5070");
  EXPECT_EQ(sip.sip_public_address, "203.0.113.5");
  EXPECT_EQ(sip.sip_rtp_port_min, 30000u);
  EXPECT_EQ(sip.sip_rtp_port_max, 30009u);
  EXPECT_EQ(sip.sip_allow, (std::vector<std::string>{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}));
  EXPECT_EQ(sip.sip_realm, "voice.example.com");
  ASSERT_EQ(sip.sip_users.size(), 2u);
  EXPECT_EQ(sip.sip_users.at("bob"), "bob-password-1");
  EXPECT_EQ(sip.sip_rtp_timeout_seconds, 12u);
  EXPECT_EQ(sip.sip_answer_delay_ms, 1500u);
}

TEST(SipConfig, BadValuesNameTheirKey)
{
  struct Case { const char *section; const char *key; const char *says; };
  const Case cases[] = {
    {R"("listen": "nowhere")", "routes.sip.listen", ""},
    {R"("public_address": "0.0.0.0")", "routes.sip.public_address", "callers can send to"},
    {R"("public_address": "voice.example.com")", "routes.sip.public_address", "not an IP address"},
    {R"("rtp_port_min": 80)", "routes.sip.rtp_port_min", "from 1024"},
    {R"("rtp_port_min": 30010, "rtp_port_max": 30000)", "routes.sip.rtp_port_max", "below rtp_port_min"},
    {R"("allow": ["10.0.0.0/40"])", "routes.sip.allow[0]", "CIDR"},
    {R"("allow": [7])", "routes.sip.allow[0]", "expected a string"},
    {R"("allow": "10.0.0.0/8")", "routes.sip.allow", "expected"},
    {R"("realm": "a\"b")", "routes.sip.realm", "quotes"},
    {R"("users": { "al ice": "long-enough-pw" })", "routes.sip.users.al ice", "SIP user name"},
    {R"("users": { "alice": 12345678 })", "routes.sip.users.alice", "password string"},
    {R"("rtp_timeout_seconds": 0)", "routes.sip.rtp_timeout_seconds", "from 1"},
    {R"("answer_delay_ms": 60000)", "routes.sip.answer_delay_ms", "to 30000"},
    {R"("transport": "tcp")", "routes.sip.transport", "unknown key"},
  };
  for (const Case &c : cases) {
    Parsed p = parse(std::string(R"({ "routes": { "sip": { )") + c.section + " } } }");
    EXPECT_FALSE(p.config) << c.section;
    launcher::ConfigError e = p.only(c.key);
    EXPECT_NE(e.message.find(c.says), std::string::npos) << c.section << " → " << e.to_string();
  }
}

TEST(SipConfig, AShortPasswordIsRefusedWithoutBeingEchoed)
{
  Parsed p = parse(R"({ "routes": { "sip": { "users": { "alice": "s3cr" } } } })");
  EXPECT_FALSE(p.config);
  launcher::ConfigError e = p.only("routes.sip.users.alice");
  EXPECT_EQ(e.to_string().find("s3cr"), std::string::npos) << e.to_string();
}

TEST(SipConfig, SipKeysBelongToTheSipRouteOnly)
{
  Parsed p = parse(R"({ "routes": { "twilio": { "auth_token": "tok", "rtp_port_min": 30000 } } })");
  EXPECT_FALSE(p.config);
  p.only("routes.twilio.rtp_port_min");
}

}  // namespace
}  // namespace clawvoice::test
