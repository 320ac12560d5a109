/* The strict TwiML reader: the expected shape passes, every deviation gets Twilio's code. */
#include <gtest/gtest.h>

#include "twiml.h"

namespace clawvoice::test::twilio_emu {
namespace {

TEST(Twiml, ReadsTheExpectedShape)
{
  TwimlResult r = parse_connect_stream_twiml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Response>\n  <Connect>\n    <Stream url=\"wss://example.com/voice/stream\" "
      "statusCallback=\"https://example.com/status\">\n"
      "      <Parameter name=\"token\" value=\"abc&amp;123\"/>\n"
      "      <Parameter name=\"caller\" value=\"+1555\"/>\n"
      "    </Stream>\n  </Connect>\n  <Hangup/>\n</Response>\n");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.stream.url, "wss://example.com/voice/stream");
  EXPECT_EQ(r.stream.status_callback, "https://example.com/status");
  ASSERT_EQ(r.stream.parameters.size(), 2u);
  EXPECT_EQ(r.stream.parameters[0], (std::pair<std::string, std::string>("token", "abc&123")));
  EXPECT_EQ(r.stream.parameters[1].second, "+1555");
  EXPECT_EQ(r.stream.verbs_after_connect, std::vector<std::string>{"Hangup"});
}

TEST(Twiml, QueryStringInStreamUrlIs31920)
{
  TwimlResult r = parse_connect_stream_twiml(
      "<Response><Connect><Stream url=\"wss://h/voice/stream?token=1\"/></Connect></Response>");
  EXPECT_TRUE(r.has_error(31920)) << r.describe();
  EXPECT_EQ(r.errors.size(), 1u) << r.describe();
}

TEST(Twiml, PlainWsOnlyForLoopbackAndOnlyWhenAllowed)
{
  const std::string local =
      "<Response><Connect><Stream url=\"ws://127.0.0.1:8080/voice/stream\"/></Connect></Response>";
  EXPECT_TRUE(parse_connect_stream_twiml(local).has_error(31922));
  TwimlOptions allow;
  allow.allow_ws_loopback = true;
  EXPECT_TRUE(parse_connect_stream_twiml(local, allow).ok());
  EXPECT_TRUE(parse_connect_stream_twiml(
                  "<Response><Connect><Stream url=\"ws://example.com/s\"/></Connect></Response>", allow)
                  .has_error(31922));
  EXPECT_TRUE(parse_connect_stream_twiml(
                  "<Response><Connect><Stream url=\"https://example.com/s\"/></Connect></Response>",
                  allow)
                  .has_error(31922));
}

TEST(Twiml, MalformedDocumentIs12100)
{
  EXPECT_TRUE(parse_connect_stream_twiml("<Response><Connect>").has_error(12100));
  EXPECT_TRUE(parse_connect_stream_twiml("").has_error(12100));
  EXPECT_TRUE(parse_connect_stream_twiml("not xml at all").has_error(12100));
}

TEST(Twiml, SchemaViolationsAre12200)
{
  struct Case {
    const char *xml;
    const char *why;
  } cases[] = {
      {"<Reply><Connect><Stream url=\"wss://h/s\"/></Connect></Reply>", "wrong root"},
      {"<Response><Say>hi</Say><Connect><Stream url=\"wss://h/s\"/></Connect></Response>",
       "verb before Connect"},
      {"<Response><Connect><Stream/></Connect></Response>", "no url"},
      {"<Response><Connect><Stream url=\"wss://h/s\" bogus=\"1\"/></Connect></Response>",
       "unknown attribute"},
      {"<Response><Connect><Stream url=\"wss://h/s\"><Param name=\"a\" value=\"b\"/></Stream>"
       "</Connect></Response>",
       "unknown child"},
      {"<Response><Connect><Stream url=\"wss://h/s\"><Parameter name=\"a\"/></Stream>"
       "</Connect></Response>",
       "Parameter without value"},
      {"<Response><Connect><Stream url=\"wss://h/s\"/><Stream url=\"wss://h/t\"/></Connect>"
       "</Response>",
       "two streams"},
      {"<Response><Connect>text<Stream url=\"wss://h/s\"/></Connect></Response>", "stray text"},
      {"<Response><Connect><Stream url=\"wss://h/s\" track=\"both_tracks\"/></Connect></Response>",
       "track not allowed under Connect"},
      {"<Response><Connect><Stream url=\"wss://h/s\" statusCallback=\"/status\"/></Connect>"
       "</Response>",
       "relative statusCallback"},
      {"<Response></Response>", "no Connect"},
      {"<Response><Connect><Stream url=\"wss://h/s\"/></Connect><Dance/></Response>",
       "unknown verb after"},
  };
  for (const auto &c : cases)
    EXPECT_TRUE(parse_connect_stream_twiml(c.xml).has_error(12200)) << c.why;
}

}  // namespace
}  // namespace clawvoice::test::twilio_emu
