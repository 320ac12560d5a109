/* The browser route's config keys (docs/browser.md, docs/config.md). */
#include "config_test_support.h"

using namespace clawvoice::test;

TEST(BrowserRouteConfig, EveryKeyIsRead)
{
  Parsed p = parse(R"({"routes": {"browser": {
      "stun_urls": ["stun:stun.example.org:3478"],
      "turn_urls": ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"],
      "turn_secret": "0123456789abcdef0123", "turn_ttl_seconds": 600,
      "api_token": "fedcba9876543210fedc", "allowed_origins": ["https://voice.example.org/"],
      "token_ttl_seconds": 20, "ice_addresses": ["127.0.0.1", "::1"], "web_root": "www"}}})");
  ASSERT_TRUE(p.config) << p.all();
  const auto &b = p.config->routes.at("browser");
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.stun_urls, std::vector<std::string>{"stun:stun.example.org:3478"});
  EXPECT_EQ(b.turn_urls.size(), 2u);
  EXPECT_EQ(b.turn_secret, "0123456789abcdef0123");
  EXPECT_EQ(b.turn_ttl_seconds, 600u);
  EXPECT_EQ(b.api_token, "fedcba9876543210fedc");
  EXPECT_EQ(b.allowed_origins, std::vector<std::string>{"https://voice.example.org"});
  EXPECT_EQ(b.token_ttl_seconds, 20u);
  EXPECT_EQ(b.ice_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(b.web_root, config_data_dir() + "/www");
  EXPECT_EQ(b.launch_path, p.config->pipelines_dir + "/browser.launch");
  /* Secrets are masked when the config is described for logs. */
  std::string described = clawvoice::launcher::describe_config(*p.config);
  EXPECT_EQ(described.find("0123456789abcdef0123"), std::string::npos);
  EXPECT_EQ(described.find("fedcba9876543210fedc"), std::string::npos);
}

TEST(BrowserRouteConfig, BadValuesNameTheirKey)
{
  EXPECT_NE(parse(R"({"routes": {"browser": {"stun_urls": ["http://x"]}}})").only("routes.browser.stun_urls[0]").message.find("stun:"), std::string::npos);
  EXPECT_NE(parse(R"({"routes": {"browser": {"ice_addresses": ["localhost"]}}})").only("routes.browser.ice_addresses[0]").message.find("not an IP"), std::string::npos);
  EXPECT_NE(parse(R"({"routes": {"browser": {"allowed_origins": ["https://x.org/app"]}}})").only("routes.browser.allowed_origins[0]").message.find("not an origin"), std::string::npos);
  EXPECT_NE(parse(R"({"routes": {"browser": {"turn_urls": ["turn:x:3478"]}}})").only("routes.browser.turn_secret").message.find("required with turn_urls"), std::string::npos);
  parse(R"({"routes": {"browser": {"turn_secret": "short"}}})").only("routes.browser.turn_secret");
  parse(R"({"routes": {"browser": {"token_ttl_seconds": 1}}})").only("routes.browser.token_ttl_seconds");
  parse(R"({"routes": {"browser": {"stun_urls": "stun:x"}}})").only("routes.browser.stun_urls");
  /* Browser keys belong to the browser route only. */
  parse(R"({"routes": {"twilio": {"auth_token": "t", "stun_urls": []}}})").only("routes.twilio.stun_urls");
}

TEST(BrowserRouteConfig, TheEmbeddedDefaultEnablesIt)
{
  clawvoice::launcher::Config c = clawvoice::launcher::default_config(config_data_dir());
  EXPECT_TRUE(c.routes.at("browser").enabled);
  EXPECT_TRUE(c.routes.at("browser").turn_urls.empty());
}
