/* X-Twilio-Signature: the known vector from Twilio's documentation, and what must not verify. */
#include <gtest/gtest.h>

#include "twilio/signature.h"

using namespace clawvoice::twilio;

namespace {

const std::string kToken = "12345";
const std::string kUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
const Params kParams = {
    {"To", "+18005551212"},   /* deliberately not sorted: the signature sorts */
    {"CallSid", "CA1234567890ABCDE"},
    {"Caller", "+12349013030"},
    {"Digits", "1234"},
    {"From", "+12349013030"},
};
const std::string kExpected = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

}  // namespace

TEST(TwilioSignature, KnownVector)
{
  EXPECT_EQ(compute_signature(kToken, kUrl, kParams), kExpected);
  EXPECT_TRUE(verify_signature(kToken, kUrl, kParams, kExpected));
}

TEST(TwilioSignature, ExplicitDefaultPortVerifiesBothWays)
{
  /* Signed without the port, checked against the URL with :443, and the other way round. */
  EXPECT_TRUE(verify_signature(kToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", kParams, kExpected));
  std::string signed_with_port = compute_signature(kToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", kParams);
  EXPECT_NE(signed_with_port, kExpected);
  EXPECT_TRUE(verify_signature(kToken, kUrl, kParams, signed_with_port));
  /* http uses :80. */
  std::string http = compute_signature(kToken, "http://example.org:80/voice", {});
  EXPECT_TRUE(verify_signature(kToken, "http://example.org/voice", {}, http));
}

TEST(TwilioSignature, UrlVariants)
{
  EXPECT_EQ(signature_url_variants("https://a.b/x?y=1"),
      (std::vector<std::string>{"https://a.b/x?y=1", "https://a.b:443/x?y=1"}));
  EXPECT_EQ(signature_url_variants("https://a.b:8443/x"),
      (std::vector<std::string>{"https://a.b:8443/x", "https://a.b/x"}));
  EXPECT_EQ(signature_url_variants("http://user@[::1]:8080"),
      (std::vector<std::string>{"http://user@[::1]:8080", "http://user@[::1]"}));
  EXPECT_EQ(signature_url_variants("HTTP://h"), (std::vector<std::string>{"HTTP://h", "HTTP://h:80"}));
  EXPECT_EQ(signature_url_variants("no-scheme"), (std::vector<std::string>{"no-scheme"}));
}

TEST(TwilioSignature, WhatMustNotVerify)
{
  EXPECT_FALSE(verify_signature("54321", kUrl, kParams, kExpected)) << "wrong token";
  Params tampered = kParams;
  tampered[3].second = "1235";
  EXPECT_FALSE(verify_signature(kToken, kUrl, tampered, kExpected)) << "tampered parameter";
  Params extra = kParams;
  extra.emplace_back("Extra", "");
  EXPECT_FALSE(verify_signature(kToken, kUrl, extra, kExpected)) << "added parameter";
  EXPECT_FALSE(verify_signature(kToken, "https://mycompany.com/myapp.php?foo=1&bar=3", kParams, kExpected));
  EXPECT_FALSE(verify_signature(kToken, "http://mycompany.com/myapp.php?foo=1&bar=2", kParams, kExpected))
      << "another scheme";
  EXPECT_FALSE(verify_signature(kToken, kUrl, kParams, "")) << "no header";
  EXPECT_FALSE(verify_signature("", kUrl, kParams, compute_signature("", kUrl, kParams))) << "no token configured";
  EXPECT_FALSE(verify_signature(kToken, kUrl, kParams, kExpected.substr(0, 27))) << "truncated";
  EXPECT_FALSE(verify_signature(kToken, kUrl, kParams, kExpected + "=")) << "longer";
}

TEST(TwilioSignature, RepeatedKeysSortByValue)
{
  /* StatusCallbackEvent is repeated; the order in the body must not matter. */
  Params a = {{"StatusCallbackEvent", "ringing"}, {"StatusCallbackEvent", "answered"}};
  Params b = {{"StatusCallbackEvent", "answered"}, {"StatusCallbackEvent", "ringing"}};
  EXPECT_EQ(compute_signature("t", "https://h/s", a), compute_signature("t", "https://h/s", b));
  /* The data signed is url + key + value for each, in order: check against a manual concatenation. */
  EXPECT_EQ(compute_signature("t", "https://h/s", a),
      compute_signature("t", "https://h/sStatusCallbackEventansweredStatusCallbackEvent", {{"ringing", ""}}));
}
