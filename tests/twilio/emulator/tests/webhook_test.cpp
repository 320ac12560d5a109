/* Webhooks and status callbacks as a server receives them (a real SoupServer on 127.0.0.1). */
#include <gtest/gtest.h>

#include "signature.h"
#include "test_bridge.h"
#include "webhook.h"

namespace clawvoice::test::twilio_emu {
namespace {

const FormParams kVectorParams = {
    {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+12349013030"}, {"Digits", "1234"},
    {"From", "+12349013030"},         {"To", "+18005551212"},
};

TEST(Webhook, PostsASignedFormAndReturnsTheAnswer)
{
  TestBridge bridge;
  bridge.set_http_reply(200, "text/xml", "<Response/>");
  /* Posted to the local server, signed over the public URL, as behind a proxy. */
  HttpReply reply = post_voice_webhook(bridge.http_url("/voice"),
                                       "https://mycompany.com/myapp.php?foo=1&bar=2",
                                       kVectorParams, "12345");
  ASSERT_EQ(reply.error, "");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "text/xml");
  EXPECT_EQ(reply.body, "<Response/>");

  auto requests = bridge.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/voice");
  EXPECT_EQ(requests[0].content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].signature, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  FormParams body;
  ASSERT_TRUE(form_decode(requests[0].body, &body));
  EXPECT_EQ(body, kVectorParams);
}

TEST(Webhook, MissingAndWrongSignatures)
{
  TestBridge bridge;
  bridge.set_http_reply(403, "text/plain", "forbidden");
  HttpReply missing = post_voice_webhook(bridge.http_url("/voice"), "https://a/b", kVectorParams,
                                         "12345", Signing::Missing);
  EXPECT_EQ(missing.status, 403u);
  EXPECT_EQ(missing.body, "forbidden");
  HttpReply wrong = post_voice_webhook(bridge.http_url("/voice"), "https://a/b", kVectorParams,
                                       "12345", Signing::Wrong);
  EXPECT_EQ(wrong.status, 403u);

  post_voice_webhook(bridge.http_url("/voice"), "https://mycompany.com/myapp.php?foo=1&bar=2",
                     kVectorParams, "12345", Signing::Tampered);

  auto requests = bridge.requests();
  ASSERT_EQ(requests.size(), 3u);
  /* Tampered: the vector's signature over a body that no longer matches it. */
  EXPECT_EQ(requests[2].signature, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  FormParams tampered;
  ASSERT_TRUE(form_decode(requests[2].body, &tampered));
  EXPECT_NE(tampered, kVectorParams);
  EXPECT_EQ(tampered.size(), kVectorParams.size());
  EXPECT_FALSE(requests[0].has_signature);
  EXPECT_TRUE(requests[1].has_signature);
  EXPECT_FALSE(requests[1].signature.empty());
  EXPECT_NE(requests[1].signature, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST(Webhook, StandardParamsAndStatusCallback)
{
  CallIdentity call = CallIdentity::random();
  EXPECT_EQ(call.account_sid.size(), 34u);
  EXPECT_EQ(call.account_sid.substr(0, 2), "AC");
  EXPECT_EQ(call.call_sid.substr(0, 2), "CA");

  FormParams voice = voice_webhook_params(call);
  for (const char *key : {"AccountSid", "CallSid", "From", "To", "CallStatus", "Direction",
                          "ApiVersion", "Caller", "Called"})
    EXPECT_NE(form_value(voice, key), "") << key;
  EXPECT_EQ(form_value(voice, "CallSid"), call.call_sid);

  TestBridge bridge;
  bridge.set_http_reply(204, "text/plain", "");
  FormParams status = status_callback_params(call, "completed", 42);
  HttpReply reply = post_status_callback(bridge.http_url("/status"), "https://pub/status", status,
                                         "tok");
  EXPECT_EQ(reply.status, 204u);
  auto requests = bridge.requests();
  ASSERT_EQ(requests.size(), 1u);
  FormParams got;
  ASSERT_TRUE(form_decode(requests[0].body, &got));
  EXPECT_EQ(form_value(got, "CallStatus"), "completed");
  EXPECT_EQ(form_value(got, "CallDuration"), "42");
  EXPECT_EQ(form_value(got, "CallSid"), call.call_sid);
  EXPECT_EQ(requests[0].signature, twilio_signature("tok", "https://pub/status", got));
  EXPECT_EQ(form_value(status_callback_params(call, "ringing", 0), "CallDuration"), "");
}

TEST(Webhook, UnreachableServerIsATransportError)
{
  /* Port 1 on loopback: nothing listens there. */
  HttpReply reply = post_voice_webhook("http://127.0.0.1:1/voice", "https://a/b", kVectorParams, "t");
  EXPECT_EQ(reply.status, 0u);
  EXPECT_NE(reply.error, "");
}

}  // namespace
}  // namespace clawvoice::test::twilio_emu
