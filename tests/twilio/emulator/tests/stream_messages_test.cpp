/* The Media Streams messages: ours as Twilio sends them, the bridge's judged strictly. */
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include "stream_messages.h"

namespace clawvoice::test::twilio_emu {
namespace {

const std::string kSid = "MZ00000000000000000000000000000001";

JsonObject *parse(const std::string &text, JsonParser **parser)
{
  *parser = json_parser_new();
  EXPECT_TRUE(json_parser_load_from_data(*parser, text.c_str(), -1, nullptr)) << text;
  return json_node_get_object(json_parser_get_root(*parser));
}

TEST(StreamMessages, StartCarriesTheDocumentedFieldsAndCustomParameters)
{
  StreamIds ids{"AC1", "CA1", kSid};
  JsonParser *parser;
  JsonObject *o = parse(start_message(1, ids, {{"token", "t\"ok"}}), &parser);
  EXPECT_STREQ(json_object_get_string_member(o, "event"), "start");
  EXPECT_STREQ(json_object_get_string_member(o, "sequenceNumber"), "1");
  EXPECT_STREQ(json_object_get_string_member(o, "streamSid"), kSid.c_str());
  JsonObject *start = json_object_get_object_member(o, "start");
  EXPECT_STREQ(json_object_get_string_member(start, "accountSid"), "AC1");
  EXPECT_STREQ(json_object_get_string_member(start, "callSid"), "CA1");
  EXPECT_STREQ(json_object_get_string_member(start, "streamSid"), kSid.c_str());
  JsonArray *tracks = json_object_get_array_member(start, "tracks");
  ASSERT_EQ(json_array_get_length(tracks), 1u);
  EXPECT_STREQ(json_array_get_string_element(tracks, 0), "inbound");
  JsonObject *format = json_object_get_object_member(start, "mediaFormat");
  EXPECT_STREQ(json_object_get_string_member(format, "encoding"), "audio/x-mulaw");
  EXPECT_EQ(json_object_get_int_member(format, "sampleRate"), 8000);
  EXPECT_EQ(json_object_get_int_member(format, "channels"), 1);
  EXPECT_STREQ(json_object_get_string_member(json_object_get_object_member(start, "customParameters"),
                                             "token"),
               "t\"ok");
  g_object_unref(parser);
}

TEST(StreamMessages, MediaUsesStringsForNumbersAndCarriesThePayload)
{
  guint8 audio[160];
  for (int i = 0; i < 160; i++)
    audio[i] = i;
  JsonParser *parser;
  JsonObject *o = parse(media_message(4, 2, 40, audio, 160, kSid), &parser);
  EXPECT_STREQ(json_object_get_string_member(o, "sequenceNumber"), "4");
  JsonObject *media = json_object_get_object_member(o, "media");
  EXPECT_STREQ(json_object_get_string_member(media, "track"), "inbound");
  EXPECT_STREQ(json_object_get_string_member(media, "chunk"), "2");
  EXPECT_STREQ(json_object_get_string_member(media, "timestamp"), "40");
  gsize len = 0;
  guchar *decoded = g_base64_decode(json_object_get_string_member(media, "payload"), &len);
  ASSERT_EQ(len, 160u);
  EXPECT_EQ(memcmp(decoded, audio, 160), 0);
  g_free(decoded);
  g_object_unref(parser);
}

TEST(StreamMessages, ValidBridgeMessagesPass)
{
  std::string media = R"({"event":"media","streamSid":")" + kSid + R"(","media":{"payload":"AAEC"}})";
  BridgeMessage m = parse_bridge_message(media.data(), media.size(), kSid);
  ASSERT_EQ(m.kind, BridgeMessage::Kind::Media) << m.error;
  EXPECT_EQ(m.audio, (std::vector<guint8>{0, 1, 2}));

  std::string mark = R"({"event":"mark","streamSid":")" + kSid + R"(","mark":{"name":"resp-42"}})";
  m = parse_bridge_message(mark.data(), mark.size(), kSid);
  ASSERT_EQ(m.kind, BridgeMessage::Kind::Mark) << m.error;
  EXPECT_EQ(m.mark_name, "resp-42");

  std::string clear = R"({"streamSid":")" + kSid + R"(","event":"clear"})";
  m = parse_bridge_message(clear.data(), clear.size(), kSid);
  EXPECT_EQ(m.kind, BridgeMessage::Kind::Clear) << m.error;
}

TEST(StreamMessages, ViolationsGetTwiliosCodes)
{
  const std::string sid = R"("streamSid":")" + kSid + R"(")";
  struct Case {
    std::string text;
    int code;
    const char *why;
  } cases[] = {
      {"not json", kErrorInvalidMessage, "not JSON"},
      {"[1,2]", kErrorInvalidMessage, "not an object"},
      {"{" + sid + "}", kErrorInvalidMessage, "no event"},
      {R"({"event":"hello",)" + sid + "}", kErrorInvalidMessage, "unknown event"},
      {R"({"event":"clear",)" + sid + R"(,"extra":1})", kErrorInvalidMessage, "extra field"},
      {R"({"event":"clear","streamSid":"MZother"})", kErrorInvalidMessage, "wrong streamSid"},
      {R"({"event":"clear"})", kErrorInvalidMessage, "no streamSid"},
      {R"({"event":"media",)" + sid + R"(,"media":{"payload":"AAEC","timestamp":"5"}})",
       kErrorInvalidMessage, "outbound media with a timestamp"},
      {R"({"event":"media",)" + sid + R"(,"media":{"payload":"AA-C"}})", kErrorInvalidMessage,
       "payload not base64"},
      {R"({"event":"media",)" + sid + R"(,"media":{"payload":"AAE"}})", kErrorInvalidMessage,
       "payload with a broken length"},
      {R"({"event":"media",)" + sid + R"(,"media":{"payload":"UklGRiQAAABXQVZF"}})",
       kErrorFileHeader, "a RIFF/WAV header"},
      {R"({"event":"mark",)" + sid + R"(,"mark":{"name":7}})", kErrorInvalidMessage,
       "mark name not a string"},
      {R"({"event":"mark",)" + sid + R"(,"mark":{}})", kErrorInvalidMessage, "mark without name"},
      {R"({"event":"mark",)" + sid + R"(,"mark":"x"})", kErrorInvalidMessage, "mark not an object"},
  };
  for (const auto &c : cases) {
    BridgeMessage m = parse_bridge_message(c.text.data(), c.text.size(), kSid);
    EXPECT_EQ(m.kind, BridgeMessage::Kind::Invalid) << c.why;
    EXPECT_EQ(m.error_code, c.code) << c.why << ": " << m.error;
    EXPECT_FALSE(m.error.empty()) << c.why;
  }
}

TEST(StreamMessages, StrictBase64)
{
  std::vector<guint8> out;
  EXPECT_TRUE(strict_base64_decode("", 0, &out));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(strict_base64_decode("/w==", 4, &out));
  EXPECT_EQ(out, std::vector<guint8>{0xFF});
  EXPECT_TRUE(strict_base64_decode("AAEC", 4, &out));
  EXPECT_FALSE(strict_base64_decode("A=EC", 4, &out));
  EXPECT_FALSE(strict_base64_decode("AA==AAEC", 8, &out));
  EXPECT_FALSE(strict_base64_decode("AAE\n", 4, &out));
  EXPECT_FALSE(strict_base64_decode("AAE", 3, &out));
}

}  // namespace
}  // namespace clawvoice::test::twilio_emu
