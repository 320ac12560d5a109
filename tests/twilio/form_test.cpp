/* application/x-www-form-urlencoded: strict decoding, order and repeated keys kept. */
#include <gtest/gtest.h>

#include "twilio/form.h"
#include "twilio/signature.h"

using namespace clawvoice::twilio;

TEST(TwilioForm, ParsesAWebhookBody)
{
  std::string error;
  auto form = parse_form("AccountSid=AC123&CallSid=CA456&From=%2B15551234567&To=%2B15557654321"
                         "&CallStatus=ringing&Direction=inbound&CallerName=Jane+Doe", &error);
  ASSERT_TRUE(form) << error;
  EXPECT_EQ(form->fields().size(), 7u);
  EXPECT_EQ(form->get("From"), "+15551234567");
  EXPECT_EQ(form->get("CallerName"), "Jane Doe");
  EXPECT_EQ(form->fields()[0].first, "AccountSid") << "order kept";
  EXPECT_FALSE(form->get("Missing"));
  EXPECT_EQ(form->get_or("Missing", "x"), "x");
}

TEST(TwilioForm, RepeatedKeysEmptyPairsAndBareKeys)
{
  auto form = parse_form("StatusCallbackEvent=ringing&&StatusCallbackEvent=answered&Flag&Empty=");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->get_all("StatusCallbackEvent"), (std::vector<std::string>{"ringing", "answered"}));
  EXPECT_EQ(form->get("StatusCallbackEvent"), "ringing") << "get() is the first value";
  EXPECT_TRUE(form->has("Flag"));
  EXPECT_EQ(form->get("Flag"), "");
  EXPECT_EQ(form->get("Empty"), "");
  EXPECT_EQ(form->fields().size(), 4u);
  auto empty = parse_form("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(TwilioForm, PercentDecodingIsStrict)
{
  auto utf8 = parse_form("Body=caf%C3%A9+%26+cr%C3%AApe%3D%25");
  ASSERT_TRUE(utf8);
  EXPECT_EQ(utf8->get("Body"), "café & crêpe=%");
  std::string error;
  EXPECT_FALSE(parse_form("a=%G1", &error));
  EXPECT_NE(error.find("percent"), std::string::npos) << error;
  EXPECT_FALSE(parse_form("a=%4", &error)) << "truncated escape";
  EXPECT_FALSE(parse_form("a=1&b=%", &error)) << "lone percent";
  EXPECT_NE(error.find("byte 6"), std::string::npos) << "says where: " << error;
  EXPECT_FALSE(parse_form("a%zz=1", &error)) << "bad escape in a key";
  EXPECT_FALSE(parse_form("a=%FF%FE", &error)) << "not UTF-8";
}

TEST(TwilioForm, EncodeRoundTripsAndSignsTheSame)
{
  Form form;
  form.add("To", "+1 555 000");
  form.add("Twiml", "<Response><Say>Hi & bye</Say></Response>");
  form.add("StatusCallbackEvent", "answered");
  form.add("StatusCallbackEvent", "completed");
  std::string body = form.encode();
  EXPECT_EQ(body.find(' '), std::string::npos);
  EXPECT_NE(body.find("To=%2B1+555+000"), std::string::npos) << body;
  auto back = parse_form(body);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fields(), form.fields());
  EXPECT_EQ(compute_signature("k", "https://h/v", back->fields()), compute_signature("k", "https://h/v", form.fields()));
}
