/**
 * SECTION:element-mulawbridge
 * @title: mulawbridge
 *
 * mulawbridge is the Twilio end of a phone call: a Media Streams (bidirectional) WebSocket endpoint.
 * Its `src` pad puts out the caller's audio, G.711 μ-law 8 kHz mono as Twilio sends it, as a live
 * stream timestamped from the stream's own clock (`timestamp`, ms since the stream started, mapped
 * to the running time at which `start` arrived). Its `sink` pad takes our reply in the same format
 * and sends it to Twilio in whole 20 ms frames, paced by the pipeline clock so that only a short lead
 * (`lead`) sits in Twilio's playback buffer.
 *
 * After the audio it sends a `mark` (every `mark-interval` frames and at the end of each burst);
 * Twilio echoes a mark once the audio before it has been played, so the element knows what the
 * caller actually HEARD (advanced with the clock between echoes) and answers the custom query
 * `clawvoice-heard-position` and the POSITION query (GST_FORMAT_TIME, running time) on its sink
 * pad with it. realtimesink asks the former on barge-in, through any transforms in between, to
 * truncate the model's reply where the caller stopped hearing it. On the `clawvoice-clear` event (barge-in) unsent audio is dropped at
 * once and Twilio is sent `clear`; marks released by that clear do not count as heard.
 *
 * The call's start (with the TwiML <Parameter>s), DTMF digits and its end are posted on the bus
 * (see mulawbridge-messages.h). Twilio's `stop` or a closed socket ends the `src` stream with EOS;
 * the element posts EOS itself once its sink pad has reached EOS and Twilio has played the rest.
 *
 * The WebSocket comes from an application (the `connection` property: a ClawvoiceWebSocket its
 * SoupServer upgraded on a clawvoice network thread, see gstmulawbridge.h), or the element listens
 * itself (`listen=true`), taking exactly one stream, so a plain gst-launch-1.0 line works.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mulawbridge name=tw listen=true address=0.0.0.0 port=8080 ! \
 *     realtimesink url=ws://127.0.0.1:8765/v1/realtime api-key=sk-demo ! tw.
 * ]| Answers one Twilio call streamed to ws://HOST:8080/voice/stream (behind a TLS proxy: Twilio
 * wants wss://) with the Realtime voice, μ-law in and out untouched.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "mulawbridge/gstmulawbridge.h"

#include <libsoup/soup.h>

#include "mulawbridge/mulawbridge_private.h"

GST_DEBUG_CATEGORY(gst_mulaw_bridge_debug);
#define GST_CAT_DEFAULT gst_mulaw_bridge_debug

using namespace clawvoice;
using namespace clawvoice::mulawbridge;

struct _GstMulawBridge {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  Private *priv;
};

G_DEFINE_TYPE(GstMulawBridge, gst_mulaw_bridge, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(mulawbridge, "mulawbridge", GST_RANK_NONE, GST_TYPE_MULAW_BRIDGE,
    GST_DEBUG_CATEGORY_INIT(gst_mulaw_bridge_debug, "clawvoice-mulawbridge", 0, "Twilio Media Streams bridge"));

#define MULAW_CAPS "audio/x-mulaw, rate=(int)8000, channels=(int)1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(MULAW_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(MULAW_CAPS));

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_START_MESSAGE,
  PROP_LISTEN,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_PATH,
  PROP_BOUND_PORT,
  PROP_LEAD,
  PROP_MARK_INTERVAL,
  PROP_FRAMES_PER_MESSAGE,
  PROP_POST_MARKS,
  PROP_PUSH_FROM_NETWORK_THREAD,
  PROP_STATS,
};

/* ---- Helpers shared with the protocol and sink files ---- */

namespace clawvoice::mulawbridge {

Private *get_private(GstMulawBridge *self)
{
  return self->priv;
}

void post_message(GstMulawBridge *self, GstStructure *structure)
{
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), structure));
}

bool current_running_time(GstMulawBridge *self, GstClockTime *running_time)
{
  {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    if (!self->priv->playing)
      return false;
  }
  GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock)
    return false;
  GstClockTime now = gst_clock_get_time(clock);
  GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  gst_object_unref(clock);
  *running_time = now > base ? now - base : 0;
  return true;
}

}  // namespace clawvoice::mulawbridge

/* ---- Src pad: the caller's audio ---- */

static void push_stream_start(GstMulawBridge *self)
{
  g_autofree gchar *id = gst_pad_create_stream_id(self->srcpad, GST_ELEMENT(self), "caller");
  gst_pad_push_event(self->srcpad, gst_event_new_stream_start(id));
  GstCaps *caps = gst_caps_from_string(MULAW_CAPS);
  gst_pad_push_event(self->srcpad, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  /* Buffers carry running times: a plain TIME segment from 0 maps them to themselves. */
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(self->srcpad, gst_event_new_segment(&segment));
}

/* Takes the next thing the src pad has to push: a buffer, the end of the stream, or nothing (lock
 * held). The stream-start events go before the first of them. */
struct SrcStep {
  bool start = false;
  GstBuffer *buffer = nullptr;
  bool eos = false;
};

static SrcStep take_src_step(Private *p)
{
  SrcStep step;
  if (p->src_flushing || !p->playing || p->src_halted)
    return step;
  if (p->in_queue.empty() && !(p->src_eos && !p->src_eos_sent))
    return step;
  step.start = !p->src_started;
  p->src_started = true;
  if (!p->in_queue.empty()) {
    step.buffer = p->in_queue.front();
    p->in_queue.pop_front();
    p->in_queued_bytes -= gst_buffer_get_size(step.buffer);
  }
  step.eos = !step.buffer && p->src_eos && !p->src_eos_sent;
  if (step.eos)
    p->src_eos_sent = true;
  return step;
}

/* Pushes @step (lock NOT held, the pad's stream lock held). False when the src stream is over: EOS
 * went out, or downstream stopped it. */
static bool push_src_step(GstMulawBridge *self, SrcStep &step)
{
  if (step.start)
    push_stream_start(self);
  if (step.buffer) {
    GstFlowReturn ret = gst_pad_push(self->srcpad, step.buffer);
    if (ret == GST_FLOW_OK || ret == GST_FLOW_NOT_LINKED || ret == GST_FLOW_FLUSHING)
      return true;
    GST_INFO_OBJECT(self, "downstream stopped the caller's audio: %s", gst_flow_get_name(ret));
    if (ret <= GST_FLOW_NOT_NEGOTIATED) {
      GST_ELEMENT_FLOW_ERROR(self, ret);
    }
    return false;
  }
  if (step.eos) {
    GST_INFO_OBJECT(self, "the caller's stream ended: EOS on src");
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
    return false;
  }
  return true;
}

static void gst_mulaw_bridge_loop(GstMulawBridge *self)
{
  Private *p = self->priv;
  std::unique_lock<std::mutex> lock(p->lock);
  p->src_cond.wait(lock, [p] {
    return p->src_flushing || !p->playing || !p->in_queue.empty() || (p->src_eos && !p->src_eos_sent);
  });
  SrcStep step = take_src_step(p);
  lock.unlock();
  if ((!step.buffer && !step.eos) || !push_src_step(self, step))
    gst_pad_pause_task(self->srcpad);   /* from the task itself: never waits */
}

namespace clawvoice::mulawbridge {

void push_caller_audio_here(GstMulawBridge *self)
{
  Private *p = self->priv;
  /* The stream lock makes this thread the src pad's streaming thread for the while, and lets a
   * deactivating pad (PAUSED→READY) wait for the push in progress, as it would for a task. */
  GST_PAD_STREAM_LOCK(self->srcpad);
  for (;;) {
    SrcStep step;
    {
      std::lock_guard<std::mutex> lock(p->lock);
      step = take_src_step(p);
    }
    if (!step.buffer && !step.eos)
      break;
    if (!push_src_step(self, step)) {
      std::lock_guard<std::mutex> lock(p->lock);
      p->src_halted = true;
      break;
    }
  }
  GST_PAD_STREAM_UNLOCK(self->srcpad);
}

}  // namespace clawvoice::mulawbridge

static gboolean gst_mulaw_bridge_src_activate_mode(GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active)
    return TRUE;   /* the task starts in PAUSED→PLAYING, like any live source */
  {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    self->priv->src_flushing = true;
    self->priv->src_cond.notify_all();
  }
  return gst_pad_stop_task(pad);
}

static gboolean gst_mulaw_bridge_src_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(parent);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_LATENCY: {
      /* Live: a chunk is out once Twilio sent all of it; we can hold the bounded queue. */
      std::lock_guard<std::mutex> lock(self->priv->lock);
      gst_query_set_latency(query, TRUE, self->priv->max_chunk, kMaxQueuedInBytes * kByteDuration);
      return TRUE;
    }
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
      return gst_pad_query_default(pad, parent, query);   /* fixed caps */
    default:
      return FALSE;   /* not forwarded: it would go round the mulawbridge ↔ realtimesink loop */
  }
}

static gboolean gst_mulaw_bridge_src_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  /* Nothing upstream of a network source: seeks are refused, the rest is noted and dropped. */
  gboolean handled = GST_EVENT_TYPE(event) != GST_EVENT_SEEK;
  gst_event_unref(event);
  return handled;
}

/* ---- The element as a sink: latency and EOS go through the bin's sink logic ---- */

static gboolean gst_mulaw_bridge_query(GstElement *element, GstQuery *query)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(element);
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY)
    return GST_ELEMENT_CLASS(gst_mulaw_bridge_parent_class)->query(element, query);
  /* Like a sink: the latency upstream of our sink pad, to which we add nothing (we send early, by
   * `lead`, never late). */
  GstQuery *upstream = gst_query_new_latency();
  gboolean live = FALSE;
  GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
  if (gst_pad_peer_query(self->sinkpad, upstream))
    gst_query_parse_latency(upstream, &live, &min, &max);
  gst_query_unref(upstream);
  gst_query_set_latency(query, live, min, max);
  return TRUE;
}

static gboolean gst_mulaw_bridge_send_event(GstElement *element, GstEvent *event)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(element);
  if (GST_EVENT_TYPE(event) == GST_EVENT_LATENCY) {
    GstClockTime latency;
    gst_event_parse_latency(event, &latency);
    {
      std::lock_guard<std::mutex> lock(self->priv->lock);
      self->priv->latency = latency;
    }
    GST_INFO_OBJECT(self, "pipeline latency %" GST_TIME_FORMAT, GST_TIME_ARGS(latency));
    gst_pad_push_event(self->sinkpad, event);   /* upstream (realtimesink) wants it too */
    return TRUE;
  }
  return GST_ELEMENT_CLASS(gst_mulaw_bridge_parent_class)->send_event(element, event);
}

/* ---- Properties ---- */

static GstStructure *build_stats(GstMulawBridge *self)
{
  Private *p = self->priv;
  guint64 socket_dropped = 0;
  std::lock_guard<std::mutex> lock(p->lock);
  if (p->socket)
    socket_dropped = p->socket->frames_dropped();
  const char *state = p->stream == StreamState::Waiting ? "waiting"
      : p->stream == StreamState::Started              ? "started"
                                                        : "ended";
  return gst_structure_new("mulawbridge-stats",
      "state", G_TYPE_STRING, state,
      "stream-sid", G_TYPE_STRING, p->start.stream_sid.c_str(),
      "call-sid", G_TYPE_STRING, p->start.call_sid.c_str(),
      "frames-in", G_TYPE_UINT64, p->frames_in,
      "bytes-in", G_TYPE_UINT64, p->bytes_in,
      "frames-in-dropped", G_TYPE_UINT64, p->frames_dropped_in,
      "frames-out", G_TYPE_UINT64, p->frames_out,
      "frames-out-dropped", G_TYPE_UINT64, p->frames_dropped_out,
      "messages-unsent", G_TYPE_UINT64, socket_dropped,
      "late-frames", G_TYPE_UINT64, p->late_frames,
      "marks-sent", G_TYPE_UINT64, p->marks.sent(),
      "marks-echoed", G_TYPE_UINT64, p->marks.heard() + p->marks.released(),
      "marks-heard", G_TYPE_UINT64, p->marks.heard(),
      "marks-released", G_TYPE_UINT64, p->marks.released(),
      "marks-outstanding", G_TYPE_UINT64, (guint64) p->marks.outstanding(),
      "clears", G_TYPE_UINT64, p->clears,
      "heard-ms", G_TYPE_UINT64, (guint64) (p->marks.heard_ns() / GST_MSECOND),
      "dtmf", G_TYPE_UINT64, p->dtmf,
      "protocol-warnings", G_TYPE_UINT64, p->protocol_warnings,
      nullptr);
}

static void set_string(std::string *field, const GValue *value, const char *fallback)
{
  const gchar *s = g_value_get_string(value);
  *field = s && *s ? s : fallback;
}

/* Takes the connection over now (see gstmulawbridge.h): its messages are kept until we start. */
static void take_connection(GstMulawBridge *self, GObject *connection)
{
  Private *p = self->priv;
  std::shared_ptr<StreamSocket> old, socket;
  std::shared_ptr<net::NetThread> net;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    p->release_connection(p->connection);
    p->connection = connection ? G_OBJECT(g_object_ref(connection)) : nullptr;
    old = std::move(p->socket);
    /* The connection's sources live on the context it was made on: use it from that thread. A
     * server of clawvoice's marks its connections with their thread; anything else is taken to
     * live on the shared one (as a SoupServer on NetThread::acquire()'s context does). */
    std::shared_ptr<net::NetThread> home = connection ? net::NetThread::of(connection) : nullptr;
    if (home)
      p->net = home;
    else if (!p->net)
      p->net = net::NetThread::acquire();
  }
  /* Outside the lock: these wait for the network thread, whose callbacks take it. */
  if (old)
    old->shutdown(net::kCloseGoingAway, "replaced");
  if (connection) {
    {
      std::lock_guard<std::mutex> lock(p->lock);
      net = p->net;
    }
    socket = std::make_shared<StreamSocket>(net, make_socket_callbacks(self));
    socket->adopt(CLAWVOICE_WEB_SOCKET(connection));
    std::lock_guard<std::mutex> lock(p->lock);
    p->socket = socket;
  }
}

static void gst_mulaw_bridge_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(object);
  Private *p = self->priv;
  if (prop_id == PROP_CONNECTION) {
    GstState state = GST_STATE(self);
    if (state > GST_STATE_READY) {
      GST_WARNING_OBJECT(self, "connection can only be set in NULL or READY: ignored");
      return;
    }
    take_connection(self, G_OBJECT(g_value_get_object(value)));
    return;
  }
  std::lock_guard<std::mutex> lock(p->lock);
  switch (prop_id) {
    case PROP_START_MESSAGE: set_string(&p->start_message, value, ""); break;
    case PROP_LISTEN: p->listen = g_value_get_boolean(value); break;
    case PROP_ADDRESS: set_string(&p->address, value, "127.0.0.1"); break;
    case PROP_PORT: p->port = (guint) g_value_get_int(value); break;
    case PROP_PATH: set_string(&p->path, value, "/voice/stream"); break;
    case PROP_LEAD: p->lead_ms = g_value_get_uint(value); break;
    case PROP_MARK_INTERVAL: p->mark_interval = g_value_get_uint(value); break;
    case PROP_FRAMES_PER_MESSAGE: p->frames_per_message = g_value_get_uint(value); break;
    case PROP_POST_MARKS: p->post_marks = g_value_get_boolean(value); break;
    case PROP_PUSH_FROM_NETWORK_THREAD: p->push_from_network = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_mulaw_bridge_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(object);
  Private *p = self->priv;
  if (prop_id == PROP_STATS) {
    g_value_take_boxed(value, build_stats(self));
    return;
  }
  std::lock_guard<std::mutex> lock(p->lock);
  switch (prop_id) {
    case PROP_CONNECTION: g_value_set_object(value, p->connection); break;
    case PROP_START_MESSAGE:
      g_value_set_string(value, p->start_message.empty() ? nullptr : p->start_message.c_str());
      break;
    case PROP_LISTEN: g_value_set_boolean(value, p->listen); break;
    case PROP_ADDRESS: g_value_set_string(value, p->address.c_str()); break;
    case PROP_PORT: g_value_set_int(value, (gint) p->port); break;
    case PROP_PATH: g_value_set_string(value, p->path.c_str()); break;
    case PROP_BOUND_PORT: g_value_set_int(value, (gint) p->bound_port); break;
    case PROP_LEAD: g_value_set_uint(value, p->lead_ms); break;
    case PROP_MARK_INTERVAL: g_value_set_uint(value, p->mark_interval); break;
    case PROP_FRAMES_PER_MESSAGE: g_value_set_uint(value, p->frames_per_message); break;
    case PROP_POST_MARKS: g_value_set_boolean(value, p->post_marks); break;
    case PROP_PUSH_FROM_NETWORK_THREAD: g_value_set_boolean(value, p->push_from_network); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

/* ---- State changes ---- */

/* A new call: everything learnt from the previous one goes (its statistics stay readable until here). */
static void reset_call_state(Private *p)
{
  p->stream = StreamState::Waiting;
  p->start = twilio::StartMessage();
  p->start_rt = 0;
  p->warned.clear();
  for (GstBuffer *b : p->in_queue)
    gst_buffer_unref(b);
  p->in_queue.clear();
  p->in_queued_bytes = 0;
  p->src_flushing = p->sink_flushing = false;
  p->src_started = p->src_eos = p->src_eos_sent = p->src_halted = false;
  p->next_in_pts = GST_CLOCK_TIME_NONE;
  p->in_discont = true;
  p->max_chunk = kFrame;
  gst_adapter_clear(p->adapter);
  gst_segment_init(&p->segment, GST_FORMAT_TIME);
  p->next_frame_rt = p->first_frame_rt = p->remote_end_rt = p->last_sent_end_rt = GST_CLOCK_TIME_NONE;
  p->marks.reset();
  p->heard_echo_us = 0;
  p->heard_at_clear = GST_CLOCK_TIME_NONE;
  p->frames_since_mark = 0;
  p->held_media.clear();
  p->held_frames = 0;
  p->sent_end_rt = GST_CLOCK_TIME_NONE;
  p->unmarked_start = p->unmarked_end = GST_CLOCK_TIME_NONE;
  p->eos_pending = p->eos_posted = false;
  p->eos_seqnum = 0;
  p->frames_in = p->bytes_in = p->frames_dropped_in = 0;
  p->frames_out = p->frames_dropped_out = p->late_frames = 0;
  p->clears = p->protocol_warnings = p->dtmf = 0;
}

/* READY→PAUSED: open the stream, from the adopted connection or our own server. */
static gboolean gst_mulaw_bridge_open(GstMulawBridge *self)
{
  Private *p = self->priv;
  bool listen;
  GObject *connection;
  std::string start_message, address, path;
  guint port;
  std::shared_ptr<StreamSocket> socket;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    reset_call_state(p);
    if (!p->net)
      p->net = net::NetThread::acquire();
    listen = p->listen;
    connection = p->connection;
    start_message = p->start_message;
    address = p->address;
    path = p->path;
    port = p->port;
    socket = p->socket;
  }
  if (listen && connection) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("mulawbridge has both a connection and listen=true."),
        ("use one: the application's connection, or the element's own server"));
    return FALSE;
  }
  if (listen) {
    socket = std::make_shared<StreamSocket>(p->net, make_socket_callbacks(self));
    guint bound = 0;
    std::string error;
    if (!socket->listen(address, port, path, &bound, &error)) {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE, ("Could not listen on %s:%u.", address.c_str(), port),
          ("%s", error.c_str()));
      return FALSE;
    }
    {
      std::lock_guard<std::mutex> lock(p->lock);
      p->socket = socket;
      p->bound_port = bound;
    }
    GST_INFO_OBJECT(self, "listening on ws://%s:%u%s", address.c_str(), bound, path.c_str());
    g_object_notify(G_OBJECT(self), "bound-port");
    return TRUE;
  }
  if (!connection) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("mulawbridge has no stream to serve."),
        ("set the connection property (with start-message) before READY→PAUSED, or listen=true"));
    return FALSE;
  }
  if (!socket) {
    /* Restarted after a call: the connection (probably closed by now) is taken over again. */
    take_connection(self, connection);
    std::lock_guard<std::mutex> lock(p->lock);
    socket = p->socket;
  }
  if (!start_message.empty() && !apply_start_message(self, start_message))
    return FALSE;
  socket->deliver();
  return TRUE;
}

/* PAUSED→READY, after the pads are deactivated: send what is queued, close, stop every callback. */
static void gst_mulaw_bridge_close(GstMulawBridge *self)
{
  Private *p = self->priv;
  std::shared_ptr<StreamSocket> socket;
  std::shared_ptr<net::NetThread> net;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    socket = std::move(p->socket);
    net = p->net;
    p->bound_port = 0;
  }
  if (socket)
    socket->shutdown(net::kCloseNormal, "call ended");
  if (net) {
    /* On the network thread, so the EOS timer is either done or never runs. */
    net->invoke_sync([p, net]() {
      guint timer;
      {
        std::lock_guard<std::mutex> lock(p->lock);
        timer = p->eos_timer;
        p->eos_timer = 0;
        p->eos_pending = false;
      }
      net->cancel_timer(timer);
    });
  }
}

static GstStateChangeReturn gst_mulaw_bridge_change_state(GstElement *element, GstStateChange transition)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(element);
  Private *p = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_mulaw_bridge_open(self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard<std::mutex> lock(p->lock);
      p->src_flushing = p->sink_flushing = true;
      p->playing = false;
      p->src_cond.notify_all();
      sink_wake(p);
      break;
    }
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_mulaw_bridge_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;   /* live: nothing to preroll */
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      std::lock_guard<std::mutex> lock(p->lock);
      p->playing = true;
      p->src_cond.notify_all();
      p->sink_cond.notify_all();
      if (p->push_from_network && p->net) {
        /* What arrived before PLAYING goes out from the network thread too, like what follows. */
        gst_object_ref(self);
        p->net->invoke([self]() {
          push_caller_audio_here(self);
          gst_object_unref(self);
        });
      } else {
        gst_pad_start_task(self->srcpad, (GstTaskFunction) gst_mulaw_bridge_loop, self, nullptr);
      }
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      /* Only wake the task and the chain; the task pauses itself (see realtimesink for why waiting
       * for it here could deadlock). */
      std::lock_guard<std::mutex> lock(p->lock);
      p->playing = false;
      p->src_cond.notify_all();
      sink_wake(p);
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_mulaw_bridge_close(self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL: {
      std::lock_guard<std::mutex> lock(p->lock);
      if (!p->socket)
        p->net.reset();
      break;
    }
    default:
      break;
  }
  return ret;
}

/* ---- GObject ---- */

static void gst_mulaw_bridge_init(GstMulawBridge *self)
{
  self->priv = new Private();

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, sink_chain);
  gst_pad_set_event_function(self->sinkpad, sink_event);
  gst_pad_set_query_function(self->sinkpad, sink_query);
  GST_PAD_SET_ACCEPT_TEMPLATE(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_activatemode_function(self->srcpad, gst_mulaw_bridge_src_activate_mode);
  gst_pad_set_query_function(self->srcpad, gst_mulaw_bridge_src_query);
  gst_pad_set_event_function(self->srcpad, gst_mulaw_bridge_src_event);
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);

  /* Both ends of the call: a live source, and a sink whose EOS the bin waits for. */
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
}

static void gst_mulaw_bridge_finalize(GObject *object)
{
  GstMulawBridge *self = GST_MULAW_BRIDGE(object);
  std::shared_ptr<StreamSocket> socket = std::move(self->priv->socket);
  if (socket)
    socket->shutdown(net::kCloseGoingAway, "");
  socket.reset();
  delete self->priv;
  G_OBJECT_CLASS(gst_mulaw_bridge_parent_class)->finalize(object);
}

static void gst_mulaw_bridge_class_init(GstMulawBridgeClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_mulaw_bridge_set_property;
  gobject_class->get_property = gst_mulaw_bridge_get_property;
  gobject_class->finalize = gst_mulaw_bridge_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_mulaw_bridge_change_state);
  element_class->query = GST_DEBUG_FUNCPTR(gst_mulaw_bridge_query);
  element_class->send_event = GST_DEBUG_FUNCPTR(gst_mulaw_bridge_send_event);

  const auto ready = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto playing = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(gobject_class, PROP_CONNECTION, g_param_spec_object("connection",
      "Connection", "A Twilio Media Streams WebSocket (ClawvoiceWebSocket) upgraded by the application's SoupServer on a "
      "clawvoice network thread; taken over (and its messages kept) as soon as it is set, in NULL or READY",
      CLAWVOICE_TYPE_WEB_SOCKET, ready));
  g_object_class_install_property(gobject_class, PROP_START_MESSAGE, g_param_spec_string("start-message",
      "Start message", "The raw text of Twilio's start message when the application already read it from "
      "the connection (to check the token in customParameters); handled first at READY→PAUSED",
      nullptr, ready));
  g_object_class_install_property(gobject_class, PROP_LISTEN, g_param_spec_boolean("listen", "Listen",
      "Run a WebSocket server of our own on address:port/path that takes exactly one stream (for "
      "gst-launch-1.0; the launcher passes a connection instead)", FALSE, ready));
  g_object_class_install_property(gobject_class, PROP_ADDRESS, g_param_spec_string("address", "Address",
      "With listen=true: the IP address to listen on", "127.0.0.1", ready));
  g_object_class_install_property(gobject_class, PROP_PORT, g_param_spec_int("port", "Port",
      "With listen=true: the TCP port to listen on (0 = any free port, read it back from bound-port)",
      0, 65535, 0, ready));
  g_object_class_install_property(gobject_class, PROP_PATH, g_param_spec_string("path", "Path",
      "With listen=true: the WebSocket path Twilio connects to", "/voice/stream", ready));
  g_object_class_install_property(gobject_class, PROP_BOUND_PORT, g_param_spec_int("bound-port",
      "Bound port", "With listen=true: the port actually listened on, from PAUSED (0 otherwise)",
      0, 65535, 0, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(gobject_class, PROP_LEAD, g_param_spec_uint("lead", "Lead",
      "How far ahead of playback our audio is sent, at most (ms): what may wait in Twilio's buffer and be "
      "dropped by a clear on barge-in", 20, 2000, 160, playing));
  g_object_class_install_property(gobject_class, PROP_MARK_INTERVAL, g_param_spec_uint("mark-interval",
      "Mark interval", "Send a mark after this many 20 ms frames (and at the end of each burst); the heard "
      "position is confirmed this often and advanced with the clock in between", 1, 50, kDefaultMarkInterval, playing));
  g_object_class_install_property(gobject_class, PROP_FRAMES_PER_MESSAGE, g_param_spec_uint(
      "frames-per-message", "Frames per message", "20 ms frames in each media message to Twilio (whole "
      "frames always): fewer, larger messages cost less per call; Twilio's buffer then holds between "
      "lead minus that much and lead. The frames of a message that is not full go at the end of a burst",
      1, 25, 1, playing));
  g_object_class_install_property(gobject_class, PROP_POST_MARKS, g_param_spec_boolean("post-marks",
      "Post marks", "Post a clawvoice-twilio-mark bus message for every mark Twilio echoes", FALSE, playing));
  g_object_class_install_property(gobject_class, PROP_PUSH_FROM_NETWORK_THREAD, g_param_spec_boolean(
      "push-from-network-thread", "Push from the network thread",
      "Push the caller's audio downstream from the network thread, as each frame arrives, instead of from a "
      "streaming thread of the element's own: one thread wake-up less per 20 ms frame, which counts with "
      "hundreds of calls. Only when nothing downstream (up to a queue) ever blocks: realtimesink with "
      "sync=false (its default) never does; a syncing sink or a full queue would stall every call on "
      "that thread", FALSE, ready));
  g_object_class_install_property(gobject_class, PROP_STATS, g_param_spec_boxed("stats", "Statistics",
      "Counters: frames in/out and dropped, late frames, marks sent/heard/released, clears, heard-ms, DTMF, "
      "protocol warnings", GST_TYPE_STRUCTURE, (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Twilio Media Streams bridge",
      "Source/Sink/Audio/Network",
      "A Twilio phone call as a pipeline: the caller's μ-law out of src, our reply into sink sent paced, "
      "with marks that tell what the caller heard, barge-in (clear), DTMF and the call's parameters on the bus",
      "clawvoice developers");
  gst_element_class_add_static_metadata(element_class, "example-launch-line",
      "gst-launch-1.0 mulawbridge name=tw listen=true address=0.0.0.0 port=8080 ! realtimesink "
      "url=ws://127.0.0.1:8765/v1/realtime api-key=sk-demo ! tw.   (one Twilio call on "
      "ws://HOST:8080/voice/stream answered by the Realtime voice, μ-law untouched)");
  gst_element_class_add_static_metadata(element_class, GST_ELEMENT_METADATA_DOC_URI,
      "docs/elements.md in the clawvoice source tree");
}
