/**
 * SECTION:element-rtpnetsrc
 * @title: rtpnetsrc
 *
 * rtpnetsrc receives RTP on a UDP socket and puts it out in sequence order, timestamped from the
 * packets' RTP timestamps: udpsrc and rtpjitterbuffer in one element that has no thread of its
 * own. The socket is read on a clawvoice network thread (the pooled context of the call, which
 * also carries realtimesink's Realtime session when both start in it), and every packet is pushed
 * downstream from there as soon as it may go: so nothing downstream may block (realtimesink never
 * does; put a queue before anything that syncs to the clock).
 *
 * The jitter buffer: a packet that comes in order goes out at once; one that comes after a gap is
 * held up to `latency` ms after its arrival for the missing ones, then the gap is given up (lost)
 * and the next packet goes out marked DISCONT. Late packets and duplicates are dropped; a new SSRC
 * or a jump of the sequence number starts over once a second packet follows in sequence (a lone
 * stray is dropped). Invalid RTP is dropped and counted. Counters are
 * in `stats`. Each buffer carries the kernel's receive time of its datagram, a
 * GstReferenceTimestampMeta of caps `timestamp/x-unix`, from which realtimesink measures the delay
 * added on the way to the voice (its `stats`, input-delay-*).
 *
 * With `depayload`, the element is also the depayloader of a phone call: G.711 packets go out as
 * their audio (payload type 0 as audio/x-mulaw, 8 as audio/x-alaw; the payload shares the
 * datagram's memory and keeps its PTS, DISCONT and arrival meta), RFC 4733 telephone-events of
 * `telephone-event-payload-type` are posted as `dtmf-event` element messages, one per event, as
 * rtpdtmfdepay posts them, and any other type is dropped. So `rtpnetsrc depayload=true !
 * realtimesink` replaces rtpptdemux, the depayloaders, funnel and rtpdtmfdepay (one push per
 * packet instead of four).
 *
 * The socket is one the application gives (`socket`, e.g. the one whose port it put in an SDP
 * answer, shared with a udpsink for symmetric RTP), or one the element binds on `address`:`port`.
 * With `timeout` set, the element posts an element message named `clawvoice-rtp-timeout` (field
 * `timeout`, guint64 ns) when no packet came for that long, and again every `timeout` after.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 rtpnetsrc port=5004 latency=60 \
 *     caps="application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0" ! \
 *     rtppcmudepay ! realtimesink url=ws://127.0.0.1:8765/v1/realtime api-key=sk-demo ! fakesink
 * ]| The μ-law a SIP peer sends to port 5004 goes to the Realtime voice, in order, untranscoded.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "rtpnetsrc/gstrtpnetsrc.h"

#include <gio/gio.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <errno.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "clawvoice-contract.h"
#include "net/context_runner.h"
#include "net/net_thread.h"
#include "rtpnetsrc/rtp_reorder.h"

GST_DEBUG_CATEGORY_STATIC(gst_rtp_net_src_debug);
#define GST_CAT_DEFAULT gst_rtp_net_src_debug

using namespace clawvoice;
using Reorder = rtpnetsrc::RtpReorder<GstBuffer *>;

namespace {

constexpr gsize kMaxPacketBytes = 1500;    /* an Ethernet MTU: RTP audio never comes larger */
constexpr int kMaxReadsPerWakeup = 64;     /* then let the thread's other calls run */
constexpr guint kDefaultLatencyMs = 60;
constexpr gint kDefaultPort = 5004;
constexpr const char *kDefaultAddress = "0.0.0.0";

enum {
  PROP_0,
  PROP_SOCKET,
  PROP_CLOSE_SOCKET,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CAPS,
  PROP_LATENCY,
  PROP_TIMEOUT,
  PROP_PAYLOAD_TYPES,
  PROP_DEPAYLOAD,
  PROP_TELEPHONE_EVENT_PT,
  PROP_STATS,
};

GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("application/x-rtp; audio/x-mulaw, rate=(int)8000, channels=(int)1; "
                    "audio/x-alaw, rate=(int)8000, channels=(int)1"));

/* RFC 4733: events 0-15 are the DTMF digits 0-9, *, #, A-D (rtpdtmfdepay takes no others). */
constexpr guint8 kMaxDtmfEvent = 15;

/* The timer source: its ready time is the next reorder deadline or timeout check, whichever is
 * first; dispatch does the work (see on_timer). */
struct TimerSource {
  GSource base;
  GstRtpNetSrc *owner;
};

}  // namespace

struct RtpNetSrcPrivate {
  std::mutex lock;   /* the properties and the stats snapshot; everything below "network" is not */
  GSocket *socket = nullptr;          /* the `socket` property */
  gboolean close_socket = TRUE;
  std::string address = kDefaultAddress;
  gint port = kDefaultPort;
  GstCaps *caps = nullptr;
  guint latency_ms = kDefaultLatencyMs;
  guint64 timeout_ns = 0;
  std::vector<gint> payload_types;     /* empty: all */
  gboolean depayload = FALSE;
  gint telephone_event_pt = -1;
  rtpnetsrc::ReorderStats stats;
  guint64 received = 0, invalid = 0, filtered = 0;

  /* Between NULL→READY and READY→NULL. */
  std::shared_ptr<net::NetThread> net;
  GSocket *used_socket = nullptr;      /* the one read: `socket`, or ours */
  bool own_socket = false;

  /* Network thread only, while PLAYING. */
  GSource *read_source = nullptr;
  /* Or, on a network pool thread, the thread reads the socket itself (no GLib dispatch per packet). */
  std::shared_ptr<clawvoice::net::ContextRunner::DirectReader> direct_reader;
  bool reading = false;   /* in on_readable() */
  GSource *timer_source = nullptr;
  std::unique_ptr<Reorder> reorder;
  gint clock_rate = 8000;
  bool events_sent = false;
  bool stopped = false;                /* a flow error or flushing: no more pushes */
  std::atomic<bool> pushing{false};    /* PLAYING: set by the state changes, read here */
  gint64 last_packet_us = 0;           /* or last timeout message */
  guint64 ext_ts_state = -1;           /* gst_rtp_buffer_ext_timestamp()'s */
  guint64 base_ext_ts = 0;
  GstClockTime base_pts = GST_CLOCK_TIME_NONE;
  guint32 base_ssrc = 0;
  guint64 invalid_net = 0;
  guint64 filtered_net = 0;
  bool accepted[128] = {};             /* by payload type, from payload_types at start */
  /* depayload (copied at start): G.711 out as audio, telephone-events as messages. */
  bool depayload_net = false;
  gint telephone_event_pt_net = -1;
  gint caps_pt = -1;                   /* the payload type whose audio caps went out last */
  bool dtmf_seen = false;              /* an event was posted; dtmf_ts is its timestamp */
  guint32 dtmf_ts = 0;
  guint64 dtmf_events = 0, dtmf_events_net = 0;
};

struct _GstRtpNetSrc {
  GstElement parent;
  GstPad *srcpad;
  RtpNetSrcPrivate *priv;
};

G_DEFINE_TYPE(GstRtpNetSrc, gst_rtp_net_src, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(rtpnetsrc, "rtpnetsrc", GST_RANK_NONE, GST_TYPE_RTP_NET_SRC,
    GST_DEBUG_CATEGORY_INIT(gst_rtp_net_src_debug, "clawvoice-rtpnetsrc", 0, "RTP from a socket, in order"));

/* ---- network thread ---- */

static GstClockTime running_time_now(GstRtpNetSrc *self)
{
  GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock)
    return GST_CLOCK_TIME_NONE;
  GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  return now > base ? now - base : 0;
}

/* PTS from the RTP timestamp, on a timeline anchored at the arrival of the stream's first packet:
 * jitter does not move it. Re-anchored on a new SSRC, or when it strays a second from the arrival
 * time (a timestamp jump, or a sender's clock far off ours). */
static GstClockTime pts_of(RtpNetSrcPrivate *p, guint32 rtp_ts, guint32 ssrc, GstClockTime arrival)
{
  if (!GST_CLOCK_TIME_IS_VALID(arrival))
    return GST_CLOCK_TIME_NONE;
  if (ssrc != p->base_ssrc)
    p->ext_ts_state = -1;
  guint64 ext = gst_rtp_buffer_ext_timestamp(&p->ext_ts_state, rtp_ts);
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(p->base_pts) && ssrc == p->base_ssrc && ext >= p->base_ext_ts)
    pts = p->base_pts + gst_util_uint64_scale_int(ext - p->base_ext_ts, GST_SECOND, p->clock_rate);
  if (!GST_CLOCK_TIME_IS_VALID(pts) || GST_CLOCK_DIFF(pts, arrival) > (GstClockTimeDiff) GST_SECOND ||
      GST_CLOCK_DIFF(arrival, pts) > (GstClockTimeDiff) GST_SECOND) {
    p->base_pts = arrival;
    p->base_ext_ts = ext;
    p->base_ssrc = ssrc;
    pts = arrival;
  }
  return pts;
}

/* Stream start, caps and segment before the first buffer. @audio_pt: with depayload, the payload
 * type of the audio that follows (its caps). */
static void send_stream_events(GstRtpNetSrc *self, gint audio_pt = -1)
{
  RtpNetSrcPrivate *p = self->priv;
  gchar *stream_id = gst_pad_create_stream_id(self->srcpad, GST_ELEMENT(self), nullptr);
  gst_pad_push_event(self->srcpad, gst_event_new_stream_start(stream_id));
  g_free(stream_id);
  GstCaps *caps;
  if (p->depayload_net) {
    caps = gst_caps_new_simple(audio_pt == 8 ? "audio/x-alaw" : "audio/x-mulaw", "rate", G_TYPE_INT, 8000,
                               "channels", G_TYPE_INT, 1, nullptr);
    p->caps_pt = audio_pt;
  } else {
    std::lock_guard<std::mutex> lock(p->lock);
    caps = p->caps ? gst_caps_ref(p->caps) : gst_caps_new_empty_simple("application/x-rtp");
  }
  gst_pad_push_event(self->srcpad, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(self->srcpad, gst_event_new_segment(&segment));
  p->events_sent = true;
}

/* Where an RTP packet's payload is: after the header, its CSRCs and extension, before its padding.
 * The packet was validated on arrival (gst_rtp_buffer_map). */
static bool payload_region(GstBuffer *packet, gsize *offset, gsize *size)
{
  GstMapInfo map;
  if (!gst_buffer_map(packet, &map, GST_MAP_READ))
    return false;
  const guint8 *d = map.data;
  gsize header = 12 + 4 * (d[0] & 0x0f);
  if ((d[0] & 0x10) && map.size >= header + 4)
    header += 4 + 4 * (gsize) GST_READ_UINT16_BE(d + header + 2);
  gsize padding = (d[0] & 0x20) ? d[map.size - 1] : 0;
  const bool ok = map.size >= header + padding;
  if (ok) {
    *offset = header;
    *size = map.size - header - padding;
  }
  gst_buffer_unmap(packet, &map);
  return ok;
}

/* An RFC 4733 telephone-event packet: a `dtmf-event` message at the start of each event, as
 * rtpdtmfdepay posts it (an event's packets share its timestamp; its retransmitted end packets too). */
static void handle_telephone_event(GstRtpNetSrc *self, GstBuffer *packet)
{
  RtpNetSrcPrivate *p = self->priv;
  gsize offset = 0, size = 0;
  guint8 event[4];
  guint8 header[8];
  if (!payload_region(packet, &offset, &size) || size < 4 || gst_buffer_extract(packet, offset, event, 4) != 4 ||
      gst_buffer_extract(packet, 0, header, 8) != 8)
    return;
  const guint32 ts = GST_READ_UINT32_BE(header + 4);
  if (event[0] > kMaxDtmfEvent || (p->dtmf_seen && ts == p->dtmf_ts))
    return;
  p->dtmf_seen = true;
  p->dtmf_ts = ts;
  p->dtmf_events_net++;
  GST_DEBUG_OBJECT(self, "telephone-event %u", event[0]);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self),
      gst_structure_new("dtmf-event", "type", G_TYPE_INT, 1, "number", G_TYPE_INT, (gint) event[0], "volume",
                        G_TYPE_INT, (gint) (event[1] & 0x3f), "method", G_TYPE_INT, 1, nullptr)));
}

/* depayload: the G.711 payload of @packet as audio (PTS, DISCONT, metas and memory shared), with
 * new caps first if the law changed; telephone-events become messages. Takes @packet; nullptr:
 * nothing to push. */
static GstBuffer *depayload_packet(GstRtpNetSrc *self, GstBuffer *packet, guint8 pt)
{
  RtpNetSrcPrivate *p = self->priv;
  if ((gint) pt == p->telephone_event_pt_net) {
    handle_telephone_event(self, packet);
    gst_buffer_unref(packet);
    return nullptr;
  }
  gsize offset = 0, size = 0;
  if ((pt != 0 && pt != 8) || !payload_region(packet, &offset, &size) || size == 0) {
    p->filtered_net++;   /* not G.711, or nothing in it */
    gst_buffer_unref(packet);
    return nullptr;
  }
  GstBuffer *audio = gst_buffer_copy_region(packet, GST_BUFFER_COPY_ALL, offset, size);
  gst_buffer_unref(packet);
  if (!p->events_sent) {
    send_stream_events(self, pt);
  } else if ((gint) pt != p->caps_pt) {
    p->caps_pt = pt;
    gst_pad_push_event(self->srcpad, gst_event_new_caps(gst_caps_new_simple(pt == 8 ? "audio/x-alaw" : "audio/x-mulaw",
        "rate", G_TYPE_INT, 8000, "channels", G_TYPE_INT, 1, nullptr)));
  }
  return audio;
}

static void push_released(GstRtpNetSrc *self, std::vector<Reorder::Released> &released)
{
  RtpNetSrcPrivate *p = self->priv;
  for (auto &r : released) {
    if (p->stopped || !p->pushing) {
      gst_buffer_unref(r.packet);
      continue;
    }
    /* After the reorder, not before: the dropped types (comfort noise, say) share the sequence
     * numbers, and dropping them first would look like loss and hold the next packet. */
    guint8 pt = 0;
    if (gst_buffer_extract(r.packet, 1, &pt, 1) == 1 && !p->accepted[pt & 0x7f]) {
      p->filtered_net++;
      gst_buffer_unref(r.packet);
      continue;
    }
    if (p->depayload_net) {
      r.packet = depayload_packet(self, r.packet, pt & 0x7f);
      if (!r.packet)
        continue;
    } else if (!p->events_sent) {
      send_stream_events(self);
    }
    if (r.discont)
      GST_BUFFER_FLAG_SET(r.packet, GST_BUFFER_FLAG_DISCONT);
    GstFlowReturn flow = gst_pad_push(self->srcpad, r.packet);
    if (flow == GST_FLOW_OK || flow == GST_FLOW_NOT_LINKED)
      continue;
    p->stopped = true;
    if (flow == GST_FLOW_FLUSHING || flow == GST_FLOW_EOS) {
      GST_DEBUG_OBJECT(self, "downstream says %s: no more packets", gst_flow_get_name(flow));
    } else {
      GST_ELEMENT_FLOW_ERROR(self, flow);
    }
  }
  released.clear();
}

static void update_stats(GstRtpNetSrc *self, guint64 received)
{
  RtpNetSrcPrivate *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  p->stats = p->reorder->stats();
  p->received += received;
  p->invalid = p->invalid_net;
  p->filtered = p->filtered_net;
  p->dtmf_events = p->dtmf_events_net;
}

/* Sets the timer for the next reorder deadline or RTP timeout check. @only_earlier (from a packet):
 * leave it alone unless that comes sooner. Each g_source_set_ready_time() that changes it writes the
 * context's wake-up eventfd, and every packet pushes the timeout check 20 ms later; firing early
 * costs nothing (on_timer() looks at the clock and sets it again). */
static void rearm_timer(GstRtpNetSrc *self, guint64 timeout_ns, bool only_earlier = false)
{
  RtpNetSrcPrivate *p = self->priv;
  gint64 ready = p->reorder->next_deadline_us();
  if (timeout_ns > 0) {
    gint64 check = p->last_packet_us + (gint64) (timeout_ns / 1000);
    ready = ready < 0 ? check : std::min(ready, check);
  }
  if (only_earlier) {
    gint64 current = g_source_get_ready_time(p->timer_source);
    if (current >= 0 && (ready < 0 || current <= ready))
      return;
  }
  g_source_set_ready_time(p->timer_source, ready);
}

static guint64 timeout_ns_of(RtpNetSrcPrivate *p)
{
  std::lock_guard<std::mutex> lock(p->lock);
  return p->timeout_ns;
}

static gboolean on_readable(GSocket *socket, GIOCondition, gpointer data)
{
  auto *self = static_cast<GstRtpNetSrc *>(data);
  RtpNetSrcPrivate *p = self->priv;
  if (p->reading)
    return G_SOURCE_CONTINUE;   /* the source may recurse (start_reading()); this may not */
  p->reading = true;
  std::vector<Reorder::Released> released;
  std::vector<GstBuffer *> dropped;
  guint64 received = 0;
  static GstStaticCaps arrival_caps = GST_STATIC_CAPS(CLAWVOICE_ARRIVAL_TIME_CAPS);
  GstCaps *arrival = gst_static_caps_get(&arrival_caps);
  for (int i = 0; i < kMaxReadsPerWakeup; i++) {
    if (g_socket_is_closed(socket)) {
      /* Closed under us (the application's socket): it would be readable forever. */
      GST_ELEMENT_WARNING(self, RESOURCE, READ, ("The RTP socket was closed while in use."), (nullptr));
      gst_caps_unref(arrival);
      push_released(self, released);
      update_stats(self, received);
      p->reading = false;
      return G_SOURCE_REMOVE;   /* stop_reading() still drops our reference */
    }
    /* recvmsg() rather than GSocket's receive: GIO drops the timestamp's control message. */
    GstBuffer *buffer = gst_buffer_new_allocate(nullptr, kMaxPacketBytes, nullptr);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    struct iovec iov = {map.data, map.size};
    union {
      char buf[CMSG_SPACE(sizeof(struct timespec))];
      struct cmsghdr align;
    } control;
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    gssize n = recvmsg(g_socket_get_fd(socket), &msg, MSG_DONTWAIT);
    const int receive_errno = errno;
    gst_buffer_unmap(buffer, &map);
    if (n < 0) {
      gst_buffer_unref(buffer);
      /* EAGAIN: all read. Anything else (an ICMP port unreachable reported on the socket, say)
       * concerns one packet, not the stream: read on. */
      if (receive_errno == EAGAIN || receive_errno == EWOULDBLOCK)
        break;
      GST_DEBUG_OBJECT(self, "receive: %s", g_strerror(receive_errno));
      continue;
    }
    gst_buffer_set_size(buffer, n);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        gst_buffer_add_reference_timestamp_meta(buffer, arrival,
            (GstClockTime) ts.tv_sec * GST_SECOND + (GstClockTime) ts.tv_nsec, GST_CLOCK_TIME_NONE);
      }
    }
    received++;

    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
      if (p->invalid_net++ == 0)
        GST_WARNING_OBJECT(self, "dropping a packet of %" G_GSSIZE_FORMAT " bytes that is not RTP (and any after, "
                           "counted in stats)", n);
      gst_buffer_unref(buffer);
      continue;
    }
    const guint16 seq = gst_rtp_buffer_get_seq(&rtp);
    const guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    const guint32 rtp_ts = gst_rtp_buffer_get_timestamp(&rtp);
    gst_rtp_buffer_unmap(&rtp);

    const gint64 now_us = g_get_monotonic_time();
    p->last_packet_us = now_us;
    GST_BUFFER_PTS(buffer) = pts_of(p, rtp_ts, ssrc, running_time_now(self));
    p->reorder->push(seq, ssrc, buffer, now_us, &released, &dropped);
    for (GstBuffer *d : dropped) {
      GST_LOG_OBJECT(self, "dropped a packet (late, duplicate or a stray) on packet %u", seq);
      gst_buffer_unref(d);
    }
    dropped.clear();
  }
  gst_caps_unref(arrival);
  push_released(self, released);
  update_stats(self, received);
  rearm_timer(self, timeout_ns_of(p), true);
  p->reading = false;
  return G_SOURCE_CONTINUE;
}

static gboolean on_timer(GSource *source, GSourceFunc, gpointer)
{
  GstRtpNetSrc *self = reinterpret_cast<TimerSource *>(source)->owner;
  RtpNetSrcPrivate *p = self->priv;
  const gint64 now_us = g_get_monotonic_time();
  std::vector<Reorder::Released> released;
  p->reorder->expire(now_us, &released);
  push_released(self, released);
  update_stats(self, 0);

  const guint64 timeout_ns = timeout_ns_of(p);
  if (timeout_ns > 0 && now_us - p->last_packet_us >= (gint64) (timeout_ns / 1000)) {
    p->last_packet_us = now_us;   /* the next message comes `timeout` later, as udpsrc's */
    GST_INFO_OBJECT(self, "no RTP for %" GST_TIME_FORMAT, GST_TIME_ARGS(timeout_ns));
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self),
        gst_structure_new(CLAWVOICE_RTP_TIMEOUT_MESSAGE, "timeout", G_TYPE_UINT64, timeout_ns, nullptr)));
  }
  rearm_timer(self, timeout_ns);
  return G_SOURCE_CONTINUE;
}

/* Network thread: start reading (PAUSED→PLAYING). */
static void start_reading(GstRtpNetSrc *self)
{
  RtpNetSrcPrivate *p = self->priv;
  guint latency_ms;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    latency_ms = p->latency_ms;
    const GstStructure *s = p->caps && !gst_caps_is_empty(p->caps) ? gst_caps_get_structure(p->caps, 0) : nullptr;
    gint rate = 0;
    if (s && gst_structure_get_int(s, "clock-rate", &rate) && rate > 0)
      p->clock_rate = rate;
    for (int pt = 0; pt < 128; pt++)
      p->accepted[pt] = p->payload_types.empty();
    for (gint pt : p->payload_types)
      p->accepted[pt] = true;
    p->depayload_net = p->depayload;
    p->telephone_event_pt_net = p->telephone_event_pt;
  }
  if (!p->reorder)
    p->reorder = std::make_unique<Reorder>((gint64) latency_ms * 1000);
  p->stopped = false;
  p->last_packet_us = g_get_monotonic_time();

  /* The kernel stamps each datagram with its arrival: on_readable() hands it on with the buffer
   * (CLAWVOICE_ARRIVAL_TIME_CAPS), so that the delay we add inbound can be measured downstream. */
  const int on = 1;
  if (setsockopt(g_socket_get_fd(p->used_socket), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0)
    GST_DEBUG_OBJECT(self, "no receive timestamps: %s", g_strerror(errno));

  GMainContext *context = p->net->context();
  p->direct_reader = clawvoice::net::ContextRunner::add_direct_reader(context, g_socket_get_fd(p->used_socket),
      [self]() {
        RtpNetSrcPrivate *priv = self->priv;
        if (on_readable(priv->used_socket, G_IO_IN, self) == G_SOURCE_REMOVE) {
          clawvoice::net::ContextRunner::remove_direct_reader(priv->direct_reader);
          priv->direct_reader.reset();
        }
      });
  if (!p->direct_reader) {
    p->read_source = g_socket_create_source(p->used_socket, G_IO_IN, nullptr);
    g_source_set_callback(p->read_source, G_SOURCE_FUNC(on_readable), self, nullptr);
    g_source_set_priority(p->read_source, G_PRIORITY_HIGH);   /* audio before housekeeping */
    /* GLib blocks a source that may not recurse for each dispatch, and unblocking it writes the
     * context's wake-up eventfd: a write and a wasted turn of the loop per packet. Nothing
     * iterates the context inside on_readable(), which guards itself anyway. */
    g_source_set_can_recurse(p->read_source, TRUE);
    g_source_attach(p->read_source, context);
  }

  static GSourceFuncs timer_funcs = {nullptr, nullptr, on_timer, nullptr, nullptr, nullptr};
  p->timer_source = g_source_new(&timer_funcs, sizeof(TimerSource));
  reinterpret_cast<TimerSource *>(p->timer_source)->owner = self;
  g_source_set_name(p->timer_source, "rtpnetsrc-timer");
  g_source_attach(p->timer_source, context);
  rearm_timer(self, timeout_ns_of(p));
}

/* Network thread: stop reading (PLAYING→PAUSED); what is held stays for a resume. */
static void stop_reading(GstRtpNetSrc *self)
{
  RtpNetSrcPrivate *p = self->priv;
  clawvoice::net::ContextRunner::remove_direct_reader(p->direct_reader);
  p->direct_reader.reset();
  for (GSource **source : {&p->read_source, &p->timer_source}) {
    if (*source) {
      g_source_destroy(*source);
      g_source_unref(*source);
      *source = nullptr;
    }
  }
}

/* ---- state ---- */

static bool open_socket(GstRtpNetSrc *self)
{
  RtpNetSrcPrivate *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  if (p->socket) {
    if (g_socket_is_closed(p->socket)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("The socket given is closed."),
                        ("close-socket=true closed it when the element last went to NULL"));
      return false;
    }
    p->used_socket = G_SOCKET(g_object_ref(p->socket));
    p->own_socket = p->close_socket;
    return true;
  }
  GError *error = nullptr;
  GInetAddress *inet = g_inet_address_new_from_string(p->address.c_str());
  if (!inet) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid address '%s'.", p->address.c_str()), (nullptr));
    return false;
  }
  GSocket *socket = g_socket_new(g_inet_address_get_family(inet), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                                 &error);
  GSocketAddress *address = socket ? g_inet_socket_address_new(inet, (guint16) p->port) : nullptr;
  g_object_unref(inet);
  if (socket && !g_socket_bind(socket, address, TRUE, &error))
    g_clear_object(&socket);
  g_clear_object(&address);
  if (!socket) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not bind UDP %s:%d.", p->address.c_str(), p->port),
                      ("%s", error ? error->message : "?"));
    g_clear_error(&error);
    return false;
  }
  p->used_socket = socket;
  p->own_socket = true;
  return true;
}

static void close_socket(GstRtpNetSrc *self)
{
  RtpNetSrcPrivate *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  if (!p->used_socket)
    return;
  if (p->own_socket)
    g_socket_close(p->used_socket, nullptr);
  g_clear_object(&p->used_socket);
}

static GstStateChangeReturn gst_rtp_net_src_change_state(GstElement *element, GstStateChange transition)
{
  GstRtpNetSrc *self = GST_RTP_NET_SRC(element);
  RtpNetSrcPrivate *p = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!open_socket(self))
        return GST_STATE_CHANGE_FAILURE;
      /* Inside a call's pooled context (the launcher starts a call's pipeline there), this is that
       * context: the socket then shares a thread and its wake-ups with the call's Realtime session. */
      {
        std::lock_guard<std::mutex> lock(p->lock);   /* set_property reads it */
        p->net = net::NetThread::acquire_pooled();
      }
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      /* No waiting here: the sinks are PAUSED already, and a push in progress waits in one of them
       * for PLAYING, or for PAUSED→READY to flush it. From now on nothing new is pushed, and the
       * sources go as soon as the network thread gets to it. */
      p->pushing = false;
      gst_object_ref(self);
      p->net->invoke([self]() {
        if (!self->priv->pushing)
          stop_reading(self);
        gst_object_unref(self);
      });
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* The sinks flush now, so a push in progress returns: wait for it, and for the sources to go
       * (they may not have yet, after PLAYING→PAUSED). Inline on the network thread itself. */
      p->net->invoke_sync([self]() { stop_reading(self); });
      break;
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_rtp_net_src_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;   /* live */
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      /* No waiting either: after a pause, the network thread may still be in a push that a sink
       * holds until it is PLAYING, and the bin may not have set it yet. Closures run in order, so
       * this comes after PLAYING→PAUSED's. */
      p->pushing = true;
      gst_object_ref(self);
      p->net->invoke([self]() {
        stop_reading(self);   /* if PLAYING→PAUSED's found us PLAYING again */
        if (self->priv->pushing)
          start_reading(self);
        gst_object_unref(self);
      });
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      /* Nothing reads now (stopped at PLAYING→PAUSED): the network-thread state is ours. */
      std::vector<Reorder::Released> held;
      std::vector<GstBuffer *> candidate;
      if (p->reorder) {
        p->reorder->flush(&held);
        p->reorder->drop_candidate(&candidate);
      }
      for (auto &r : held)
        gst_buffer_unref(r.packet);
      for (GstBuffer *b : candidate)
        gst_buffer_unref(b);
      p->reorder.reset();
      p->events_sent = false;
      p->caps_pt = -1;
      p->dtmf_seen = false;
      p->ext_ts_state = -1;
      p->base_pts = GST_CLOCK_TIME_NONE;
      break;
    }
    case GST_STATE_CHANGE_READY_TO_NULL:
      close_socket(self);
      {
        std::lock_guard<std::mutex> lock(p->lock);
        p->net.reset();
      }
      break;
    default:
      break;
  }
  return ret;
}

static gboolean gst_rtp_net_src_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstRtpNetSrc *self = GST_RTP_NET_SRC(parent);
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    /* Live; a packet after a gap waits up to `latency`. */
    guint latency_ms;
    {
      std::lock_guard<std::mutex> lock(self->priv->lock);
      latency_ms = self->priv->latency_ms;
    }
    gst_query_set_latency(query, TRUE, latency_ms * GST_MSECOND, latency_ms * GST_MSECOND);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

/* ---- GObject ---- */

static void gst_rtp_net_src_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  RtpNetSrcPrivate *p = GST_RTP_NET_SRC(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (prop_id) {
    case PROP_SOCKET: {
      GSocket *old = p->socket;
      p->socket = G_SOCKET(g_value_dup_object(value));
      g_clear_object(&old);
      break;
    }
    case PROP_CLOSE_SOCKET: p->close_socket = g_value_get_boolean(value); break;
    case PROP_ADDRESS: {
      const gchar *s = g_value_get_string(value);
      p->address = s && *s ? s : kDefaultAddress;
      break;
    }
    case PROP_PORT: p->port = g_value_get_int(value); break;
    case PROP_CAPS: {
      const GstCaps *caps = gst_value_get_caps(value);
      gst_caps_take(&p->caps, caps ? gst_caps_copy(caps) : nullptr);
      break;
    }
    case PROP_LATENCY: p->latency_ms = g_value_get_uint(value); break;
    case PROP_PAYLOAD_TYPES: {
      p->payload_types.clear();
      for (guint i = 0; i < gst_value_array_get_size(value); i++) {
        const GValue *v = gst_value_array_get_value(value, i);
        gint pt = G_VALUE_HOLDS_INT(v) ? g_value_get_int(v) : -1;
        if (pt < 0 || pt > 127)
          GST_WARNING_OBJECT(object, "payload-types: %d is not an RTP payload type (0-127), ignored", pt);
        else
          p->payload_types.push_back(pt);
      }
      break;
    }
    case PROP_DEPAYLOAD: p->depayload = g_value_get_boolean(value); break;
    case PROP_TELEPHONE_EVENT_PT: p->telephone_event_pt = g_value_get_int(value); break;
    case PROP_TIMEOUT: {
      p->timeout_ns = g_value_get_uint64(value);
      /* While reading, the timer takes the new timeout now, not at the next packet. */
      if (p->net) {
        auto *self = GST_RTP_NET_SRC(gst_object_ref(object));
        p->net->invoke([self]() {
          RtpNetSrcPrivate *priv = self->priv;
          if (priv->timer_source)
            rearm_timer(self, timeout_ns_of(priv));
          gst_object_unref(self);
        });
      }
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_rtp_net_src_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  RtpNetSrcPrivate *p = GST_RTP_NET_SRC(object)->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  switch (prop_id) {
    case PROP_SOCKET: g_value_set_object(value, p->socket); break;
    case PROP_CLOSE_SOCKET: g_value_set_boolean(value, p->close_socket); break;
    case PROP_ADDRESS: g_value_set_string(value, p->address.c_str()); break;
    case PROP_PORT: g_value_set_int(value, p->port); break;
    case PROP_CAPS: gst_value_set_caps(value, p->caps); break;
    case PROP_LATENCY: g_value_set_uint(value, p->latency_ms); break;
    case PROP_TIMEOUT: g_value_set_uint64(value, p->timeout_ns); break;
    case PROP_DEPAYLOAD: g_value_set_boolean(value, p->depayload); break;
    case PROP_TELEPHONE_EVENT_PT: g_value_set_int(value, p->telephone_event_pt); break;
    case PROP_PAYLOAD_TYPES:
      for (gint pt : p->payload_types) {
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_INT);
        g_value_set_int(&v, pt);
        gst_value_array_append_and_take_value(value, &v);
      }
      break;
    case PROP_STATS:
      g_value_take_boxed(value, gst_structure_new("rtpnetsrc-stats",
          "received", G_TYPE_UINT64, p->received, "invalid", G_TYPE_UINT64, p->invalid,
          "filtered", G_TYPE_UINT64, p->filtered,
          "pushed", G_TYPE_UINT64, p->stats.pushed, "lost", G_TYPE_UINT64, p->stats.lost,
          "late", G_TYPE_UINT64, p->stats.late, "duplicates", G_TYPE_UINT64, p->stats.duplicates,
          "reordered", G_TYPE_UINT64, p->stats.reordered, "resyncs", G_TYPE_UINT64, p->stats.resyncs,
          "strays", G_TYPE_UINT64, p->stats.strays, "dtmf-events", G_TYPE_UINT64, p->dtmf_events, nullptr));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_rtp_net_src_finalize(GObject *object)
{
  GstRtpNetSrc *self = GST_RTP_NET_SRC(object);
  RtpNetSrcPrivate *p = self->priv;
  g_clear_object(&p->socket);
  g_clear_object(&p->used_socket);
  gst_caps_replace(&p->caps, nullptr);
  delete p;
  G_OBJECT_CLASS(gst_rtp_net_src_parent_class)->finalize(object);
}

static void gst_rtp_net_src_init(GstRtpNetSrc *self)
{
  self->priv = new RtpNetSrcPrivate();
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, gst_rtp_net_src_query);
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
}

static void gst_rtp_net_src_class_init(GstRtpNetSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_rtp_net_src_set_property;
  gobject_class->get_property = gst_rtp_net_src_get_property;
  gobject_class->finalize = gst_rtp_net_src_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_rtp_net_src_change_state);

  const auto ready = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(gobject_class, PROP_SOCKET, g_param_spec_object("socket", "Socket",
      "A bound UDP socket to read (e.g. the one whose port an SDP answer gave; a udpsink may send from it "
      "too); without one the element binds address:port", G_TYPE_SOCKET, ready));
  g_object_class_install_property(gobject_class, PROP_CLOSE_SOCKET, g_param_spec_boolean("close-socket",
      "Close socket", "Close the `socket` given at READY→NULL (the one the element bound is always closed)",
      TRUE, ready));
  g_object_class_install_property(gobject_class, PROP_ADDRESS, g_param_spec_string("address", "Address",
      "Without `socket`: the address to bind", kDefaultAddress, ready));
  g_object_class_install_property(gobject_class, PROP_PORT, g_param_spec_int("port", "Port",
      "Without `socket`: the UDP port to bind", 0, 65535, kDefaultPort, ready));
  g_object_class_install_property(gobject_class, PROP_CAPS, g_param_spec_boxed("caps", "Caps",
      "The caps of the RTP stream (application/x-rtp with clock-rate: the PTS follow the RTP timestamps at "
      "that rate)", GST_TYPE_CAPS, ready));
  g_object_class_install_property(gobject_class, PROP_LATENCY, g_param_spec_uint("latency", "Latency",
      "How long a packet after a gap waits for the missing ones before they are given up (ms); packets in "
      "order never wait", 0, 2000, kDefaultLatencyMs, ready));
  g_object_class_install_property(gobject_class, PROP_TIMEOUT, g_param_spec_uint64("timeout", "Timeout",
      "Post a " CLAWVOICE_RTP_TIMEOUT_MESSAGE " element message after this long without a packet, and again "
      "every as long after (ns; 0 = never)", 0, G_MAXUINT64, 0,
      (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(gobject_class, PROP_PAYLOAD_TYPES, gst_param_spec_array("payload-types",
      "Payload types", "The RTP payload types put out, e.g. <0, 101> (empty: all); the others (comfort "
      "noise, a codec not answered) are dropped after the reorder, as they share the sequence numbers",
      g_param_spec_int("payload-type", "Payload type", "An RTP payload type", 0, 127, 0,
                       (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS)),
      ready));
  g_object_class_install_property(gobject_class, PROP_DEPAYLOAD, g_param_spec_boolean("depayload", "Depayload",
      "Put out the G.711 audio of the packets (audio/x-mulaw for payload type 0, audio/x-alaw for 8; other "
      "types are dropped) instead of RTP, and post RFC 4733 telephone-events (telephone-event-payload-type) "
      "as dtmf-event messages, as rtpdtmfdepay does: a phone call's RTP straight into realtimesink",
      FALSE, ready));
  g_object_class_install_property(gobject_class, PROP_TELEPHONE_EVENT_PT, g_param_spec_int(
      "telephone-event-payload-type", "Telephone-event payload type",
      "With depayload: the payload type of RFC 4733 telephone-events (the SDP's, e.g. 101); -1 = none",
      -1, 127, -1, ready));
  g_object_class_install_property(gobject_class, PROP_STATS, g_param_spec_boxed("stats", "Statistics",
      "Counters: packets received, invalid (not RTP), filtered (a payload type not in payload-types), pushed, lost (given up), late, duplicates, reordered "
      "(put back in place), resyncs (new SSRC or sequence jump), strays (far off the sequence, alone: dropped), "
      "dtmf-events (with depayload: events posted)", GST_TYPE_STRUCTURE,
      (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "RTP from a socket, in order", "Source/Network/RTP",
      "Receives RTP on a UDP socket on a clawvoice network thread and puts it out in sequence order "
      "(a jitter buffer without a thread of its own), timestamped from the RTP timestamps",
      "clawvoice developers");
  gst_element_class_add_static_metadata(element_class, "example-launch-line",
      "gst-launch-1.0 rtpnetsrc port=5004 caps=\"application/x-rtp,media=audio,clock-rate=8000,"
      "encoding-name=PCMU,payload=0\" ! rtppcmudepay ! realtimesink url=ws://127.0.0.1:8765/v1/realtime "
      "api-key=sk-demo ! fakesink");
  gst_element_class_add_static_metadata(element_class, GST_ELEMENT_METADATA_DOC_URI,
      "docs/elements.md in the clawvoice source tree");
}
