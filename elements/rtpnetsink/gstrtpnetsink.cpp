/**
 * SECTION:element-rtpnetsink
 * @title: rtpnetsink
 *
 * rtpnetsink sends G.711 audio (μ-law or A-law, 8 kHz mono) as RTP to `host`:`port`: the payloader
 * (rtppcmupay or rtppcmapay with min-ptime = max-ptime), the valve and udpsink of a phone call's
 * reply, in one element. Each packet carries `ptime` ms of audio (20 by default, as SDP answers
 * promise); a buffer is cut into packets, and a remainder waits for the next buffer (or the end of
 * the talkspurt). The header and the payload leave in one sendmsg, never blocking: a packet the
 * kernel cannot take at once is dropped and counted (audio late is audio lost).
 *
 * The RTP header follows RFC 3550/3551 as rtpbasepayload writes it: random SSRC, first sequence
 * number and timestamp offset; the timestamp is the offset plus the buffer's running time at
 * 8000 Hz, so a silence without packets (a GAP) advances it by its length; the marker bit is set on
 * the first packet of each talkspurt: the first packet, and the first after DISCONT, a silence (a
 * buffer whose timestamp does not continue the last one's), a flush, or `mute`.
 *
 * `codec` fixes what the sink pad accepts (audio/x-mulaw → payload type 0, audio/x-alaw → 8), so
 * an upstream that negotiates its format (realtimesink) produces the codec the call answered, untranscoded.
 * `mute` drops everything (a call on hold, or not answered yet) without touching the stream.
 * `host` and `port` may change while playing (a re-INVITE moving the caller). `host` is an IP
 * address, never a name: nothing here may wait for a resolver.
 *
 * The socket is one the application gives (`socket`: for symmetric RTP the one rtpnetsrc reads,
 * so we send from the port we advertised), or one the element makes. The sink never syncs
 * (`sync` and `async` default to FALSE): it sends as buffers come, so its upstream paces them
 * (realtimesink hands out one period per period).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc is-live=true wave=ticks ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! \
 *     rtpnetsink host=127.0.0.1 port=5004
 * ]| Sends 20 ms PCMU packets of ticks to 127.0.0.1:5004.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "rtpnetsink/gstrtpnetsink.h"

#include <gio/gio.h>

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_rtp_net_sink_debug);
#define GST_CAT_DEFAULT gst_rtp_net_sink_debug

namespace {

constexpr guint kClockRate = 8000;        /* G.711: one byte per sample */
constexpr guint kRtpHeaderBytes = 12;
constexpr guint kDefaultPtimeMs = 20;
constexpr gint kDefaultPort = 5004;
constexpr const char *kDefaultHost = "127.0.0.1";

enum {
  PROP_0,
  PROP_SOCKET,
  PROP_CLOSE_SOCKET,
  PROP_HOST,
  PROP_PORT,
  PROP_CODEC,
  PROP_PTIME,
  PROP_MUTE,
  PROP_STATS,
};

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-mulaw, rate=(int)8000, channels=(int)1; "
                    "audio/x-alaw, rate=(int)8000, channels=(int)1"));

const char *caps_name_of(GstRtpNetSinkCodec codec)
{
  return codec == GST_RTP_NET_SINK_CODEC_PCMA ? "audio/x-alaw" : "audio/x-mulaw";
}

/* Where packets go, as sendmsg wants it. */
struct Destination {
  sockaddr_storage address{};
  socklen_t length = 0;   /* 0: none (no valid host, or a family the socket cannot reach) */
};

}  // namespace

struct RtpNetSinkPrivate {
  std::mutex lock;   /* the properties and the destination; the streaming state below is not */
  GSocket *socket = nullptr;   /* the `socket` property */
  gboolean close_socket = TRUE;
  std::string host = kDefaultHost;
  gint port = kDefaultPort;
  GstRtpNetSinkCodec codec = GST_RTP_NET_SINK_CODEC_PCMU;
  guint ptime_ms = kDefaultPtimeMs;
  bool mute = false;
  bool unmuted_since_render = false;   /* mute went off: the next packet starts a talkspurt */
  Destination destination;             /* host:port for used_socket's family, while started */

  /* Between start() and stop(). */
  GSocket *used_socket = nullptr;   /* `socket`, or ours */
  bool own_socket = false;
  int fd = -1;

  /* Streaming thread only. */
  guint8 payload_type = 0;
  guint32 ssrc = 0;
  guint32 timestamp_offset = 0;
  guint16 next_seq = 0;
  bool need_marker = true;
  std::vector<guint8> pending;   /* less than a packet's worth, waiting for the next buffer */
  guint32 pending_ts = 0;        /* the RTP timestamp of pending's first sample */
  guint32 next_ts = 0;           /* the timestamp after the last sample taken: where a buffer without PTS starts */
  bool send_error_reported = false;

  std::atomic<guint64> packets{0}, bytes{0}, muted{0}, no_destination{0}, send_errors{0};
};

struct _GstRtpNetSink {
  GstBaseSink parent;
  RtpNetSinkPrivate *priv;
};

G_DEFINE_TYPE(GstRtpNetSink, gst_rtp_net_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(rtpnetsink, "rtpnetsink", GST_RANK_NONE, GST_TYPE_RTP_NET_SINK,
    GST_DEBUG_CATEGORY_INIT(gst_rtp_net_sink_debug, "clawvoice-rtpnetsink", 0, "G.711 as RTP to a socket"));

GType gst_rtp_net_sink_codec_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_RTP_NET_SINK_CODEC_PCMU, "G.711 μ-law (audio/x-mulaw), payload type 0", "pcmu"},
    {GST_RTP_NET_SINK_CODEC_PCMA, "G.711 A-law (audio/x-alaw), payload type 8", "pcma"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstRtpNetSinkCodec", values));
  return type;
}

/* host:port in a form @family's socket can send to (an IPv4 host from an IPv6 socket: its
 * v4-mapped address). Lock held. */
static Destination destination_for(GstRtpNetSink *self, const RtpNetSinkPrivate *p, GSocketFamily family)
{
  Destination d;
  GInetAddress *address = g_inet_address_new_from_string(p->host.c_str());
  if (!address) {
    GST_WARNING_OBJECT(self, "host '%s' is not an IP address: nothing is sent", p->host.c_str());
    return d;
  }
  GSocketFamily host_family = g_inet_address_get_family(address);
  if (family == G_SOCKET_FAMILY_IPV6 && host_family == G_SOCKET_FAMILY_IPV4) {
    auto *in6 = reinterpret_cast<sockaddr_in6 *>(&d.address);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = g_htons((guint16) p->port);
    in6->sin6_addr.s6_addr[10] = in6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&in6->sin6_addr.s6_addr[12], g_inet_address_to_bytes(address), 4);
    d.length = sizeof(sockaddr_in6);
  } else if (family == host_family) {
    GSocketAddress *socket_address = g_inet_socket_address_new(address, (guint16) p->port);
    gssize length = g_socket_address_get_native_size(socket_address);
    if (length > 0 && g_socket_address_to_native(socket_address, &d.address, sizeof d.address, nullptr))
      d.length = (socklen_t) length;
    g_object_unref(socket_address);
  } else {
    GST_WARNING_OBJECT(self, "host %s: an IPv6 address, and the socket is IPv4: nothing is sent", p->host.c_str());
  }
  g_object_unref(address);
  return d;
}

/* ---- streaming thread ---- */

/* One packet: header and @payload in one sendmsg. The sequence number advances even when the send
 * fails, so the receiver sees the loss as a loss. */
static void send_packet(GstRtpNetSink *self, const Destination &to, const guint8 *payload, gsize size, guint32 ts)
{
  RtpNetSinkPrivate *p = self->priv;
  guint8 header[kRtpHeaderBytes];
  header[0] = 0x80;   /* version 2, no padding, no extension, no CSRC */
  header[1] = (guint8) ((p->need_marker ? 0x80 : 0x00) | p->payload_type);
  GST_WRITE_UINT16_BE(header + 2, p->next_seq);
  GST_WRITE_UINT32_BE(header + 4, ts);
  GST_WRITE_UINT32_BE(header + 8, p->ssrc);
  p->next_seq++;
  p->need_marker = false;

  iovec parts[2] = {{header, sizeof header}, {const_cast<guint8 *>(payload), size}};
  msghdr message{};
  message.msg_name = const_cast<sockaddr_storage *>(&to.address);
  message.msg_namelen = to.length;
  message.msg_iov = parts;
  message.msg_iovlen = 2;
  ssize_t sent;
  do {
    sent = sendmsg(p->fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent >= 0) {
    p->packets.fetch_add(1, std::memory_order_relaxed);
    p->bytes.fetch_add((guint64) sent, std::memory_order_relaxed);
    return;
  }
  int error = errno;
  p->send_errors.fetch_add(1, std::memory_order_relaxed);
  /* Once per stream as a warning on the bus (a peer gone away is not a reason to stop the call:
   * the RTP timeout is); every time in the debug log. */
  GST_DEBUG_OBJECT(self, "sendmsg: %s", g_strerror(error));
  if (!p->send_error_reported) {
    p->send_error_reported = true;
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("Could not send RTP."),
        ("sendmsg: %s (counted in stats send-errors from now on)", g_strerror(error)));
  }
}

/* The remainder, as a short packet (the talkspurt ended). */
static void send_pending(GstRtpNetSink *self, const Destination &to)
{
  RtpNetSinkPrivate *p = self->priv;
  if (p->pending.empty())
    return;
  if (to.length > 0)
    send_packet(self, to, p->pending.data(), p->pending.size(), p->pending_ts);
  p->pending.clear();
}

static GstFlowReturn gst_rtp_net_sink_render(GstBaseSink *sink, GstBuffer *buffer)
{
  GstRtpNetSink *self = GST_RTP_NET_SINK(sink);
  RtpNetSinkPrivate *p = self->priv;
  Destination to;
  bool muted;
  guint packet_bytes;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    muted = p->mute;
    if (!muted) {
      to = p->destination;
      if (p->unmuted_since_render) {
        p->unmuted_since_render = false;
        p->need_marker = true;
      }
    }
    packet_bytes = p->ptime_ms * kClockRate / 1000;
  }
  if (muted) {
    p->pending.clear();
    p->need_marker = true;
    p->muted.fetch_add(1, std::memory_order_relaxed);
    return GST_FLOW_OK;
  }
  if (to.length == 0) {
    p->pending.clear();
    p->no_destination.fetch_add(1, std::memory_order_relaxed);
    return GST_FLOW_OK;
  }

  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not read a buffer."), (nullptr));
    return GST_FLOW_ERROR;
  }
  /* The timestamp of the buffer's first sample: from its running time, or on from what came before. */
  guint32 ts = p->next_ts;
  GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    GstClockTime running = gst_segment_to_running_time(&sink->segment, GST_FORMAT_TIME, pts);
    if (GST_CLOCK_TIME_IS_VALID(running))
      ts = p->timestamp_offset + (guint32) gst_util_uint64_scale_int(running, kClockRate, GST_SECOND);
  }
  /* A buffer that does not continue the last one's timestamps comes after a silence (realtimesink
   * sends GAP events then, which GstBaseSink keeps to itself): a new talkspurt, so the remainder
   * of the last one goes now and the next packet is marked. */
  if (GST_BUFFER_IS_DISCONT(buffer) || ts != p->next_ts) {
    send_pending(self, to);
    p->need_marker = true;
  }

  const guint8 *data = map.data;
  gsize left = map.size;
  if (!p->pending.empty()) {
    gsize take = MIN(left, packet_bytes - p->pending.size());
    p->pending.insert(p->pending.end(), data, data + take);
    data += take;
    left -= take;
    ts += (guint32) take;
    if (p->pending.size() == packet_bytes)
      send_pending(self, to);
  }
  while (left >= packet_bytes) {
    send_packet(self, to, data, packet_bytes, ts);
    data += packet_bytes;
    left -= packet_bytes;
    ts += packet_bytes;
  }
  if (left > 0) {
    p->pending.assign(data, data + left);
    p->pending_ts = ts;
  }
  p->next_ts = ts + (guint32) left;
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

static gboolean gst_rtp_net_sink_event(GstBaseSink *sink, GstEvent *event)
{
  GstRtpNetSink *self = GST_RTP_NET_SINK(sink);
  RtpNetSinkPrivate *p = self->priv;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_EOS: {
      /* The stream is over: the remainder goes now. */
      Destination to;
      {
        std::lock_guard<std::mutex> lock(p->lock);
        if (!p->mute)
          to = p->destination;
      }
      send_pending(self, to);
      p->need_marker = true;
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      p->pending.clear();
      p->need_marker = true;
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS(gst_rtp_net_sink_parent_class)->event(sink, event);
}

/* ---- caps ---- */

static GstCaps *gst_rtp_net_sink_get_caps(GstBaseSink *sink, GstCaps *filter)
{
  GstRtpNetSinkCodec codec;
  {
    std::lock_guard<std::mutex> lock(GST_RTP_NET_SINK(sink)->priv->lock);
    codec = GST_RTP_NET_SINK(sink)->priv->codec;
  }
  GstCaps *caps = gst_caps_new_simple(caps_name_of(codec), "rate", G_TYPE_INT, (gint) kClockRate, "channels",
                                      G_TYPE_INT, 1, nullptr);
  if (filter) {
    GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = both;
  }
  return caps;
}

static gboolean gst_rtp_net_sink_set_caps(GstBaseSink *sink, GstCaps *caps)
{
  GstRtpNetSink *self = GST_RTP_NET_SINK(sink);
  RtpNetSinkPrivate *p = self->priv;
  GstRtpNetSinkCodec codec;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    codec = p->codec;
  }
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  if (!gst_structure_has_name(s, caps_name_of(codec))) {
    GST_ERROR_OBJECT(self, "caps %" GST_PTR_FORMAT " are not the codec set (%s)", caps, caps_name_of(codec));
    return FALSE;
  }
  p->payload_type = (guint8) codec;
  return TRUE;
}

/* ---- start and stop ---- */

static gboolean gst_rtp_net_sink_start(GstBaseSink *sink)
{
  GstRtpNetSink *self = GST_RTP_NET_SINK(sink);
  RtpNetSinkPrivate *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  if (p->socket) {
    if (g_socket_is_closed(p->socket)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("The socket given is closed."), (nullptr));
      return FALSE;
    }
    p->used_socket = G_SOCKET(g_object_ref(p->socket));
    p->own_socket = false;
  } else {
    GInetAddress *address = g_inet_address_new_from_string(p->host.c_str());
    GSocketFamily family = address ? g_inet_address_get_family(address) : G_SOCKET_FAMILY_IPV4;
    g_clear_object(&address);
    GError *error = nullptr;
    p->used_socket = g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
    if (!p->used_socket) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("Could not make a UDP socket."), ("%s", error->message));
      g_error_free(error);
      return FALSE;
    }
    p->own_socket = true;
  }
  p->fd = g_socket_get_fd(p->used_socket);
  if (!g_hostname_is_ip_address(p->host.c_str())) {
    /* Say so now, not by a silent call. (A family mismatch only warns: a new host may mend it.) */
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("host '%s' is not an IP address.", p->host.c_str()),
        ("rtpnetsink does not resolve names"));
    if (p->own_socket)
      g_socket_close(p->used_socket, nullptr);
    g_clear_object(&p->used_socket);
    p->fd = -1;
    return FALSE;
  }
  p->destination = destination_for(self, p, g_socket_get_family(p->used_socket));
  p->unmuted_since_render = false;
  p->ssrc = g_random_int();
  p->timestamp_offset = g_random_int();
  p->next_ts = p->timestamp_offset;
  p->next_seq = (guint16) g_random_int_range(0, 65536);
  p->need_marker = true;
  p->pending.clear();
  p->send_error_reported = false;
  GST_INFO_OBJECT(self, "sending to %s:%d, SSRC %08x", p->host.c_str(), p->port, p->ssrc);
  return TRUE;
}

static gboolean gst_rtp_net_sink_stop(GstBaseSink *sink)
{
  RtpNetSinkPrivate *p = GST_RTP_NET_SINK(sink)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  if (p->used_socket && (p->own_socket || p->close_socket))
    g_socket_close(p->used_socket, nullptr);
  g_clear_object(&p->used_socket);
  p->fd = -1;
  p->destination = Destination();
  p->pending.clear();
  return TRUE;
}

/* ---- GObject ---- */

static void gst_rtp_net_sink_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstRtpNetSink *self = GST_RTP_NET_SINK(object);
  RtpNetSinkPrivate *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (prop_id) {
    case PROP_SOCKET: {
      GSocket *old = p->socket;
      p->socket = G_SOCKET(g_value_dup_object(value));
      g_clear_object(&old);
      break;
    }
    case PROP_CLOSE_SOCKET: p->close_socket = g_value_get_boolean(value); break;
    case PROP_HOST: {
      const gchar *s = g_value_get_string(value);
      p->host = s ? s : "";
      break;
    }
    case PROP_PORT: p->port = g_value_get_int(value); break;
    case PROP_CODEC: p->codec = (GstRtpNetSinkCodec) g_value_get_enum(value); break;
    case PROP_PTIME: p->ptime_ms = g_value_get_uint(value); break;
    case PROP_MUTE: {
      bool mute = g_value_get_boolean(value);
      if (p->mute && !mute)
        p->unmuted_since_render = true;
      p->mute = mute;
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  /* A new host or port while started: the next packet goes there. */
  if ((prop_id == PROP_HOST || prop_id == PROP_PORT) && p->used_socket)
    p->destination = destination_for(self, p, g_socket_get_family(p->used_socket));
}

static void gst_rtp_net_sink_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RtpNetSinkPrivate *p = GST_RTP_NET_SINK(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (prop_id) {
    case PROP_SOCKET: g_value_set_object(value, p->socket); break;
    case PROP_CLOSE_SOCKET: g_value_set_boolean(value, p->close_socket); break;
    case PROP_HOST: g_value_set_string(value, p->host.c_str()); break;
    case PROP_PORT: g_value_set_int(value, p->port); break;
    case PROP_CODEC: g_value_set_enum(value, p->codec); break;
    case PROP_PTIME: g_value_set_uint(value, p->ptime_ms); break;
    case PROP_MUTE: g_value_set_boolean(value, p->mute); break;
    case PROP_STATS:
      g_value_take_boxed(value, gst_structure_new("rtpnetsink-stats",
          "packets", G_TYPE_UINT64, p->packets.load(), "bytes", G_TYPE_UINT64, p->bytes.load(),
          "muted", G_TYPE_UINT64, p->muted.load(), "no-destination", G_TYPE_UINT64, p->no_destination.load(),
          "send-errors", G_TYPE_UINT64, p->send_errors.load(), "ssrc", G_TYPE_UINT, p->ssrc, nullptr));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_rtp_net_sink_finalize(GObject *object)
{
  RtpNetSinkPrivate *p = GST_RTP_NET_SINK(object)->priv;
  g_clear_object(&p->socket);
  g_clear_object(&p->used_socket);
  delete p;
  G_OBJECT_CLASS(gst_rtp_net_sink_parent_class)->finalize(object);
}

static void gst_rtp_net_sink_init(GstRtpNetSink *self)
{
  self->priv = new RtpNetSinkPrivate();
  /* The upstream paces the audio (realtimesink hands out a period per period, on its network
   * thread): waiting on the clock here would only hold that thread. */
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
  gst_base_sink_set_async_enabled(GST_BASE_SINK(self), FALSE);
  gst_base_sink_set_last_sample_enabled(GST_BASE_SINK(self), FALSE);
}

static void gst_rtp_net_sink_class_init(GstRtpNetSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS(klass);
  gobject_class->set_property = gst_rtp_net_sink_set_property;
  gobject_class->get_property = gst_rtp_net_sink_get_property;
  gobject_class->finalize = gst_rtp_net_sink_finalize;
  basesink_class->start = GST_DEBUG_FUNCPTR(gst_rtp_net_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR(gst_rtp_net_sink_stop);
  basesink_class->get_caps = GST_DEBUG_FUNCPTR(gst_rtp_net_sink_get_caps);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR(gst_rtp_net_sink_set_caps);
  basesink_class->event = GST_DEBUG_FUNCPTR(gst_rtp_net_sink_event);
  basesink_class->render = GST_DEBUG_FUNCPTR(gst_rtp_net_sink_render);

  const auto ready = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto playing = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(gobject_class, PROP_SOCKET, g_param_spec_object("socket", "Socket",
      "The UDP socket to send from (for symmetric RTP, the one rtpnetsrc reads); without one the element "
      "makes its own", G_TYPE_SOCKET, ready));
  g_object_class_install_property(gobject_class, PROP_CLOSE_SOCKET, g_param_spec_boolean("close-socket",
      "Close socket", "Close the `socket` given when stopping (the one the element made is always closed)",
      TRUE, ready));
  g_object_class_install_property(gobject_class, PROP_HOST, g_param_spec_string("host", "Host",
      "The IP address to send to (not a name); may change while playing", kDefaultHost, playing));
  g_object_class_install_property(gobject_class, PROP_PORT, g_param_spec_int("port", "Port",
      "The UDP port to send to; may change while playing", 0, 65535, kDefaultPort, playing));
  g_object_class_install_property(gobject_class, PROP_CODEC, g_param_spec_enum("codec", "Codec",
      "What the sink pad accepts, and so the payload type: pcmu (audio/x-mulaw, 0) or pcma (audio/x-alaw, 8)",
      GST_TYPE_RTP_NET_SINK_CODEC, GST_RTP_NET_SINK_CODEC_PCMU, ready));
  g_object_class_install_property(gobject_class, PROP_PTIME, g_param_spec_uint("ptime", "Packet time",
      "The audio in each packet (ms)", 10, 200, kDefaultPtimeMs, ready));
  g_object_class_install_property(gobject_class, PROP_MUTE, g_param_spec_boolean("mute", "Mute",
      "Send nothing (a call on hold, or not answered yet); the first packet after is marked", FALSE, playing));
  g_object_class_install_property(gobject_class, PROP_STATS, g_param_spec_boxed("stats", "Statistics",
      "Counters: packets and bytes sent, muted (buffers dropped by mute), no-destination (buffers dropped: "
      "host not an IP address the socket can reach), send-errors (packets the kernel refused); and the ssrc",
      GST_TYPE_STRUCTURE, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(element_class, "G.711 as RTP to a socket", "Sink/Network/RTP",
      "Packetises G.711 audio (PCMU or PCMA) into RTP and sends it on a UDP socket: payloader, valve and "
      "udpsink of a phone call's reply in one element",
      "clawvoice developers");
  gst_element_class_add_static_metadata(element_class, "example-launch-line",
      "gst-launch-1.0 audiotestsrc is-live=true wave=ticks ! audio/x-raw,rate=8000,channels=1 ! mulawenc ! "
      "rtpnetsink host=127.0.0.1 port=5004");
  gst_element_class_add_static_metadata(element_class, GST_ELEMENT_METADATA_DOC_URI,
      "docs/elements.md in the clawvoice source tree");
  gst_type_mark_as_plugin_api(GST_TYPE_RTP_NET_SINK_CODEC, (GstPluginAPIFlags) 0);
}
