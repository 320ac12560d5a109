/* rtpnetsink: a real pipeline (appsrc ! rtpnetsink) sending to real UDP sockets on 127.0.0.1. The
 * test reads the datagrams and checks them byte by byte: the RTP header (version, payload type of
 * the codec, marker, sequence, timestamps from the running time, one SSRC), the cut into ptime
 * packets, mute, a destination changed while playing, symmetric RTP from the socket given, and the
 * errors: a host that is not an address, caps of the other codec, a send the kernel refuses. */
#include <gio/gio.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "test_support.h"

using namespace clawvoice::test;

namespace {

constexpr guint kPacketBytes = 160;   /* 20 ms of 8 kHz G.711 */

struct RtpPacket {
  guint8 version = 0;
  bool marker = false;
  guint8 payload_type = 0;
  guint16 seq = 0;
  guint32 ts = 0;
  guint32 ssrc = 0;
  std::vector<guint8> payload;
  guint16 from_port = 0;
};

GSocket *udp_socket(GSocketFamily family = G_SOCKET_FAMILY_IPV4)
{
  GError *error = nullptr;
  GSocket *socket = g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  EXPECT_TRUE(socket) << (error ? error->message : "");
  g_clear_error(&error);
  return socket;
}

/* Binds @socket to the loopback (or ::, for IPv6) on a free port; returns the port. */
guint16 bind_any_port(GSocket *socket)
{
  GSocketFamily family = g_socket_get_family(socket);
  GInetAddress *address = family == G_SOCKET_FAMILY_IPV6 ? g_inet_address_new_any(family)
                                                         : g_inet_address_new_loopback(family);
  GSocketAddress *where = g_inet_socket_address_new(address, 0);
  GError *error = nullptr;
  EXPECT_TRUE(g_socket_bind(socket, where, FALSE, &error)) << (error ? error->message : "");
  g_clear_error(&error);
  g_object_unref(where);
  g_object_unref(address);
  GSocketAddress *local = g_socket_get_local_address(socket, nullptr);
  guint16 port = local ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)) : 0;
  g_clear_object(&local);
  return port;
}

/* A UDP socket on 127.0.0.1 that reads what the sink sends. */
class Receiver {
 public:
  Receiver() : socket_(udp_socket()) { port_ = bind_any_port(socket_); }
  ~Receiver() { g_object_unref(socket_); }
  guint16 port() const { return port_; }

  /* The next datagram within @timeout_ms, parsed. */
  std::optional<RtpPacket> next(guint timeout_ms = 2000)
  {
    if (!g_socket_condition_timed_wait(socket_, G_IO_IN, (gint64) timeout_ms * 1000, nullptr, nullptr))
      return std::nullopt;
    guint8 buf[2048];
    GSocketAddress *from = nullptr;
    gssize n = g_socket_receive_from(socket_, &from, (gchar *) buf, sizeof buf, nullptr, nullptr);
    if (n < 12) {
      g_clear_object(&from);
      ADD_FAILURE() << "a datagram of " << n << " bytes: not RTP";
      return std::nullopt;
    }
    RtpPacket p;
    p.version = buf[0] >> 6;
    p.marker = buf[1] & 0x80;
    p.payload_type = buf[1] & 0x7f;
    p.seq = GST_READ_UINT16_BE(buf + 2);
    p.ts = GST_READ_UINT32_BE(buf + 4);
    p.ssrc = GST_READ_UINT32_BE(buf + 8);
    EXPECT_EQ(buf[0] & 0x3f, 0) << "no padding, extension or CSRC";
    p.payload.assign(buf + 12, buf + n);
    p.from_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(from));
    g_object_unref(from);
    return p;
  }

  /* Whether nothing comes within @timeout_ms. */
  bool quiet_for(guint timeout_ms)
  {
    return !g_socket_condition_timed_wait(socket_, G_IO_IN, (gint64) timeout_ms * 1000, nullptr, nullptr);
  }

 private:
  GSocket *socket_;
  guint16 port_ = 0;
};

std::string launch(const std::string &caps, const std::string &sink_properties)
{
  return "appsrc name=src format=time caps=\"" + caps + "\" ! rtpnetsink name=sink " + sink_properties;
}

const std::string kMulaw = "audio/x-mulaw,rate=8000,channels=1";
const std::string kAlaw = "audio/x-alaw,rate=8000,channels=1";

constexpr guint kNoPts = G_MAXUINT;

/* @bytes of @fill, at @pts_ms (kNoPts: none); each byte its own value when @fill < 0 (counting from @first). */
GstFlowReturn push(GstElement *appsrc, gsize bytes, guint pts_ms, int fill = 0x55, bool discont = false,
                   guint8 first = 0)
{
  GstBuffer *buffer = gst_buffer_new_allocate(nullptr, bytes, nullptr);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < bytes; i++)
    map.data[i] = fill >= 0 ? (guint8) fill : (guint8) (first + i);
  gst_buffer_unmap(buffer, &map);
  GST_BUFFER_PTS(buffer) = pts_ms == kNoPts ? GST_CLOCK_TIME_NONE : pts_ms * GST_MSECOND;
  GST_BUFFER_DURATION(buffer) = gst_util_uint64_scale(bytes, GST_SECOND, 8000);
  if (discont)
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  return gst_app_src_push_buffer(GST_APP_SRC(appsrc), buffer);
}

guint64 stat(GstElement *sink, const char *field)
{
  GstStructure *stats = nullptr;
  g_object_get(sink, "stats", &stats, nullptr);
  guint64 value = 0;
  if (stats)
    gst_structure_get_uint64(stats, field, &value);
  if (stats)
    gst_structure_free(stats);
  return value;
}

class RtpNetSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

}  // namespace

TEST_F(RtpNetSinkTest, PacketsCarryTheRtpHeaderAndTheAudioUntouched)
{
  Receiver rx;
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  for (guint i = 0; i < 5; i++)
    ASSERT_EQ(push(src, kPacketBytes, 20 * i, -1, false, (guint8) i), GST_FLOW_OK);

  std::vector<RtpPacket> got;
  for (int i = 0; i < 5; i++) {
    auto p = rx.next();
    ASSERT_TRUE(p) << "packet " << i;
    got.push_back(*p);
  }
  for (guint i = 0; i < got.size(); i++) {
    const RtpPacket &p = got[i];
    EXPECT_EQ(p.version, 2);
    EXPECT_EQ(p.payload_type, 0) << "PCMU";
    EXPECT_EQ(p.marker, i == 0) << "only the first packet of the talkspurt is marked";
    EXPECT_EQ(p.seq, (guint16) (got[0].seq + i));
    EXPECT_EQ(p.ts, got[0].ts + 160 * i) << "the timestamp counts samples";
    EXPECT_EQ(p.ssrc, got[0].ssrc);
    ASSERT_EQ(p.payload.size(), kPacketBytes);
    for (guint b = 0; b < kPacketBytes; b++)
      ASSERT_EQ(p.payload[b], (guint8) (i + b)) << "byte " << b << " of packet " << i;
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  ASSERT_EQ(pipeline.run(3000), GST_MESSAGE_EOS) << "the counters are final";
  EXPECT_EQ(stat(pipeline.by_name("sink"), "packets"), 5u);
  EXPECT_EQ(stat(pipeline.by_name("sink"), "bytes"), 5u * (12 + kPacketBytes));
}

TEST_F(RtpNetSinkTest, EachStartHasItsOwnSsrcSequenceAndTimestampOffset)
{
  /* RFC 3550 §5.1: random initial values, so two streams (or two calls) do not collide. */
  std::vector<RtpPacket> firsts;
  for (int run = 0; run < 2; run++) {
    Receiver rx;
    Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
    ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
    ASSERT_EQ(push(pipeline.by_name("src"), kPacketBytes, 0), GST_FLOW_OK);
    auto p = rx.next();
    ASSERT_TRUE(p);
    firsts.push_back(*p);
  }
  EXPECT_NE(firsts[0].ssrc, firsts[1].ssrc);
  EXPECT_FALSE(firsts[0].seq == firsts[1].seq && firsts[0].ts == firsts[1].ts);
}

TEST_F(RtpNetSinkTest, PcmaIsPayloadType8AndRefusesMulaw)
{
  {
    Receiver rx;
    Pipeline pipeline(launch(kAlaw, "codec=pcma port=" + std::to_string(rx.port())));
    ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
    ASSERT_EQ(push(pipeline.by_name("src"), kPacketBytes, 0, 0xd5), GST_FLOW_OK);
    auto p = rx.next();
    ASSERT_TRUE(p);
    EXPECT_EQ(p->payload_type, 8);
    EXPECT_EQ(p->payload, std::vector<guint8>(kPacketBytes, 0xd5));
  }
  {
    /* The sink pad offers only the codec set, so a μ-law stream cannot link to a PCMA call. */
    Receiver rx;
    Pipeline pipeline(launch(kMulaw, "codec=pcma port=" + std::to_string(rx.port())));
    pipeline.play();
    push(pipeline.by_name("src"), kPacketBytes, 0);
    EXPECT_EQ(pipeline.run(3000), GST_MESSAGE_ERROR);
    EXPECT_NE(pipeline.first_error().find("not-negotiated"), std::string::npos) << pipeline.first_error();
    EXPECT_TRUE(rx.quiet_for(200));
  }
}

TEST_F(RtpNetSinkTest, TheCodecDecidesWhatACapsQueryOffers)
{
  /* What realtimesink asks before choosing its reply format. */
  for (const char *codec : {"pcmu", "pcma"}) {
    GstElement *sink = gst_element_factory_make("rtpnetsink", nullptr);
    ASSERT_TRUE(sink);
    gst_util_set_object_arg(G_OBJECT(sink), "codec", codec);
    GstPad *pad = gst_element_get_static_pad(sink, "sink");
    GstCaps *caps = gst_pad_query_caps(pad, nullptr);
    ASSERT_EQ(gst_caps_get_size(caps), 1u) << codec;
    EXPECT_STREQ(gst_structure_get_name(gst_caps_get_structure(caps, 0)),
                 g_str_equal(codec, "pcma") ? "audio/x-alaw" : "audio/x-mulaw");
    gst_caps_unref(caps);
    gst_object_unref(pad);
    gst_object_unref(sink);
  }
}

TEST_F(RtpNetSinkTest, BuffersAreCutIntoPtimePacketsAndTheRemainderWaitsForTheNext)
{
  Receiver rx;
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  /* 50 ms (400 bytes, valued 0..143 then wrapping) then 30 ms (240 bytes) continuing it. */
  ASSERT_EQ(push(src, 400, 0, -1, false, 0), GST_FLOW_OK);
  ASSERT_EQ(push(src, 240, 50, -1, false, (guint8) 400), GST_FLOW_OK);
  std::vector<RtpPacket> got;
  for (int i = 0; i < 4; i++) {
    auto p = rx.next();
    ASSERT_TRUE(p) << "packet " << i;
    got.push_back(*p);
  }
  for (guint i = 0; i < 4; i++) {
    ASSERT_EQ(got[i].payload.size(), kPacketBytes) << "packet " << i;
    EXPECT_EQ(got[i].ts, got[0].ts + 160 * i);
    EXPECT_EQ(got[i].seq, (guint16) (got[0].seq + i));
    for (guint b = 0; b < kPacketBytes; b++)
      ASSERT_EQ(got[i].payload[b], (guint8) (160 * i + b)) << "byte " << b << " of packet " << i;
  }
  EXPECT_EQ(got[0].marker, true);
  EXPECT_EQ(got[2].marker, false) << "a packet made of two buffers continues the talkspurt";
  /* 640 bytes made four whole packets, so nothing was left; 10 ms more waits, and goes out at EOS. */
  ASSERT_EQ(push(src, 80, 80, -1, false, (guint8) 640), GST_FLOW_OK);
  EXPECT_TRUE(rx.quiet_for(200)) << "half a packet waits for the rest";
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  auto last = rx.next();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->payload.size(), 80u);
  EXPECT_EQ(last->ts, got[0].ts + 640);
  EXPECT_EQ(pipeline.run(3000), GST_MESSAGE_EOS);
}

TEST_F(RtpNetSinkTest, BuffersWithoutTimestampsContinueBySampleCount)
{
  Receiver rx;
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  ASSERT_EQ(push(src, 2 * kPacketBytes, 0), GST_FLOW_OK);
  ASSERT_EQ(push(src, 80, kNoPts), GST_FLOW_OK);
  ASSERT_EQ(push(src, 80 + kPacketBytes, kNoPts), GST_FLOW_OK);
  std::vector<RtpPacket> got;
  for (int i = 0; i < 4; i++) {
    auto p = rx.next();
    ASSERT_TRUE(p) << "packet " << i;
    got.push_back(*p);
    EXPECT_EQ(p->ts, got[0].ts + 160 * i) << "packet " << i;
    EXPECT_EQ(p->marker, i == 0) << "packet " << i;
  }
}

TEST_F(RtpNetSinkTest, SilenceAdvancesTheTimestampAndTheNextTalkspurtIsMarked)
{
  Receiver rx;
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  ASSERT_EQ(push(src, kPacketBytes, 0), GST_FLOW_OK);
  ASSERT_EQ(push(src, kPacketBytes, 20), GST_FLOW_OK);
  /* 60 ms said nothing (realtimesink's GAP events), then a reply starts at 100 ms. */
  GstPad *srcpad = gst_element_get_static_pad(src, "src");
  gst_pad_push_event(srcpad, gst_event_new_gap(40 * GST_MSECOND, 60 * GST_MSECOND));
  gst_object_unref(srcpad);
  ASSERT_EQ(push(src, kPacketBytes, 100, 0x55, true), GST_FLOW_OK);
  ASSERT_EQ(push(src, kPacketBytes, 120), GST_FLOW_OK);
  std::vector<RtpPacket> got;
  for (int i = 0; i < 4; i++) {
    auto p = rx.next();
    ASSERT_TRUE(p) << "packet " << i;
    got.push_back(*p);
  }
  EXPECT_EQ(got[2].ts - got[0].ts, 800u) << "100 ms at 8 kHz: the silence is in the timestamps";
  EXPECT_EQ(got[2].seq, (guint16) (got[0].seq + 2)) << "no packet was lost, so no sequence gap";
  EXPECT_TRUE(got[2].marker) << "RFC 3551 §4.1: the first packet after a silence is marked";
  EXPECT_FALSE(got[1].marker);
  EXPECT_FALSE(got[3].marker);
}

TEST_F(RtpNetSinkTest, ATimestampJumpWithoutDiscontAlsoStartsATalkspurt)
{
  /* Audio at 0 and 20 ms, then nothing until 100 ms: no DISCONT, no event, only the timestamps. */
  Receiver rx;
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  for (guint ms : {0u, 20u, 100u, 120u})
    ASSERT_EQ(push(src, kPacketBytes, ms), GST_FLOW_OK);
  std::vector<RtpPacket> got;
  for (int i = 0; i < 4; i++) {
    auto p = rx.next();
    ASSERT_TRUE(p) << "packet " << i;
    got.push_back(*p);
  }
  EXPECT_EQ(got[2].ts - got[0].ts, 800u);
  EXPECT_TRUE(got[0].marker);
  EXPECT_FALSE(got[1].marker);
  EXPECT_TRUE(got[2].marker) << "the first packet after the silence";
  EXPECT_FALSE(got[3].marker);
}

TEST_F(RtpNetSinkTest, MuteSendsNothingAndTheFirstPacketAfterIsMarked)
{
  Receiver rx;
  Pipeline pipeline(launch(kMulaw, "mute=true port=" + std::to_string(rx.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  GstElement *sink = pipeline.by_name("sink");
  for (guint i = 0; i < 3; i++)
    ASSERT_EQ(push(src, kPacketBytes, 20 * i), GST_FLOW_OK);
  EXPECT_TRUE(rx.quiet_for(300)) << "muted from the start: nothing before the answer";
  g_object_set(sink, "mute", FALSE, nullptr);
  ASSERT_EQ(push(src, kPacketBytes, 60), GST_FLOW_OK);
  ASSERT_EQ(push(src, kPacketBytes, 80), GST_FLOW_OK);
  auto a = rx.next(), b = rx.next();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->marker);
  EXPECT_FALSE(b->marker);
  /* Hold: nothing; unhold: on, marked, and the sequence has no gap (nothing was lost on the wire). */
  g_object_set(sink, "mute", TRUE, nullptr);
  ASSERT_EQ(push(src, kPacketBytes, 100), GST_FLOW_OK);
  EXPECT_TRUE(rx.quiet_for(300));
  g_object_set(sink, "mute", FALSE, nullptr);
  ASSERT_EQ(push(src, kPacketBytes, 120), GST_FLOW_OK);
  auto c = rx.next();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->marker);
  EXPECT_EQ(c->seq, (guint16) (b->seq + 1));
  EXPECT_EQ(c->ts, b->ts + 320) << "the timestamp still tells the time";
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  ASSERT_EQ(pipeline.run(3000), GST_MESSAGE_EOS) << "the counters are final";
  EXPECT_EQ(stat(sink, "muted"), 4u);
  EXPECT_EQ(stat(sink, "packets"), 3u);
}

TEST_F(RtpNetSinkTest, HostAndPortChangeWhilePlaying)
{
  Receiver first, second;
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(first.port())));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  ASSERT_EQ(push(src, kPacketBytes, 0), GST_FLOW_OK);
  auto a = first.next();
  ASSERT_TRUE(a);
  /* A re-INVITE moves the caller. */
  g_object_set(pipeline.by_name("sink"), "host", "127.0.0.1", "port", (gint) second.port(), nullptr);
  ASSERT_EQ(push(src, kPacketBytes, 20), GST_FLOW_OK);
  auto b = second.next();
  ASSERT_TRUE(b) << "the next packet goes to the new port";
  EXPECT_EQ(b->seq, (guint16) (a->seq + 1));
  EXPECT_EQ(b->ssrc, a->ssrc) << "the same stream, elsewhere";
  EXPECT_TRUE(first.quiet_for(200));
}

TEST_F(RtpNetSinkTest, SendsFromTheSocketGivenForSymmetricRtp)
{
  Receiver rx;
  GSocket *shared = udp_socket();
  guint16 our_port = bind_any_port(shared);
  Pipeline pipeline(launch(kMulaw, "close-socket=false port=" + std::to_string(rx.port())));
  g_object_set(pipeline.by_name("sink"), "socket", shared, nullptr);
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(push(pipeline.by_name("src"), kPacketBytes, 0), GST_FLOW_OK);
  auto p = rx.next();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->from_port, our_port) << "sent from the port we advertised";
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_FALSE(g_socket_is_closed(shared)) << "close-socket=false leaves the shared socket open";
  g_object_unref(shared);
}

TEST_F(RtpNetSinkTest, AnIpv6SocketReachesAnIpv4Host)
{
  Receiver rx;
  GSocket *dual = udp_socket(G_SOCKET_FAMILY_IPV6);
  if (!dual)
    GTEST_SKIP() << "no IPv6 here";
  bind_any_port(dual);
  Pipeline pipeline(launch(kMulaw, "port=" + std::to_string(rx.port())));
  g_object_set(pipeline.by_name("sink"), "socket", dual, nullptr);
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(push(pipeline.by_name("src"), kPacketBytes, 0), GST_FLOW_OK);
  EXPECT_TRUE(rx.next()) << "127.0.0.1 as ::ffff:127.0.0.1";
  g_object_unref(dual);
}

TEST_F(RtpNetSinkTest, AHostThatIsNotAnAddressFailsToStartWithAClearError)
{
  Pipeline pipeline(launch(kMulaw, "host=sip.example.com port=5004"));
  EXPECT_EQ(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  EXPECT_EQ(pipeline.run(2000), GST_MESSAGE_ERROR);
  EXPECT_NE(pipeline.first_error().find("not an IP address"), std::string::npos) << pipeline.first_error();
}

TEST_F(RtpNetSinkTest, ARefusedSendIsCountedWarnedOnceAndTheStreamGoesOn)
{
  /* A broadcast address without SO_BROADCAST: the kernel refuses every send (EACCES). */
  Pipeline pipeline(launch(kMulaw, "host=255.255.255.255 port=9"));
  ASSERT_NE(pipeline.play(), GST_STATE_CHANGE_FAILURE);
  GstElement *src = pipeline.by_name("src");
  for (guint i = 0; i < 5; i++)
    ASSERT_EQ(push(src, kPacketBytes, 20 * i), GST_FLOW_OK) << "a send error does not stop the stream";
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  EXPECT_EQ(pipeline.run(3000), GST_MESSAGE_EOS);
  EXPECT_EQ(stat(pipeline.by_name("sink"), "send-errors"), 5u);
  EXPECT_EQ(stat(pipeline.by_name("sink"), "packets"), 0u);
  std::vector<std::string> warnings = pipeline.warnings();
  ASSERT_EQ(warnings.size(), 1u) << "one warning, not one per packet";
  EXPECT_NE(warnings[0].find("Could not send RTP"), std::string::npos) << warnings[0];
}
