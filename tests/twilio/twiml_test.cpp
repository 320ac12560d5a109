/* The <Connect><Stream> TwiML: shape, escaping, and the URLs Twilio would refuse. */
#include <gtest/gtest.h>

#include "twilio/twiml.h"

using namespace clawvoice::twilio;

TEST(TwilioTwiml, ConnectStreamWithParameters)
{
  ConnectStream stream;
  stream.url = "wss://voice.example.com/voice/stream";
  stream.status_callback = "https://voice.example.com/status";
  stream.parameters = {{"token", "t0k\"<&>'"}, {"caller", "+15551234567"}};
  std::string twiml, error;
  ASSERT_TRUE(build_connect_stream_twiml(stream, &twiml, &error)) << error;
  EXPECT_EQ(twiml,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>"
      "<Stream url=\"wss://voice.example.com/voice/stream\" statusCallback=\"https://voice.example.com/status\">"
      "<Parameter name=\"token\" value=\"t0k&quot;&lt;&amp;&gt;&apos;\"/>"
      "<Parameter name=\"caller\" value=\"+15551234567\"/>"
      "</Stream></Connect></Response>");
}

TEST(TwilioTwiml, MinimalStream)
{
  ConnectStream stream;
  stream.url = "wss://h/s";
  std::string twiml, error;
  ASSERT_TRUE(build_connect_stream_twiml(stream, &twiml, &error)) << error;
  EXPECT_EQ(twiml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"wss://h/s\"/>"
                   "</Connect></Response>");
}

TEST(TwilioTwiml, InsecureSchemesOnlyOnLoopback)
{
  std::string twiml, error;
  for (const char *ok : {"ws://127.0.0.1:8080/voice/stream", "ws://localhost/voice/stream", "ws://[::1]:9/x"}) {
    ConnectStream s;
    s.url = ok;
    s.status_callback = "http://127.0.0.1:8080/status";
    EXPECT_TRUE(build_connect_stream_twiml(s, &twiml, &error)) << ok << ": " << error;
  }
  ConnectStream s;
  s.url = "ws://voice.example.com/voice/stream";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error));
  EXPECT_NE(error.find("wss"), std::string::npos) << error;
  s.url = "https://voice.example.com/voice/stream";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error)) << "not a WebSocket URL";
  s.url = "wss://voice.example.com/s";
  s.status_callback = "http://voice.example.com/status";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error)) << "plain http callback off loopback";
}

TEST(TwilioTwiml, RefusesWhatTwilioRefuses)
{
  std::string twiml = "unchanged", error;
  ConnectStream s;
  s.url = "wss://voice.example.com/voice/stream?token=abc";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error));
  EXPECT_NE(error.find("31920"), std::string::npos) << error;
  EXPECT_EQ(twiml, "unchanged") << "nothing written on error";
  s.url = "wss://voice.example.com/voice/stream?";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error)) << "even an empty query";
  s.url = "wss://voice.example.com/s#frag";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error));
  s.url = "not a url";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error));
  s.url = "wss:///nohost";
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error));
  s.url = "wss://h/s";
  s.parameters = {{"", "x"}};
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error)) << "empty parameter name";
  s.parameters = {{"a", "1"}, {"a", "2"}};
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error)) << "repeated name";
  s.parameters = {{"a", std::string("bell\x07")}};
  EXPECT_FALSE(build_connect_stream_twiml(s, &twiml, &error)) << "control character";
}
