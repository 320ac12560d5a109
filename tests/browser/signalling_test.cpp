/* gst/webrtc: the browser signalling messages, TURN REST credentials and the offer check. */
#include <gtest/gtest.h>

#include "common/json.h"
#include "webrtc/sdp_offer.h"
#include "webrtc/signal_message.h"
#include "webrtc/turn_credentials.h"

using namespace clawvoice;
using namespace clawvoice::webrtc;

static const char *kChromiumOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n";

TEST(SignalMessage, ParsesOfferIceAndBye)
{
  BrowserParse offer = parse_browser_message(
      std::string("{\"type\":\"offer\",\"session_id\":\"call_1\",\"payload\":{\"type\":\"offer\",\"sdp\":") +
      json::to_string(json_node_init_string(json_node_alloc(), kChromiumOffer)) + "}}");
  ASSERT_TRUE(offer.message) << offer.error;
  EXPECT_EQ(offer.message->type, BrowserMessageType::Offer);
  EXPECT_EQ(offer.message->session_id, "call_1");
  EXPECT_EQ(offer.message->sdp, kChromiumOffer);

  BrowserParse ice = parse_browser_message(
      "{\"type\":\"ice\",\"session_id\":\"call_1\",\"payload\":{\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 5000 typ host\","
      "\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}");
  ASSERT_TRUE(ice.message) << ice.error;
  EXPECT_EQ(ice.message->ice.candidate, "candidate:1 1 udp 1 127.0.0.1 5000 typ host");
  EXPECT_EQ(ice.message->ice.sdp_mid, "0");
  EXPECT_EQ(ice.message->ice.sdp_mline_index, 0u);

  BrowserParse bye = parse_browser_message("{\"type\":\"bye\",\"session_id\":\"call_1\"}");
  ASSERT_TRUE(bye.message) << bye.error;
  EXPECT_EQ(bye.message->type, BrowserMessageType::Bye);
}

TEST(SignalMessage, RefusesWhatItCannotActOnWithAReason)
{
  struct Case { const char *text; const char *why; } cases[] = {
    {"{not json", "not JSON"},
    {"[1,2]", "not a JSON object"},
    {"{\"payload\":{}}", "no string \"type\""},
    {"{\"type\":\"dance\"}", "unknown message type \"dance\""},
    {"{\"type\":\"answer\",\"payload\":{\"sdp\":\"v=0\\r\\n\"}}", "unknown message type \"answer\""},
    {"{\"type\":\"offer\",\"payload\":{}}", "offer without payload.sdp"},
    {"{\"type\":\"offer\",\"payload\":{\"sdp\":\"hello\"}}", "not an SDP description"},
    {"{\"type\":\"offer\",\"payload\":[]}", "\"payload\" must be an object"},
    {"{\"type\":\"ice\",\"payload\":{\"candidate\":\"c\"}}", "sdpMLineIndex"},
    {"{\"type\":\"ice\",\"payload\":{\"candidate\":\"c\",\"sdpMLineIndex\":-1}}", "out of range"},
    {"{\"type\":\"ice\",\"payload\":{\"candidate\":5,\"sdpMLineIndex\":0}}", "payload.candidate"},
    {"{\"type\":\"bye\",\"session_id\":7}", "\"session_id\" must be a string"},
  };
  for (const Case &c : cases) {
    BrowserParse p = parse_browser_message(c.text);
    EXPECT_FALSE(p.message) << c.text;
    EXPECT_NE(p.error.find(c.why), std::string::npos) << c.text << " → " << p.error;
  }
  BrowserParse big = parse_browser_message(std::string(kMaxSignalMessageBytes + 1, ' '));
  EXPECT_FALSE(big.message);
  EXPECT_NE(big.error.find("too large"), std::string::npos);
}

TEST(SignalMessage, LauncherFramesHaveTheDocumentedShape)
{
  json::ObjectPtr answer = json::parse_object(answer_message("call_1", "v=0\r\n"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(json::get_string(answer.get(), "type"), "answer");
  EXPECT_EQ(json::get_string(answer.get(), "session_id"), "call_1");
  EXPECT_EQ(json::get_string(json::get_object(answer.get(), "payload"), "sdp"), "v=0\r\n");

  json::ObjectPtr state = json::parse_object(state_message("call_1", SignalState::Failed, "ICE failed"));
  JsonObject *payload = json::get_object(state.get(), "payload");
  EXPECT_EQ(json::get_string(payload, "state"), "failed");
  EXPECT_EQ(json::get_string(payload, "reason"), "ICE failed");
  EXPECT_FALSE(json_object_has_member(json::get_object(json::parse_object(state_message("c", SignalState::Live)).get(), "payload"), "reason"));

  IceCandidate c{"candidate:1 1 UDP 2015364095 127.0.0.1 45933 typ host", "0", 0};
  json::ObjectPtr ice = json::parse_object(ice_message("call_1", c));
  payload = json::get_object(ice.get(), "payload");
  EXPECT_EQ(json::get_string(payload, "candidate"), c.candidate);
  EXPECT_EQ(json::get_string(payload, "sdpMid"), "0");
  EXPECT_EQ(json::get_int(payload, "sdpMLineIndex", -1), 0);

  json::ObjectPtr event_payload = json::parse_object("{\"kind\":\"cost\",\"total_usd\":0.5}");
  json::ObjectPtr event = json::parse_object(event_message("call_1", event_payload.get()));
  EXPECT_EQ(json::get_string(event.get(), "type"), "event");
  EXPECT_DOUBLE_EQ(json::get_double(json::get_object(event.get(), "payload"), "total_usd"), 0.5);

  EXPECT_EQ(json::get_string(json::get_object(json::parse_object(error_message("c", "bad")).get(), "payload"), "message"), "bad");
  EXPECT_EQ(json::get_string(json::parse_object(bye_message("c", "done")).get(), "type"), "bye");
}

TEST(TurnCredentials, HmacSha1MatchesThePublishedVector)
{
  /* RFC 2104 / Wikipedia's HMAC_SHA1("key", "The quick brown fox jumps over the lazy dog") =
   * de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9. */
  EXPECT_EQ(hmac_sha1_base64("key", "The quick brown fox jumps over the lazy dog"), "3nybhbi3iqa8ino29wqQcBydtNk=");
}

TEST(TurnCredentials, UsernameIsExpiryThenSessionAndCredentialItsHmac)
{
  TurnCredentials c = make_turn_credentials("s3cret-shared", "call_abc", 1700000000, 600);
  EXPECT_EQ(c.username, "1700000600:call_abc");
  EXPECT_EQ(c.expires_unix, 1700000600);
  EXPECT_EQ(c.credential, hmac_sha1_base64("s3cret-shared", "1700000600:call_abc"));
  EXPECT_NE(c.credential, make_turn_credentials("other-secret", "call_abc", 1700000000, 600).credential);
  EXPECT_EQ(make_turn_credentials("k", "a:b", 0, 60).username, "60:a_b");
}

TEST(SdpOffer, FindsOpusAndItsPayloadType)
{
  OfferAudio chromium = inspect_offer(kChromiumOffer);
  ASSERT_TRUE(chromium.ok) << chromium.error;
  EXPECT_EQ(chromium.opus_payload_type, 111);
  EXPECT_EQ(chromium.mline_index, 0u);
  EXPECT_EQ(chromium.mid, "0");

  /* Firefox: Opus at 109, after a rejected video m-line. */
  OfferAudio firefox = inspect_offer(
      "v=0\r\no=mozilla 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=video 0 UDP/TLS/RTP/SAVPF 120\r\na=rtpmap:120 VP8/90000\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\na=mid:1\r\na=rtpmap:109 OPUS/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n");
  ASSERT_TRUE(firefox.ok) << firefox.error;
  EXPECT_EQ(firefox.opus_payload_type, 109);
  EXPECT_EQ(firefox.mline_index, 1u);
  EXPECT_EQ(firefox.mid, "1");
}

TEST(SdpOffer, RefusesOffersWithoutUsableAudio)
{
  OfferAudio data_only = inspect_offer("v=0\r\ns=-\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n");
  EXPECT_FALSE(data_only.ok);
  EXPECT_NE(data_only.error.find("no audio track"), std::string::npos);

  OfferAudio rejected = inspect_offer("v=0\r\ns=-\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n");
  EXPECT_FALSE(rejected.ok);

  OfferAudio no_opus = inspect_offer("v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\na=rtpmap:0 PCMU/8000\r\n");
  EXPECT_FALSE(no_opus.ok);
  EXPECT_NE(no_opus.error.find("no Opus"), std::string::npos);

  /* An rtpmap for a type the m-line does not list does not count. */
  EXPECT_FALSE(inspect_offer("v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=rtpmap:111 opus/48000/2\r\n").ok);
}
