/* SDP offer/answer of the phone path (gst/sip/sdp_offer_answer.h): what carriers and softphones
 * offer, what we answer, and the offers we must refuse with the right status. */
#include <gtest/gtest.h>
#include <gst/sdp/gstsdpmessage.h>

#include "sip/sdp_offer_answer.h"

namespace clawvoice::sip {
namespace {

const char kCarrierOffer[] =
    "v=0\r\n"
    "o=carrier 123456 654321 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 8 18 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

LocalMedia local()
{
  LocalMedia l;
  l.address = "198.51.100.7";
  l.rtp_port = 31000;
  l.session_id = 42;
  l.session_version = 1;
  return l;
}

/* The answer parsed back, to check it as SDP rather than as text. */
struct Parsed {
  GstSDPMessage *msg = nullptr;
  explicit Parsed(const std::string &text)
  {
    gst_sdp_message_new(&msg);
    EXPECT_EQ(gst_sdp_message_parse_buffer((const guint8 *) text.data(), text.size(), msg), GST_SDP_OK);
  }
  ~Parsed() { gst_sdp_message_free(msg); }
  const GstSDPMedia *media(guint i) const { return gst_sdp_message_get_media(msg, i); }
};

TEST(SdpOfferAnswer, CarrierOfferGetsPcmuWithTelephoneEventAndPtime20)
{
  Negotiation n;
  std::string error;
  ASSERT_TRUE(negotiate_sdp(kCarrierOffer, local(), &n, &error)) << error;
  EXPECT_EQ(n.media.codec, Codec::PCMU);
  EXPECT_EQ(n.media.payload_type, 0);
  EXPECT_EQ(n.media.telephone_event_pt, 101);
  EXPECT_EQ(n.media.remote_address, "192.0.2.10");
  EXPECT_EQ(n.media.remote_port, 40000);
  EXPECT_FALSE(n.media.on_hold);

  Parsed answer(n.answer);
  ASSERT_EQ(gst_sdp_message_medias_len(answer.msg), 1u);
  const GstSDPMedia *m = answer.media(0);
  EXPECT_EQ(gst_sdp_media_get_port(m), 31000u);
  EXPECT_STREQ(gst_sdp_media_get_proto(m), "RTP/AVP");
  ASSERT_EQ(gst_sdp_media_formats_len(m), 2u) << n.answer;
  EXPECT_STREQ(gst_sdp_media_get_format(m, 0), "0");
  EXPECT_STREQ(gst_sdp_media_get_format(m, 1), "101");
  EXPECT_STREQ(gst_sdp_media_get_attribute_val(m, "ptime"), "20");
  EXPECT_STREQ(gst_sdp_media_get_attribute_val(m, "fmtp"), "101 0-16");
  EXPECT_STREQ(gst_sdp_message_get_connection(answer.msg)->address, "198.51.100.7");
  EXPECT_STREQ(gst_sdp_message_get_origin(answer.msg)->sess_id, "42");
  EXPECT_STREQ(gst_sdp_message_get_origin(answer.msg)->sess_version, "1");
  EXPECT_NE(n.answer.find("a=sendrecv\r\n"), std::string::npos) << n.answer;
  EXPECT_EQ(n.answer.find("G729"), std::string::npos) << "one codec only";
}

TEST(SdpOfferAnswer, PcmaOnlyOfferGetsPcmaAndNoTelephoneEventWhenNotOffered)
{
  const char offer[] =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 6000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
  Negotiation n;
  std::string error;
  ASSERT_TRUE(negotiate_sdp(offer, local(), &n, &error)) << error;
  EXPECT_EQ(n.media.codec, Codec::PCMA);
  EXPECT_EQ(n.media.payload_type, 8);
  EXPECT_EQ(n.media.telephone_event_pt, -1);
  EXPECT_NE(n.answer.find("m=audio 31000 RTP/AVP 8\r\n"), std::string::npos) << n.answer;
  EXPECT_EQ(n.answer.find("telephone-event"), std::string::npos) << n.answer;
}

TEST(SdpOfferAnswer, OfferOrderDecidesUnlessPcmaIsPreferred)
{
  const char offer[] =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 6000 RTP/AVP 8 0\r\n";
  Negotiation n;
  std::string error;
  ASSERT_TRUE(negotiate_sdp(offer, local(), &n, &error)) << error;
  EXPECT_EQ(n.media.codec, Codec::PCMA);
  LocalMedia l = local();
  l.prefer_pcma = true;
  ASSERT_TRUE(negotiate_sdp(kCarrierOffer, l, &n, &error)) << error;
  EXPECT_EQ(n.media.codec, Codec::PCMA);
}

TEST(SdpOfferAnswer, EveryOfferedStreamIsAnsweredAndUnwantedOnesGetPortZero)
{
  const char offer[] =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=3034423619 0\r\n"
      "m=video 5002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
      "m=audio 5004 RTP/SAVP 0\r\n"
      "m=audio 5006 RTP/AVP 0\r\nc=IN IP4 10.1.2.3\r\n"
      "m=audio 5008 RTP/AVP 0\r\n";
  Negotiation n;
  std::string error;
  ASSERT_TRUE(negotiate_sdp(offer, local(), &n, &error)) << error;
  EXPECT_EQ(n.media.remote_address, "10.1.2.3") << "the media's c= wins over the session's";
  EXPECT_EQ(n.media.remote_port, 5006);
  Parsed answer(n.answer);
  ASSERT_EQ(gst_sdp_message_medias_len(answer.msg), 4u) << n.answer;
  EXPECT_STREQ(gst_sdp_media_get_media(answer.media(0)), "video");
  EXPECT_EQ(gst_sdp_media_get_port(answer.media(0)), 0u);
  EXPECT_STREQ(gst_sdp_media_get_proto(answer.media(1)), "RTP/SAVP");
  EXPECT_EQ(gst_sdp_media_get_port(answer.media(1)), 0u);
  EXPECT_EQ(gst_sdp_media_get_port(answer.media(2)), 31000u);
  EXPECT_EQ(gst_sdp_media_get_port(answer.media(3)), 0u) << "one audio stream only";
  /* (GStreamer's parser drops t= lines, so the text is checked.) */
  EXPECT_NE(n.answer.find("\r\nt=3034423619 0\r\n"), std::string::npos) << "same t= as the offer:\n" << n.answer;
}

TEST(SdpOfferAnswer, HoldIsSeenInEveryForm)
{
  struct Case { const char *lines; Direction offered; Direction answered; bool hold; };
  const Case cases[] = {
    {"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendonly\r\n", Direction::SendOnly, Direction::RecvOnly, true},
    {"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=inactive\r\n", Direction::Inactive, Direction::Inactive, true},
    {"c=IN IP4 127.0.0.1\r\nt=0 0\r\na=recvonly\r\nm=audio 6000 RTP/AVP 0\r\n", Direction::RecvOnly, Direction::SendOnly, false},
    {"c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n", Direction::SendRecv, Direction::RecvOnly, true},
    {"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n", Direction::SendRecv, Direction::SendRecv, false},
  };
  for (const Case &c : cases) {
    std::string offer = std::string("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n") + c.lines;
    Negotiation n;
    std::string error;
    ASSERT_TRUE(negotiate_sdp(offer, local(), &n, &error)) << error << "\n" << offer;
    EXPECT_EQ(n.media.remote_direction, c.offered) << offer;
    EXPECT_EQ(n.media.local_direction, c.answered) << offer;
    EXPECT_EQ(n.media.on_hold, c.hold) << offer;
    EXPECT_NE(n.answer.find(std::string("a=") + direction_name(c.answered) + "\r\n"), std::string::npos) << n.answer;
  }
}

TEST(SdpOfferAnswer, BadOffersGetTheRightStatus)
{
  struct Case { const char *offer; guint status; const char *why; };
  const Case cases[] = {
    {"", 400, "empty"},
    {"hello, I am not SDP", 400, "garbage"},
    {"v=0\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n", 400, "no o="},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n", 400, "no c= anywhere"},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n", 488, "no m="},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 18 9\r\n", 488, "G.729 and G.722 only"},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/SAVP 0\r\n", 488, "SRTP only"},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n", 488, "a disabled stream"},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n", 400, "port > 65535"},
    {"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP abc\r\n", 488, "formats not numbers"},
  };
  for (const Case &c : cases) {
    Negotiation n;
    std::string error;
    EXPECT_FALSE(negotiate_sdp(c.offer, local(), &n, &error)) << c.why;
    EXPECT_EQ(n.status, c.status) << c.why << ": " << error;
    EXPECT_FALSE(error.empty()) << c.why;
    EXPECT_TRUE(n.answer.empty()) << c.why;
  }
}

TEST(SdpOfferAnswer, Ipv6AddressesAreAnsweredAsIp6)
{
  const char offer[] =
      "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
  LocalMedia l = local();
  l.address = "::1";
  Negotiation n;
  std::string error;
  ASSERT_TRUE(negotiate_sdp(offer, l, &n, &error)) << error;
  EXPECT_EQ(n.media.remote_address, "::1");
  EXPECT_NE(n.answer.find("c=IN IP6 ::1\r\n"), std::string::npos) << n.answer;
}

/* A call we place: our offer is what a carrier's offer looks like to a callee, and the callee's
 * answer (here: what our own answering side makes of the offer, PCMA picked) is read back. */
TEST(SdpOfferAnswer, OurOfferIsG711WithTelephoneEventAndItsAnswerIsRead)
{
  std::string offer = make_sdp_offer(local());
  Parsed parsed(offer);
  ASSERT_EQ(gst_sdp_message_medias_len(parsed.msg), 1u);
  const GstSDPMedia *audio = parsed.media(0);
  EXPECT_STREQ(gst_sdp_media_get_proto(audio), "RTP/AVP");
  EXPECT_EQ(gst_sdp_media_get_port(audio), 31000u);
  ASSERT_EQ(gst_sdp_media_formats_len(audio), 3u);
  EXPECT_STREQ(gst_sdp_media_get_format(audio, 0), "0");
  EXPECT_STREQ(gst_sdp_media_get_format(audio, 1), "8");
  EXPECT_STREQ(gst_sdp_media_get_format(audio, 2), "101");
  EXPECT_STREQ(gst_sdp_media_get_attribute_val(audio, "ptime"), "20");
  EXPECT_NE(offer.find("a=rtpmap:101 telephone-event/8000\r\n"), std::string::npos) << offer;
  EXPECT_NE(offer.find("a=sendrecv\r\n"), std::string::npos) << offer;
  EXPECT_NE(offer.find("c=IN IP4 198.51.100.7\r\n"), std::string::npos) << offer;

  /* The callee answers it (PCMA preferred on its side). */
  LocalMedia callee = local();
  callee.address = "192.0.2.20";
  callee.rtp_port = 42000;
  callee.prefer_pcma = true;
  Negotiation n;
  std::string error;
  ASSERT_TRUE(negotiate_sdp(offer, callee, &n, &error)) << error;
  NegotiatedMedia media;
  ASSERT_TRUE(read_sdp_answer(n.answer, &media, &error)) << error << "\n" << n.answer;
  EXPECT_EQ(media.codec, Codec::PCMA);
  EXPECT_EQ(media.payload_type, 8);
  EXPECT_EQ(media.telephone_event_pt, 101);
  EXPECT_EQ(media.remote_address, "192.0.2.20");
  EXPECT_EQ(media.remote_port, 42000);
  EXPECT_FALSE(media.on_hold);
}

TEST(SdpOfferAnswer, AnAnswerTakingNothingWeOfferedIsRefused)
{
  NegotiatedMedia media;
  std::string error;
  EXPECT_FALSE(read_sdp_answer("", &media, &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(read_sdp_answer("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                               "m=audio 0 RTP/AVP 0\r\n", &media, &error)) << "a rejected stream (port 0)";
  EXPECT_NE(error.find("PCMU"), std::string::npos) << error;
}

}  // namespace
}  // namespace clawvoice::sip
