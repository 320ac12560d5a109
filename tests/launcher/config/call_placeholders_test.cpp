/* Per-call placeholders in property values. */
#include <gtest/gtest.h>

#include "call_placeholders.h"

using namespace clawvoice::launcher;

namespace {

CallInfo a_call()
{
  CallInfo call;
  call.id = "CA42";
  call.caller = "+15551234567";
  call.route = "twilio";
  call.params = {{"lang", "fr"}, {"user.id", "u-7"}};
  return call;
}

TEST(CallPlaceholders, KnownFormsValidateAndExpand)
{
  const std::string value = "call {call.id} from {call.caller} via {call.route}, lang={call.param.lang} "
                            "user={call.param.user.id}";
  std::string error;
  EXPECT_TRUE(validate_call_placeholders(value, &error)) << error;
  EXPECT_EQ(expand_call_placeholders(value, a_call()),
            "call CA42 from +15551234567 via twilio, lang=fr user=u-7");
}

TEST(CallPlaceholders, AMissingParameterBecomesEmpty)
{
  EXPECT_EQ(expand_call_placeholders("[{call.param.absent}]", a_call()), "[]");
  EXPECT_EQ(expand_call_placeholders("[{call.param.absent}]", a_call(), "0"), "[0]");
  EXPECT_EQ(expand_call_placeholders("[{call.param.lang}]", a_call(), "0"), "[fr]");
}

TEST(CallPlaceholders, OtherBracesAreLeftAlone)
{
  const std::string caps = "audio/x-raw,format={ S16LE, F32LE } {\"json\": true} {call}";
  std::string error;
  EXPECT_TRUE(validate_call_placeholders(caps, &error)) << error;
  EXPECT_EQ(expand_call_placeholders(caps, a_call()), caps);
}

TEST(CallPlaceholders, UnknownOrMalformedAreRefused)
{
  struct Case { const char *value; const char *says; };
  const Case cases[] = {
    {"{call.name}", "unknown placeholder '{call.name}'"},
    {"{call.param.}", "unknown placeholder '{call.param.}'"},
    {"{call.param.a b}", "unknown placeholder"},
    {"{call.ID}", "unknown placeholder"},
    {"hello {call.id", "has no closing '}'"},
  };
  for (const Case &c : cases) {
    std::string error;
    EXPECT_FALSE(validate_call_placeholders(c.value, &error)) << c.value;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.value << " → " << error;
  }
  /* An unvalidated value is left as written rather than half expanded. */
  EXPECT_EQ(expand_call_placeholders("{call.id} {call.nope}", a_call()), "{call.id} {call.nope}");
}

}  // namespace
