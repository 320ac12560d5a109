/* Media Streams messages: inbound parsed strictly, outbound exactly Twilio's members. */
#include <gtest/gtest.h>

#include "twilio/media_stream.h"

using namespace clawvoice::twilio;

namespace {

const char *kStart =
    R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1",)"
    R"("tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},)"
    R"("customParameters":{"token":"abc","caller":"+15551234567"}},"streamSid":"MZ1"})";

template <typename T>
T get(const InboundParse &p)
{
  EXPECT_EQ(p.status, ParseStatus::Ok) << p.error;
  if (!p.message || !std::holds_alternative<T>(*p.message)) {
    ADD_FAILURE() << "wrong message type for " << p.event;
    return T{};
  }
  return std::get<T>(*p.message);
}

}  // namespace

TEST(TwilioMediaStream, ParsesEveryInboundEventOfTheReference)
{
  auto connected = get<ConnectedMessage>(parse_inbound(R"({"event":"connected","protocol":"Call","version":"1.0.0"})"));
  EXPECT_EQ(connected.protocol, "Call");
  EXPECT_EQ(connected.version, "1.0.0");

  auto start = get<StartMessage>(parse_inbound(kStart));
  EXPECT_EQ(start.sequence_number, 1u);
  EXPECT_EQ(start.stream_sid, "MZ1");
  EXPECT_EQ(start.account_sid, "AC1");
  EXPECT_EQ(start.call_sid, "CA1");
  EXPECT_EQ(start.tracks, std::vector<std::string>{"inbound"});
  EXPECT_TRUE(start.media_format.is_mulaw_8k_mono());
  ASSERT_EQ(start.custom_parameters.size(), 2u);
  EXPECT_EQ(start.custom_parameters[0], (std::pair<std::string, std::string>{"token", "abc"}));
  EXPECT_EQ(start.custom_parameters[1].first, "caller") << "document order";

  auto media = get<MediaMessage>(parse_inbound(
      R"({"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"/38A"},"streamSid":"MZ1"})"));
  EXPECT_EQ(media.sequence_number, 4u);
  EXPECT_EQ(media.chunk, 2u);
  EXPECT_EQ(media.timestamp_ms, 5u);
  EXPECT_EQ(media.track, "inbound");
  EXPECT_EQ(media.payload, (std::vector<uint8_t>{0xFF, 0x7F, 0x00}));

  auto dtmf = get<DtmfMessage>(parse_inbound(
      R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"#"}})"));
  EXPECT_EQ(dtmf.digit, "#");
  EXPECT_EQ(dtmf.track, "inbound_track");

  auto mark = get<MarkMessage>(parse_inbound(
      R"({"event":"mark","sequenceNumber":"6","streamSid":"MZ1","mark":{"name":"resp-42"}})"));
  EXPECT_EQ(mark.name, "resp-42");

  auto stop = get<StopMessage>(parse_inbound(
      R"({"event":"stop","sequenceNumber":"7","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"})"));
  EXPECT_EQ(stop.call_sid, "CA1");
  EXPECT_EQ(stop.sequence_number, 7u);
}

TEST(TwilioMediaStream, InboundStrictness)
{
  EXPECT_EQ(parse_inbound("not json").status, ParseStatus::NotJson);
  EXPECT_EQ(parse_inbound("[1,2]").status, ParseStatus::NotJson);
  EXPECT_EQ(parse_inbound(R"({"event":"hello"})").status, ParseStatus::UnknownEvent);
  EXPECT_EQ(parse_inbound(R"({"type":"media"})").status, ParseStatus::UnknownEvent);
  struct Case { const char *why; const char *json; };
  const Case invalid[] = {
    {"numbers where Twilio sends strings",
     R"({"event":"media","sequenceNumber":4,"media":{"track":"inbound","chunk":"2","timestamp":"5","payload":""},"streamSid":"MZ1"})"},
    {"timestamp as a number",
     R"({"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":5,"payload":""},"streamSid":"MZ1"})"},
    {"non-digit chunk",
     R"({"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"-2","timestamp":"5","payload":""},"streamSid":"MZ1"})"},
    {"payload not strict base64",
     R"({"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"/38A!"},"streamSid":"MZ1"})"},
    {"payload missing",
     R"({"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5"},"streamSid":"MZ1"})"},
    {"no streamSid", R"({"event":"mark","sequenceNumber":"6","mark":{"name":"x"}})"},
    {"sampleRate as a string",
     R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":1}},"streamSid":"MZ1"})"},
    {"streamSid mismatch",
     R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ2"})"},
    {"custom parameter not a string",
     R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"n":1}},"streamSid":"MZ1"})"},
    {"two-character digit", R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"12"}})"},
    {"stop without its body", R"({"event":"stop","sequenceNumber":"7","streamSid":"MZ1"})"},
  };
  for (const Case &c : invalid) {
    InboundParse p = parse_inbound(c.json);
    EXPECT_EQ(p.status, ParseStatus::Invalid) << c.why;
    EXPECT_FALSE(p.message) << c.why;
    EXPECT_FALSE(p.error.empty()) << c.why;
  }
  /* Members Twilio may add are tolerated; a start without customParameters has none. */
  auto start = get<StartMessage>(parse_inbound(
      R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound","outbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"future":true},"streamSid":"MZ1","extra":1})"));
  EXPECT_TRUE(start.custom_parameters.empty());
  EXPECT_EQ(start.tracks.size(), 2u);
}

TEST(TwilioMediaStream, OutboundIsExactlyTwiliosShape)
{
  const uint8_t audio[] = {0xFF, 0x7F, 0x00};
  EXPECT_EQ(build_media("MZ1", audio, 3), R"({"event":"media","streamSid":"MZ1","media":{"payload":"/38A"}})");
  EXPECT_EQ(build_mark("MZ1", "cv-1-\"x\""), R"({"event":"mark","streamSid":"MZ1","mark":{"name":"cv-1-\"x\""}})");
  EXPECT_EQ(build_clear("MZ1"), R"({"event":"clear","streamSid":"MZ1"})");

  OutboundParse media = parse_outbound(build_media("MZ1", audio, 3));
  ASSERT_TRUE(media.ok) << media.error;
  EXPECT_EQ(media.message.kind, OutboundMessage::Kind::Media);
  EXPECT_EQ(media.message.payload, std::vector<uint8_t>(audio, audio + 3));
  OutboundParse mark = parse_outbound(build_mark("MZ1", "n\\1"));
  ASSERT_TRUE(mark.ok) << mark.error;
  EXPECT_EQ(mark.message.name, "n\\1");
  EXPECT_TRUE(parse_outbound(build_clear("MZ9")).ok);

  /* What Twilio answers with 31951. */
  EXPECT_FALSE(parse_outbound(R"({"event":"media","streamSid":"MZ1","media":{"payload":"/38A","timestamp":"5"}})").ok);
  EXPECT_FALSE(parse_outbound(R"({"event":"media","streamSid":"MZ1","media":{"payload":"/38A"},"sequenceNumber":"1"})").ok);
  EXPECT_FALSE(parse_outbound(R"({"event":"clear","streamSid":"MZ1","all":true})").ok);
  EXPECT_FALSE(parse_outbound(R"({"event":"mark","streamSid":"MZ1","mark":{"name":1}})").ok);
  EXPECT_FALSE(parse_outbound(R"({"event":"media","media":{"payload":"/38A"}})").ok);
  EXPECT_FALSE(parse_outbound(R"({"event":"media","streamSid":"MZ1","media":{"payload":"/38"}})").ok);
  EXPECT_FALSE(parse_outbound(R"({"event":"stop","streamSid":"MZ1"})").ok);
}

TEST(TwilioMediaStream, InboundBuildersRoundTrip)
{
  StartMessage start;
  start.sequence_number = 1;
  start.stream_sid = "MZ\"1";
  start.account_sid = "AC1";
  start.call_sid = "CA1";
  start.tracks = {"inbound"};
  start.media_format = {"audio/x-mulaw", 8000, 1};
  start.custom_parameters = {{"token", "a&b"}, {"x", "ü"}};
  auto back = get<StartMessage>(parse_inbound(build_start(start)));
  EXPECT_EQ(back.stream_sid, start.stream_sid);
  EXPECT_EQ(back.custom_parameters, start.custom_parameters);
  EXPECT_TRUE(back.media_format.is_mulaw_8k_mono());

  MediaMessage media;
  media.sequence_number = 9;
  media.stream_sid = "MZ1";
  media.track = "inbound";
  media.chunk = 7;
  media.timestamp_ms = 120;
  media.payload.assign(160, 0xFF);
  auto m = get<MediaMessage>(parse_inbound(build_inbound_media(media)));
  EXPECT_EQ(m.timestamp_ms, 120u);
  EXPECT_EQ(m.chunk, 7u);
  EXPECT_EQ(m.payload, media.payload);

  auto d = get<DtmfMessage>(parse_inbound(build_dtmf({5, "MZ1", "inbound_track", "7"})));
  EXPECT_EQ(d.digit, "7");
  auto k = get<MarkMessage>(parse_inbound(build_mark_echo({6, "MZ1", "cv-0-20000"})));
  EXPECT_EQ(k.name, "cv-0-20000");
  auto s = get<StopMessage>(parse_inbound(build_stop({7, "MZ1", "AC1", "CA1"})));
  EXPECT_EQ(s.account_sid, "AC1");
  auto c = get<ConnectedMessage>(parse_inbound(build_connected()));
  EXPECT_EQ(c.protocol, "Call");
}
