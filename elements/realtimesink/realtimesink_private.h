/* clawvoice — realtimesink's state, shared by its GObject shell (gstrealtimesink.cpp) and its
 * conversation logic (realtimesink_conversation.cpp). Internal to the element. */
#pragma once

#include <gst/gst.h>

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "clawvoice-contract.h"
#include "common/latency_stats.h"
#include "net/net_thread.h"
#include "realtime/pricing.h"
#include "realtime/realtime_client.h"
#include "realtime/session_config.h"
#include "realtimesink/gstrealtimesink.h"
#include "realtimesink/playout_queue.h"

GST_DEBUG_CATEGORY_EXTERN(gst_realtime_sink_debug);

namespace clawvoice::realtimesink {

struct PendingInject {
  std::string text;
  std::string role;
  bool urgent = false;
  bool respond = true;   /* false: context only (e.g. memory at call start), no reply asked for */
};

struct Private {
  std::mutex lock;   /* guards everything below, except where noted */

  /* Properties (recorded by the setters; used at the next start). */
  std::string url = "wss://api.openai.com/v1/realtime";
  std::string api_key;
  std::string call_id;
  realtime::SessionConfig session;
  bool fill_silence = false;
  guint output_lead_ms = 0;      /* hand periods out this much before they are due */
  bool push_from_network_thread = false;   /* periods from a timer on `net`, not a src task */
  guint output_batch_ms = 0;     /* timer: with a due period, those due this much later go too */
  bool sync = false;
  guint eos_timeout_ms = 30000;
  gint max_reconnect_attempts = 5;
  realtime::Prices prices;
  bool prices_set = false;   /* FALSE: the model's published prices */

  /* Connection. */
  std::shared_ptr<net::NetThread> net;
  std::unique_ptr<realtime::RealtimeClient> client;

  /* Formats: input from the sink caps, output negotiated with downstream. */
  realtime::AudioFormat in_format = realtime::AudioFormat::Pcm24k;
  realtime::AudioFormat out_format = realtime::AudioFormat::Pcm24k;
  GstSegment in_segment;

  /* Conversation state, from the server's events. */
  std::set<std::string> tool_names;
  bool response_active = false;
  bool response_requested = false;        /* response.create sent, response.created not yet seen */
  bool response_create_pending = false;   /* wanted while one was active: send after response.done */
  bool speech_active = false;
  bool awaiting_server_response = false;  /* turn ended with create_response: the server will reply */
  std::string current_item_id;            /* the assistant audio item being received/played */
  std::string current_response_id;
  std::set<std::string> interrupted_items;  /* barged-in: late deltas for them are dropped */
  std::map<std::string, std::string> assistant_transcripts;   /* item → transcript */
  std::map<std::string, int64_t> truncated_at_ms;             /* item → heard ms */
  std::deque<std::string> pending_tool_calls;   /* JSON payloads for the tools pad */
  struct TranscriptLine { std::string role, text, item_id; };
  std::deque<TranscriptLine> pending_transcripts;   /* final transcripts for the tools pad, bounded */
  std::set<std::string> outstanding_calls;      /* pushed, waiting for a result */
  std::deque<PendingInject> pending_injects;
  std::set<std::string> warned_event_types;

  /* Input side. */
  bool input_eos = false;
  guint64 eos_barrier = 0;       /* the server has seen all our audio once this barrier passed */
  gint64 eos_deadline = 0;       /* monotonic µs: eos-timeout */
  gint64 uncommitted_ms = 0;     /* caller audio since the last commit (manual turns) */
  GstClockID input_clock_id = nullptr;

  /* Output side (src task, or the output timer on `net`). */
  PlayoutQueue playout;
  GstClockTime next_ts = GST_CLOCK_TIME_NONE;
  GstClockID output_clock_id = nullptr;
  GSource *output_timer = nullptr;   /* push-from-network-thread: from PAUSED→PLAYING to deactivation */
  bool output_stopped = false;       /* the timer stopped itself (EOS, downstream error), as a task pauses */
  bool flushing = true;
  bool playing = false;          /* the task runs only in PLAYING and pauses itself otherwise */
  bool need_discont = true;
  bool reply_start_aligned = false;   /* the timeline was moved to a reply's start: until it goes out */
  bool last_period_had_audio = false;   /* the period handed out last was reply audio */
  bool streams_started = false;
  bool output_eos_sent = false;
  GstClockTime downstream_latency = 0;

  /* Statistics. */
  guint64 frames_in = 0;
  guint64 frames_sent = 0;
  guint64 frames_dropped = 0;
  guint64 deltas = 0;
  guint64 periods_out = 0;
  guint64 barge_ins = 0;
  guint64 truncations = 0;
  guint64 tool_calls = 0;
  guint64 protocol_errors = 0;
  realtime::Usage usage;
  double cost_usd = 0.0;
  LatencyStats output_delay;   /* period due → buffer pushed (µs) */
  /* Caller audio's arrival at this host (CLAWVOICE_ARRIVAL_TIME_CAPS) → sent on (µs). */
  LatencyStats input_delay;
  std::array<guint64, CLAWVOICE_INPUT_DELAY_BUCKETS> input_delay_counts{};
  guint64 input_delay_sum_us = 0;

  Private() { gst_segment_init(&in_segment, GST_FORMAT_TIME); }
};

/* realtimesink_conversation.cpp: the server's events, on the network thread. */
void handle_server_event(GstRealtimeSink *self, realtime::ServerEvent &event);
/* Asks for a response now, or as soon as the one in progress is done. Takes the lock itself. */
void request_response(GstRealtimeSink *self);
/* The same with p->lock held: for a caller that has just taken work off a pending list, so that
 * the end-of-stream check never sees a moment with nothing pending and no response asked. */
void request_response_locked(Private *p);
/* Sends queued injections when the conversation allows it. Takes the lock itself. */
void flush_injects(GstRealtimeSink *self);
/* A tool result came back from an executor (any thread). */
void handle_tool_result(GstRealtimeSink *self, const std::string &call_id, const std::string &output,
    bool respond, bool is_error);

/* gstrealtimesink.cpp */
Private *get_private(GstRealtimeSink *self);
GstPad *get_src_pad(GstRealtimeSink *self);
/* Posts an element message with @structure on the bus. */
void post_message(GstRealtimeSink *self, GstStructure *structure);

}  // namespace clawvoice::realtimesink
