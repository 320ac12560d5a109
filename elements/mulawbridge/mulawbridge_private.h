/* clawvoice — mulawbridge's state, shared by its GObject shell (gstmulawbridge.cpp), its pacing
 * sink side (mulawbridge_sink.cpp) and its Twilio protocol handling (mulawbridge_inbound.cpp).
 * Internal to the element. */
#pragma once

#include <gst/base/gstadapter.h>
#include <gst/gst.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "mulawbridge/gstmulawbridge.h"
#include "mulawbridge/mark_ledger.h"
#include "mulawbridge/stream_socket.h"
#include "net/net_thread.h"
#include "twilio/media_stream.h"

GST_DEBUG_CATEGORY_EXTERN(gst_mulaw_bridge_debug);

namespace clawvoice::mulawbridge {

constexpr GstClockTime kFrame = 20 * GST_MSECOND;    /* Twilio's period: 160 bytes of μ-law */
constexpr gsize kFrameBytes = 160;
/* A mark every 5 frames (100 ms): each mark is a message each way, as many as the audio itself at
 * one per frame; between echoes the heard position advances with the clock (heard_position()). */
constexpr guint kDefaultMarkInterval = 5;
constexpr GstClockTime kByteDuration = GST_SECOND / 8000;
constexpr gsize kMaxQueuedInBytes = 16000;            /* caller audio waiting for the src task: 2 s */
constexpr guint8 kMulawSilence = 0xFF;

enum class StreamState { Waiting, Started, Ended };

struct Private {
  std::mutex lock;                     /* guards everything below */
  std::condition_variable src_cond;    /* src task: audio queued, end of stream, flushing, state */
  std::condition_variable sink_cond;   /* sink chain: PLAYING reached, flushing, clear */

  /* Properties (recorded by the setters, used at the next start). */
  GObject *connection = nullptr;       /* ClawvoiceWebSocket */
  std::string start_message;
  bool listen = false;
  std::string address = "127.0.0.1";
  guint port = 0;
  std::string path = "/voice/stream";
  guint lead_ms = 160;
  guint mark_interval = kDefaultMarkInterval;
  guint frames_per_message = 1;        /* 20 ms frames per outbound media message */
  bool post_marks = false;
  bool push_from_network = false;      /* push the caller's audio from the network thread (no src task) */

  std::shared_ptr<net::NetThread> net;
  std::shared_ptr<StreamSocket> socket;
  guint bound_port = 0;

  /* The stream, from Twilio's messages. */
  StreamState stream = StreamState::Waiting;
  twilio::StartMessage start;
  GstClockTime start_rt = 0;           /* running time when `start` arrived */
  std::set<std::string> warned;        /* kinds of protocol trouble already posted as a warning */
  bool playing = false;

  /* Src side: the caller's audio. */
  std::deque<GstBuffer *> in_queue;
  gsize in_queued_bytes = 0;
  bool src_flushing = true;
  bool src_started = false;            /* stream-start, caps, segment pushed */
  bool src_eos = false;                /* push EOS once the queue is empty */
  bool src_eos_sent = false;
  bool src_halted = false;             /* downstream stopped the src stream: push no more */
  GstClockTime next_in_pts = GST_CLOCK_TIME_NONE;
  bool in_discont = true;
  GstClockTime max_chunk = kFrame;     /* largest payload seen: our live latency */

  /* Sink side: our audio to Twilio. */
  bool sink_flushing = true;
  GstAdapter *adapter = nullptr;
  GstSegment segment;
  GstClockTime next_frame_rt = GST_CLOCK_TIME_NONE;
  GstClockTime first_frame_rt = GST_CLOCK_TIME_NONE;   /* "nothing heard" before any mark */
  GstClockTime latency = 0;            /* the pipeline's, from the LATENCY event */
  GstClockTime remote_end_rt = GST_CLOCK_TIME_NONE;    /* when Twilio will have played what we sent */
  GstClockTime last_sent_end_rt = GST_CLOCK_TIME_NONE; /* end of the last frame sent (its timestamps) */
  GstClockID clock_id = nullptr;
  guint64 clear_seq = 0;
  MarkLedger marks;
  gint64 heard_echo_us = 0;            /* monotonic time of the last "heard" echo; 0 after a clear */
  GstClockTime heard_at_clear = GST_CLOCK_TIME_NONE;   /* the heard position when the last clear went */
  guint frames_since_mark = 0;
  std::string held_media;              /* frames paced out but not sent yet: a message fills up */
  guint held_frames = 0;
  GstClockTime sent_end_rt = GST_CLOCK_TIME_NONE;      /* when Twilio will have played what it really got */
  GstClockTime unmarked_start = GST_CLOCK_TIME_NONE;
  GstClockTime unmarked_end = GST_CLOCK_TIME_NONE;
  bool eos_pending = false;            /* EOS posted once every mark came back (or on timeout) */
  guint32 eos_seqnum = 0;
  bool eos_posted = false;
  guint eos_timer = 0;

  /* Statistics. */
  guint64 frames_in = 0, bytes_in = 0, frames_dropped_in = 0;
  guint64 frames_out = 0, frames_dropped_out = 0, late_frames = 0;
  guint64 clears = 0, protocol_warnings = 0, dtmf = 0;

  Private()
  {
    adapter = gst_adapter_new();
    gst_segment_init(&segment, GST_FORMAT_TIME);
  }
  ~Private()
  {
    g_object_unref(adapter);
    for (GstBuffer *b : in_queue)
      gst_buffer_unref(b);
    release_connection(connection);
  }

  /* The WebSocket belongs to its network thread's context: its last reference goes there too, so
   * that nothing of it runs on a thread that tears a pipeline down while the socket is read. */
  void release_connection(GObject *object)
  {
    if (!object)
      return;
    if (net && !net->is_current())
      net->invoke([object]() { g_object_unref(object); });
    else
      g_object_unref(object);
  }
};

/* gstmulawbridge.cpp */
Private *get_private(GstMulawBridge *self);
void post_message(GstMulawBridge *self, GstStructure *structure);
/* The running time now, if the element is PLAYING with a clock. */
bool current_running_time(GstMulawBridge *self, GstClockTime *running_time);

/* mulawbridge_inbound.cpp: Twilio's messages, on the network thread. */
StreamSocketCallbacks make_socket_callbacks(GstMulawBridge *self);
/* Applies the `start-message` property; false (after posting an error) if it is not a valid start. */
bool apply_start_message(GstMulawBridge *self, const std::string &text);
/* In push-from-network-thread mode: pushes whatever the src pad has queued (audio, then EOS at the
 * end), on the calling thread, the network thread's (lock NOT held). */
void push_caller_audio_here(GstMulawBridge *self);
/* Posts EOS once (called with the lock NOT held). */
void post_eos_once(GstMulawBridge *self);

/* mulawbridge_sink.cpp: the sink pad (streaming thread, events from any thread). */
GstFlowReturn sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer);
gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event);
gboolean sink_query(GstPad *pad, GstObject *parent, GstQuery *query);
/* Wakes a chain waiting for the clock or for PLAYING (lock held). */
void sink_wake(Private *p);

}  // namespace clawvoice::mulawbridge
