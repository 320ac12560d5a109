/* The signer and the form encoding against twilio.md's known vector. */
#include <gtest/gtest.h>

#include "form_params.h"
#include "signature.h"

namespace clawvoice::test::twilio_emu {
namespace {

const FormParams kVectorParams = {
    {"CallSid", "CA1234567890ABCDE"}, {"Caller", "+12349013030"}, {"Digits", "1234"},
    {"From", "+12349013030"},         {"To", "+18005551212"},
};
const char kVectorUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";

TEST(TwilioSignature, MatchesTheKnownVector)
{
  EXPECT_EQ(twilio_signature("12345", kVectorUrl, kVectorParams), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST(TwilioSignature, ParamOrderDoesNotMatterButEverythingElseDoes)
{
  FormParams shuffled(kVectorParams.rbegin(), kVectorParams.rend());
  EXPECT_EQ(twilio_signature("12345", kVectorUrl, shuffled), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  EXPECT_NE(twilio_signature("12346", kVectorUrl, kVectorParams), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  EXPECT_NE(twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", kVectorParams),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  FormParams changed = kVectorParams;
  changed[2].second = "1235";
  EXPECT_NE(twilio_signature("12345", kVectorUrl, changed), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

TEST(FormParams, EncodesLikeTwilioAndRoundTrips)
{
  FormParams params = {{"From", "+12349013030"}, {"Body", "hé & = ok"}, {"Empty", ""}};
  std::string body = form_encode(params);
  EXPECT_EQ(body, "From=%2B12349013030&Body=h%C3%A9+%26+%3D+ok&Empty=");
  FormParams back;
  ASSERT_TRUE(form_decode(body, &back));
  EXPECT_EQ(back, params);
  EXPECT_EQ(form_value(back, "From"), "+12349013030");
  EXPECT_EQ(form_value(back, "Missing"), "");
}

TEST(FormParams, RejectsABrokenEscape)
{
  FormParams out;
  EXPECT_FALSE(form_decode("a=%2", &out));
  EXPECT_FALSE(form_decode("a=%zz", &out));
  EXPECT_TRUE(form_decode("a=%41", &out));
  EXPECT_EQ(form_value(out, "a"), "A");
}

}  // namespace
}  // namespace clawvoice::test::twilio_emu
