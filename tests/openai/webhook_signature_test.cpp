/* Standard Webhooks signatures: the spec's own test vector, and every way a webhook is refused. */
#include <gtest/gtest.h>

#include "openai/webhook_signature.h"

using namespace clawvoice::openai;

namespace {

/* The test vector of the Standard Webhooks specification (and its reference libraries). */
const char kSpecSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const char kSpecId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const int64_t kSpecTimestamp = 1614265330;
const char kSpecBody[] = "{\"test\": 2432232314}";
const char kSpecSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

WebhookSecret spec_secret()
{
  WebhookSecret secret;
  std::string why;
  EXPECT_TRUE(WebhookSecret::parse(kSpecSecret, &secret, &why)) << why;
  return secret;
}

WebhookHeaders spec_headers(const std::string &signature = kSpecSignature)
{
  return {kSpecId, std::to_string(kSpecTimestamp), signature};
}

}  // namespace

TEST(WebhookSignature, SignsTheSpecVector)
{
  EXPECT_EQ(sign_webhook(spec_secret(), kSpecId, kSpecTimestamp, kSpecBody), kSpecSignature);
}

TEST(WebhookSignature, VerifiesTheSpecVector)
{
  EXPECT_EQ(verify_webhook(spec_secret(), spec_headers(), kSpecBody, kSpecTimestamp), WebhookVerdict::Valid);
}

TEST(WebhookSignature, SecretWithoutPrefixIsTheSameKey)
{
  WebhookSecret bare;
  std::string why;
  ASSERT_TRUE(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &bare, &why));
  EXPECT_EQ(verify_webhook(bare, spec_headers(), kSpecBody, kSpecTimestamp), WebhookVerdict::Valid);
}

TEST(WebhookSignature, AnyOfSeveralSignaturesIsEnough)
{
  /* A sender rotating its secret signs with both; unknown versions are skipped. */
  std::string list = std::string("v1a,abc v1,bm90IHRoaXMgb25l ") + kSpecSignature;
  EXPECT_EQ(verify_webhook(spec_secret(), spec_headers(list), kSpecBody, kSpecTimestamp), WebhookVerdict::Valid);
}

TEST(WebhookSignature, TamperedBodyIdOrTimestampFails)
{
  WebhookSecret secret = spec_secret();
  EXPECT_EQ(verify_webhook(secret, spec_headers(), "{\"test\": 2432232315}", kSpecTimestamp),
            WebhookVerdict::NoValidSignature);
  WebhookHeaders other_id = spec_headers();
  other_id.id = "msg_other";
  EXPECT_EQ(verify_webhook(secret, other_id, kSpecBody, kSpecTimestamp), WebhookVerdict::NoValidSignature);
  WebhookHeaders other_time = spec_headers();
  other_time.timestamp = std::to_string(kSpecTimestamp + 1);
  EXPECT_EQ(verify_webhook(secret, other_time, kSpecBody, kSpecTimestamp), WebhookVerdict::NoValidSignature);
}

TEST(WebhookSignature, WrongSecretFails)
{
  WebhookSecret other;
  std::string why;
  ASSERT_TRUE(WebhookSecret::parse(generate_webhook_secret(), &other, &why));
  EXPECT_EQ(verify_webhook(other, spec_headers(), kSpecBody, kSpecTimestamp), WebhookVerdict::NoValidSignature);
}

TEST(WebhookSignature, SignatureWithoutVersionOrTruncatedFails)
{
  WebhookSecret secret = spec_secret();
  std::string bare = std::string(kSpecSignature).substr(3);   /* no "v1," */
  EXPECT_EQ(verify_webhook(secret, spec_headers(bare), kSpecBody, kSpecTimestamp), WebhookVerdict::NoValidSignature);
  std::string cut = std::string(kSpecSignature).substr(0, 20);
  EXPECT_EQ(verify_webhook(secret, spec_headers(cut), kSpecBody, kSpecTimestamp), WebhookVerdict::NoValidSignature);
}

TEST(WebhookSignature, FiveMinuteTolerance)
{
  WebhookSecret secret = spec_secret();
  EXPECT_EQ(verify_webhook(secret, spec_headers(), kSpecBody, kSpecTimestamp + 300), WebhookVerdict::Valid);
  EXPECT_EQ(verify_webhook(secret, spec_headers(), kSpecBody, kSpecTimestamp - 300), WebhookVerdict::Valid);
  EXPECT_EQ(verify_webhook(secret, spec_headers(), kSpecBody, kSpecTimestamp + 301), WebhookVerdict::TimestampTooOld);
  EXPECT_EQ(verify_webhook(secret, spec_headers(), kSpecBody, kSpecTimestamp - 301), WebhookVerdict::TimestampTooNew);
}

TEST(WebhookSignature, MissingOrMalformedHeaders)
{
  WebhookSecret secret = spec_secret();
  WebhookHeaders h = spec_headers();
  h.id.clear();
  EXPECT_EQ(verify_webhook(secret, h, kSpecBody, kSpecTimestamp), WebhookVerdict::MissingHeaders);
  h = spec_headers("");
  EXPECT_EQ(verify_webhook(secret, h, kSpecBody, kSpecTimestamp), WebhookVerdict::MissingHeaders);
  h = spec_headers();
  h.timestamp = "1614265330.5";
  EXPECT_EQ(verify_webhook(secret, h, kSpecBody, kSpecTimestamp), WebhookVerdict::BadTimestamp);
  h.timestamp = "-5";
  EXPECT_EQ(verify_webhook(secret, h, kSpecBody, kSpecTimestamp), WebhookVerdict::BadTimestamp);
}

TEST(WebhookSignature, BadSecretsAreRefused)
{
  WebhookSecret secret;
  std::string why;
  EXPECT_FALSE(WebhookSecret::parse("whsec_", &secret, &why));
  EXPECT_FALSE(WebhookSecret::parse("whsec_not base64!", &secret, &why));
  EXPECT_EQ(why.find("not base64"), std::string::npos) << "the error must not quote the secret";
  EXPECT_EQ(verify_webhook(WebhookSecret{}, spec_headers(), kSpecBody, kSpecTimestamp), WebhookVerdict::MissingHeaders);
}

TEST(WebhookSignature, GeneratedSecretsAreFreshAndUsable)
{
  std::string a = generate_webhook_secret(), b = generate_webhook_secret();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("whsec_", 0), 0u);
  WebhookSecret secret;
  std::string why;
  ASSERT_TRUE(WebhookSecret::parse(a, &secret, &why));
  EXPECT_EQ(secret.key().size(), 32u);
  std::string sig = sign_webhook(secret, "wh_1", 1700000000, "{}");
  EXPECT_EQ(verify_webhook(secret, {"wh_1", "1700000000", sig}, "{}", 1700000010), WebhookVerdict::Valid);
}
