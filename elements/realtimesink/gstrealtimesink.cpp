/**
 * SECTION:element-realtimesink
 * @title: realtimesink
 *
 * realtimesink makes a pipeline talk to a speech-to-speech model over the OpenAI Realtime API (GA
 * protocol). The caller's audio enters on the `sink` pad and is streamed to the session; the model's
 * audio leaves on the `src` pad as a live stream re-timed to real time (bursty deltas are paced into
 * fixed 20 ms periods with running-time timestamps, so downstream sinks play them without wobble).
 *
 * Formats: PCM S16LE 24 kHz mono, or G.711 μ-law / A-law 8 kHz, chosen by caps negotiation on each
 * pad; telephony audio passes through untouched.
 *
 * Barge-in: when the caller speaks during a reply, unplayed audio is dropped at once, downstream is
 * told to drop what it buffered (the `clawvoice-clear` event), and the model is told how much of its
 * reply the caller actually heard (`conversation.item.truncate` at the position downstream reached).
 *
 * Tool calls leave on the `tools` pad to a chain of executor elements declared in the launch line,
 * and their results come back upstream; a call nothing serves is answered with an error at once.
 * Transcripts, turns, tool calls, usage and cost, connection state and server errors are posted on
 * the bus as element messages (see docs/elements.md). A dropped connection or an expired session is
 * reconnected with backoff and the conversation so far is restored.
 *
 * At end of stream on the `sink` pad the caller's turn is finished, the reply is awaited (at most
 * `eos-timeout`), and the `src` pad ends with EOS, so file pipelines end by themselves.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e filesrc location=question.wav ! wavparse ! audioconvert ! audioresample ! \
 *     audio/x-raw,format=S16LE,rate=24000,channels=1 ! \
 *     realtimesink url=ws://127.0.0.1:8765/v1/realtime api-key=sk-demo ! \
 *     wavenc ! filesink location=reply.wav
 * ]| Asks the question in question.wav and writes the spoken reply to reply.wav.
 * |[
 * gst-launch-1.0 filesrc location=call.ulaw ! audio/x-mulaw,rate=8000,channels=1 ! \
 *     realtimesink name=rt ! audio/x-mulaw,rate=8000,channels=1 ! filesink location=reply.ulaw \
 *     rt.tools ! openclawrelay
 * ]| G.711 μ-law in and out, untouched, with tool calls served by openclawrelay.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "realtimesink/gstrealtimesink.h"

#include <cstring>
#include <iterator>
#include <vector>

#include "clawvoice-contract.h"
#include "realtime/client_events.h"
#include "realtimesink/realtimesink_private.h"

GST_DEBUG_CATEGORY(gst_realtime_sink_debug);
#define GST_CAT_DEFAULT gst_realtime_sink_debug

using namespace clawvoice;
using namespace clawvoice::realtimesink;
using realtime::AudioFormat;
using realtime::TurnDetection;

struct _GstRealtimeSink {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstPad *toolspad;
  Private *priv;
};

G_DEFINE_TYPE(GstRealtimeSink, gst_realtime_sink, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(realtimesink, "realtimesink", GST_RANK_NONE,
    GST_TYPE_REALTIME_SINK,
    GST_DEBUG_CATEGORY_INIT(gst_realtime_sink_debug, "clawvoice-realtimesink", 0,
        "OpenAI Realtime API voice"));

#define AUDIO_CAPS \
  "audio/x-raw, format=(string)S16LE, rate=(int)24000, channels=(int)1, layout=(string)interleaved; " \
  "audio/x-mulaw, rate=(int)8000, channels=(int)1; " \
  "audio/x-alaw, rate=(int)8000, channels=(int)1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS(AUDIO_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS(AUDIO_CAPS));
static GstStaticPadTemplate tools_template = GST_STATIC_PAD_TEMPLATE("tools", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS(CLAWVOICE_TOOL_CALL_CAPS));

static constexpr guint kPeriodMs = 20;
static constexpr GstClockTime kPeriod = kPeriodMs * GST_MSECOND;
static constexpr const char *kDefaultUrl = "wss://api.openai.com/v1/realtime";
static constexpr const char *kMaskedKey = "********";

enum {
  PROP_0,
  PROP_URL,
  PROP_API_KEY,
  PROP_MODEL,
  PROP_VOICE,
  PROP_SPEED,
  PROP_INSTRUCTIONS,
  PROP_TURN_DETECTION,
  PROP_VAD_THRESHOLD,
  PROP_VAD_PREFIX_PADDING_MS,
  PROP_VAD_SILENCE_DURATION_MS,
  PROP_VAD_IDLE_TIMEOUT_MS,
  PROP_EAGERNESS,
  PROP_CREATE_RESPONSE,
  PROP_INTERRUPT_RESPONSE,
  PROP_TRANSCRIPTION_MODEL,
  PROP_TRANSCRIPTION_LANGUAGE,
  PROP_NOISE_REDUCTION,
  PROP_MAX_OUTPUT_TOKENS,
  PROP_CALL_ID,
  PROP_FILL_SILENCE,
  PROP_OUTPUT_LEAD,
  PROP_PUSH_FROM_NETWORK_THREAD,
  PROP_OUTPUT_BATCH,
  PROP_SYNC,
  PROP_EOS_TIMEOUT,
  PROP_MAX_RECONNECT_ATTEMPTS,
  PROP_PRICES,
  PROP_STATS,
};

/* ---- Enums (registered as plugin API so gst-inspect lists their values) ---- */

GType gst_realtime_turn_detection_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {(gint) TurnDetection::ServerVad, "Server-side voice activity detection", "server-vad"},
    {(gint) TurnDetection::SemanticVad, "Semantic turn detection (model decides when you are done)", "semantic-vad"},
    {(gint) TurnDetection::None, "None: the caller's turn ends at end of stream (manual commit)", "none"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstRealtimeTurnDetection", values));
  return type;
}

enum NoiseReduction { NOISE_REDUCTION_NONE, NOISE_REDUCTION_NEAR, NOISE_REDUCTION_FAR };
GType gst_realtime_noise_reduction_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {NOISE_REDUCTION_NONE, "No input noise reduction", "none"},
    {NOISE_REDUCTION_NEAR, "Near field (headset, phone held to the ear)", "near-field"},
    {NOISE_REDUCTION_FAR, "Far field (laptop, conference room)", "far-field"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstRealtimeNoiseReduction", values));
  return type;
}

enum Eagerness { EAGERNESS_AUTO, EAGERNESS_LOW, EAGERNESS_MEDIUM, EAGERNESS_HIGH };
static const char *eagerness_names[] = {"auto", "low", "medium", "high"};
GType gst_realtime_eagerness_get_type(void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {EAGERNESS_AUTO, "Auto (medium)", "auto"},
    {EAGERNESS_LOW, "Low: lets the caller take their time", "low"},
    {EAGERNESS_MEDIUM, "Medium", "medium"},
    {EAGERNESS_HIGH, "High: answers as soon as possible", "high"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstRealtimeEagerness", values));
  return type;
}

/* ---- Helpers shared with the conversation logic ---- */

namespace clawvoice::realtimesink {

Private *get_private(GstRealtimeSink *self)
{
  return self->priv;
}

GstPad *get_src_pad(GstRealtimeSink *self)
{
  return self->srcpad;
}

void post_message(GstRealtimeSink *self, GstStructure *structure)
{
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), structure));
}

}  // namespace clawvoice::realtimesink

static AudioFormat format_from_caps(GstCaps *caps, bool *ok)
{
  *ok = caps && !gst_caps_is_empty(caps);
  if (!*ok)
    return AudioFormat::Pcm24k;
  const gchar *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  if (g_str_equal(name, "audio/x-mulaw"))
    return AudioFormat::Pcmu;
  if (g_str_equal(name, "audio/x-alaw"))
    return AudioFormat::Pcma;
  return AudioFormat::Pcm24k;
}

static GstCaps *caps_for_format(AudioFormat format)
{
  switch (format) {
    case AudioFormat::Pcmu:
      return gst_caps_from_string("audio/x-mulaw, rate=(int)8000, channels=(int)1");
    case AudioFormat::Pcma:
      return gst_caps_from_string("audio/x-alaw, rate=(int)8000, channels=(int)1");
    case AudioFormat::Pcm24k:
      break;
  }
  return gst_caps_from_string(
      "audio/x-raw, format=(string)S16LE, rate=(int)24000, channels=(int)1, layout=(string)interleaved");
}

static uint8_t silence_byte(AudioFormat format)
{
  /* G.711 silence is the code for zero amplitude, not byte 0 (which is a loud sample). */
  switch (format) {
    case AudioFormat::Pcmu: return 0xFF;
    case AudioFormat::Pcma: return 0xD5;
    case AudioFormat::Pcm24k: break;
  }
  return 0x00;
}

/* The output format downstream prefers: the first of our formats its caps allow. */
static AudioFormat negotiate_output_format(GstRealtimeSink *self)
{
  g_autoptr(GstCaps) templ = gst_pad_get_pad_template_caps(self->srcpad);
  g_autoptr(GstCaps) peer = gst_pad_peer_query_caps(self->srcpad, templ);
  bool ok = false;
  if (!peer || gst_caps_is_empty(peer) || gst_caps_is_any(peer))
    return AudioFormat::Pcm24k;
  return format_from_caps(peer, &ok);
}

/* Asks the executor chain on the tools pad which tools it serves. */
static std::vector<realtime::ToolDefinition> query_tools(GstRealtimeSink *self)
{
  std::vector<realtime::ToolDefinition> tools;
  GstStructure *s = gst_structure_new(CLAWVOICE_QUERY_TOOLS, "tools", G_TYPE_STRING, "[]", nullptr);
  GstQuery *query = gst_query_new_custom(GST_QUERY_CUSTOM, s);
  if (gst_pad_peer_query(self->toolspad, query)) {
    const gchar *text = gst_structure_get_string(gst_query_get_structure(query), "tools");
    json::NodePtr node = json::parse(text ? text : "[]");
    if (node && JSON_NODE_HOLDS_ARRAY(node.get())) {
      JsonArray *array = json_node_get_array(node.get());
      for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonObject *tool = json_array_get_object_element(array, i);
        realtime::ToolDefinition def;
        def.name = json::get_string(tool, "name");
        def.description = json::get_string(tool, "description");
        if (json_object_has_member(tool, "parameters"))
          def.parameters_json = json::to_string(json_object_get_member(tool, "parameters"));
        if (!def.name.empty())
          tools.push_back(std::move(def));
      }
    }
  }
  gst_query_unref(query);
  return tools;
}

/* ---- Connection lifecycle ---- */

/* The connection dropped: whatever response or turn was in progress died with it. Audio already
 * received still plays out; the restored session starts from a quiet conversation. */
static void forget_turn_state(Private *p)
{
  std::lock_guard<std::mutex> lock(p->lock);
  if (!p->current_item_id.empty())
    p->playout.finish_item(p->current_item_id);
  p->response_active = p->response_requested = p->response_create_pending = false;
  p->speech_active = p->awaiting_server_response = false;
  /* Calls still running in executors cannot be answered on the new session (unknown call ids). */
  p->outstanding_calls.clear();
  p->uncommitted_ms = 0;
}

static gboolean gst_realtime_sink_start(GstRealtimeSink *self)
{
  Private *p = self->priv;
  std::vector<realtime::ToolDefinition> tools = query_tools(self);
  AudioFormat out_format = negotiate_output_format(self);

  std::lock_guard<std::mutex> lock(p->lock);
  if (p->api_key.empty()) {
    const gchar *env = g_getenv("OPENAI_API_KEY");
    if (env && *env)
      p->api_key = env;
  }
  if (p->api_key.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_AUTHORIZED, ("No API key: set the api-key property or OPENAI_API_KEY."),
        (nullptr));
    return FALSE;
  }
  p->out_format = out_format;
  p->playout.reset();
  p->playout.configure(realtime::audio_format_bytes_per_ms(out_format), kPeriodMs, silence_byte(out_format));
  p->tool_names.clear();
  for (const auto &tool : tools)
    p->tool_names.insert(tool.name);

  realtime::SessionConfig session = p->session;
  session.tools = tools;
  session.sideband = !p->call_id.empty();
  session.input_format = p->in_format;
  session.output_format = out_format;
  if (!p->prices_set)
    p->prices = realtime::default_prices(session.model);

  realtime::ConnectOptions options;
  options.url = p->url;
  options.api_key = p->api_key;
  options.call_id = p->call_id;
  options.max_reconnect_attempts = p->max_reconnect_attempts;

  GST_INFO_OBJECT(self, "connecting to %s (model %s, %zu tools, in %s, out %s)", p->url.c_str(),
      session.model.c_str(), tools.size(), realtime::audio_format_wire_name(session.input_format),
      realtime::audio_format_wire_name(out_format));

  realtime::RealtimeClientCallbacks callbacks;
  callbacks.on_state = [self](realtime::ConnectionState state, const std::string &detail) {
    GST_INFO_OBJECT(self, "connection %s %s", realtime::connection_state_name(state), detail.c_str());
    if (state == realtime::ConnectionState::Reconnecting)
      forget_turn_state(self->priv);
    int reconnects = self->priv->client ? self->priv->client->reconnects() : 0;
    post_message(self, gst_structure_new(CLAWVOICE_MESSAGE_CONNECTION,
        "state", G_TYPE_STRING, realtime::connection_state_name(state),
        "detail", G_TYPE_STRING, detail.c_str(), "reconnects", G_TYPE_INT, reconnects, nullptr));
  };
  callbacks.on_event = [self](realtime::ServerEvent &event) { handle_server_event(self, event); };
  callbacks.on_protocol_error = [self](const std::string &detail) {
    {
      std::lock_guard<std::mutex> l(self->priv->lock);
      self->priv->protocol_errors++;
    }
    GST_ELEMENT_ERROR(self, STREAM, DECODE, ("The Realtime server sent data that is not a valid event."),
        ("%s", detail.c_str()));
  };
  callbacks.on_fatal = [self](guint status, const std::string &detail) {
    if (status == 401 || status == 403) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_AUTHORIZED,
          ("The Realtime service refused the API key (HTTP %u).", status), ("%s", detail.c_str()));
    } else {
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ_WRITE, ("Could not keep a Realtime session open."),
          ("%s", detail.c_str()));
    }
  };
  p->client = std::make_unique<realtime::RealtimeClient>(p->net, options, session, callbacks);
  p->client->start();
  return TRUE;
}

static void gst_realtime_sink_stop(GstRealtimeSink *self)
{
  Private *p = self->priv;
  std::unique_ptr<realtime::RealtimeClient> client;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    client = std::move(p->client);
  }
  /* Outside the lock: stop() waits for the network thread, whose callbacks take the lock. */
  if (client)
    client->stop();
  std::lock_guard<std::mutex> lock(p->lock);
  p->playout.reset();
  p->pending_tool_calls.clear();
  p->pending_transcripts.clear();
  p->outstanding_calls.clear();
  p->pending_injects.clear();
  p->interrupted_items.clear();
  p->assistant_transcripts.clear();
  p->truncated_at_ms.clear();
  p->response_active = p->response_requested = p->response_create_pending = false;
  p->speech_active = p->awaiting_server_response = false;
  p->input_eos = false;
  p->uncommitted_ms = 0;
  p->current_item_id.clear();
}

/* ---- Sink pad: the caller's audio ---- */

static void finish_caller_turn(GstRealtimeSink *self)
{
  Private *p = self->priv;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    gint64 now = g_get_monotonic_time();
    p->input_eos = true;
    p->eos_deadline = now + (gint64) p->eos_timeout_ms * 1000;
    if (!p->client)
      return;
    if (p->session.turn_detection == TurnDetection::None) {
      /* Manual turns: commit and ask for the reply (the service refuses a commit under 100 ms). */
      if (p->uncommitted_ms >= 100) {
        p->client->send(realtime::build_input_audio_commit("cv_commit"));
        p->uncommitted_ms = 0;
        request_response_locked(p);
      }
    } else {
      /* VAD: the caller's turn ends when the server hears silence, so give it silence. */
      gint64 silence_ms = p->session.turn_detection == TurnDetection::SemanticVad
          ? 2000 : p->session.vad_silence_duration_ms + 300;
      unsigned bytes_per_ms = realtime::audio_format_bytes_per_ms(p->in_format);
      std::vector<uint8_t> silence(100 * bytes_per_ms, silence_byte(p->in_format));
      for (gint64 sent = 0; sent < silence_ms; sent += 100)
        p->client->send_audio(silence.data(), silence.size());
    }
    /* Once the server has answered this barrier it has run its VAD over all the audio above, so
     * the turn state we hold (speech, pending response) is final for the end of stream. */
    p->eos_barrier = p->client->request_barrier();
  }
}

/* The delay we added to a caller's buffer that says when it reached this host: until its audio was
 * written to the Realtime socket (from a network thread, as rtpnetsrc pushes) or queued for it (from
 * any other thread: the network thread's wake-up is then not counted). Lock held. */
static void count_input_delay(Private *p, GstBuffer *buffer)
{
  static GstStaticCaps arrival_caps = GST_STATIC_CAPS(CLAWVOICE_ARRIVAL_TIME_CAPS);
  static const guint64 bounds_us[] = CLAWVOICE_INPUT_DELAY_BOUNDS_US;
  static_assert(G_N_ELEMENTS(bounds_us) + 1 == CLAWVOICE_INPUT_DELAY_BUCKETS, "one bucket more than bounds");
  GstCaps *caps = gst_static_caps_get(&arrival_caps);
  GstReferenceTimestampMeta *arrival = gst_buffer_get_reference_timestamp_meta(buffer, caps);
  gst_caps_unref(caps);
  if (!arrival)
    return;
  const gint64 delay_us = g_get_real_time() - (gint64) (arrival->timestamp / 1000);
  if (delay_us < 0)
    return;   /* the wall clock stepped back */
  p->input_delay.add(delay_us);
  size_t bucket = 0;
  while (bucket < G_N_ELEMENTS(bounds_us) && (guint64) delay_us > bounds_us[bucket])
    bucket++;
  p->input_delay_counts[bucket]++;
  p->input_delay_sum_us += (guint64) delay_us;
}

static GstFlowReturn gst_realtime_sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(parent);
  Private *p = self->priv;

  std::unique_lock<std::mutex> lock(p->lock);
  if (p->sync && GST_BUFFER_PTS_IS_VALID(buffer)) {
    /* Optional pacing of a non-live source (a file) to the clock, like a caller speaking. */
    GstClock *clock = GST_ELEMENT_CLOCK(self);
    GstClockTime running = gst_segment_to_running_time(&p->in_segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (clock && GST_CLOCK_TIME_IS_VALID(running) && !p->flushing) {
      p->input_clock_id = gst_clock_new_single_shot_id(clock, GST_ELEMENT_CAST(self)->base_time + running);
      GstClockID id = p->input_clock_id;
      lock.unlock();
      gst_clock_id_wait(id, nullptr);
      lock.lock();
      gst_clock_id_unref(id);
      p->input_clock_id = nullptr;
    }
  }
  if (p->flushing) {
    gst_buffer_unref(buffer);
    return GST_FLOW_FLUSHING;
  }
  p->frames_in++;
  if (!p->client || !p->call_id.empty()) {
    p->frames_dropped++;
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  GstMapInfo map;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    /* Never waits: the client queues to the network thread or drops (and counts) under backlog. */
    if (p->client->send_audio(map.data, map.size)) {
      p->frames_sent++;
      p->uncommitted_ms += (gint64) (map.size / realtime::audio_format_bytes_per_ms(p->in_format));
      count_input_delay(p, buffer);
    } else {
      p->frames_dropped++;
    }
    gst_buffer_unmap(buffer, &map);
  }
  gst_buffer_unref(buffer);
  return GST_FLOW_OK;
}

static gboolean gst_realtime_sink_sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(parent);
  Private *p = self->priv;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      bool ok;
      AudioFormat format = format_from_caps(caps, &ok);
      std::lock_guard<std::mutex> lock(p->lock);
      bool changed = format != p->in_format;
      p->in_format = format;
      if (changed && p->client) {
        /* The session's input format follows the caps: G.711 passes through untouched. */
        p->client->modify_session([format](realtime::SessionConfig &session) {
          session.input_format = format;
        });
      }
      GST_INFO_OBJECT(self, "caller audio: %s", realtime::audio_format_wire_name(format));
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;
      gst_event_parse_segment(event, &segment);
      std::lock_guard<std::mutex> lock(p->lock);
      gst_segment_copy_into(segment, &p->in_segment);
      break;
    }
    case GST_EVENT_EOS:
      GST_INFO_OBJECT(self, "caller audio ended: finishing the turn and waiting for the reply");
      finish_caller_turn(self);
      break;
    default:
      break;
  }
  /* The caller's stream ends here; our src pads carry streams of their own. */
  gst_event_unref(event);
  return TRUE;
}

/* ---- Src task: the model's audio at the pace of the clock, and tool calls ---- */

static void push_stream_starts(GstRealtimeSink *self, AudioFormat out_format)
{
  guint group = gst_util_group_id_next();
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);

  g_autofree gchar *audio_id = gst_pad_create_stream_id(self->srcpad, GST_ELEMENT(self), "audio");
  GstEvent *start = gst_event_new_stream_start(audio_id);
  gst_event_set_group_id(start, group);
  gst_pad_push_event(self->srcpad, start);
  GstCaps *caps = caps_for_format(out_format);
  gst_pad_push_event(self->srcpad, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  gst_pad_push_event(self->srcpad, gst_event_new_segment(&segment));

  g_autofree gchar *tools_id = gst_pad_create_stream_id(self->toolspad, GST_ELEMENT(self), "tools");
  start = gst_event_new_stream_start(tools_id);
  gst_event_set_group_id(start, group);
  gst_event_set_stream_flags(start, GST_STREAM_FLAG_SPARSE);
  gst_pad_push_event(self->toolspad, start);
  caps = gst_caps_from_string(CLAWVOICE_TOOL_CALL_CAPS);
  gst_pad_push_event(self->toolspad, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  gst_pad_push_event(self->toolspad, gst_event_new_segment(&segment));
}

/* Tells the executor chain what was said (CLAWVOICE_EVENT_TRANSCRIPT), in order. */
static void push_transcripts(GstRealtimeSink *self, std::vector<Private::TranscriptLine> lines)
{
  for (const Private::TranscriptLine &line : lines) {
    GstStructure *s = gst_structure_new(CLAWVOICE_EVENT_TRANSCRIPT, "role", G_TYPE_STRING, line.role.c_str(),
        "text", G_TYPE_STRING, line.text.c_str(), "item-id", G_TYPE_STRING, line.item_id.c_str(), nullptr);
    gst_pad_push_event(self->toolspad, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s));
  }
}

/* Pushes the tool calls queued by the network thread to the executor chain. */
static void push_tool_calls(GstRealtimeSink *self, std::vector<std::string> calls, GstClockTime ts)
{
  for (std::string &payload : calls) {
    json::ObjectPtr call = json::parse_object(payload);
    std::string call_id = json::get_string(call.get(), "call_id");
    std::string name = json::get_string(call.get(), "name");
    gsize size = payload.size();
    GstBuffer *buffer = gst_buffer_new_wrapped(g_strndup(payload.data(), size), size);
    GST_BUFFER_PTS(buffer) = ts;
    GstFlowReturn ret = gst_pad_push(self->toolspad, buffer);
    if (ret != GST_FLOW_OK) {
      /* Nothing serves it (an unlinked chain end) or the chain failed: answer now, never hang. */
      GST_WARNING_OBJECT(self, "tool call %s (%s) not handled: %s", call_id.c_str(), name.c_str(),
          gst_flow_get_name(ret));
      std::string output = "{\"error\":\"No executor handled the tool '" + name +
          "' (" + gst_flow_get_name(ret) + "). Tell the caller it is not available.\"}";
      handle_tool_result(self, call_id, output, true, true);
    }
  }
}

/* The caller's stream has ended: is the conversation done, so the src pads may end too? */
static bool conversation_finished(Private *p, gint64 now, bool *timed_out)
{
  *timed_out = false;
  if (p->output_eos_sent)
    return false;
  if (p->client && p->client->call_ended())
    return true;   /* a sideband whose call is over: there is no caller stream to wait for */
  if (!p->input_eos)
    return false;
  if (now >= p->eos_deadline) {
    *timed_out = true;
    return true;
  }
  realtime::ConnectionState state = p->client ? p->client->state() : realtime::ConnectionState::Failed;
  if (state == realtime::ConnectionState::Failed || state == realtime::ConnectionState::Disconnected)
    return p->playout.empty();   /* nobody will answer any more (an error was posted) */
  if (state != realtime::ConnectionState::Connected)
    return false;                /* (re)connecting: the reply may still come */
  bool busy = p->response_active || p->response_requested || p->response_create_pending ||
      p->speech_active || p->awaiting_server_response || !p->outstanding_calls.empty() ||
      !p->pending_tool_calls.empty() || !p->pending_injects.empty();
  return !busy && p->client->barrier_passed(p->eos_barrier) && p->playout.empty();
}

/* ---- Src pad: the reply, one period at a time ----
 *
 * Two drivers share the same steps: a src task that waits on the clock for each period (the
 * default, for any downstream), or, with push-from-network-thread, a timer on the session's network
 * thread (no thread of the element's own; for downstream elements that never block). */

/* The tick at or before running time @t: a multiple of kPeriod on the clock itself (the monotonic
 * system clock) plus @offset, the same instants for every realtimesink of the process on the same
 * network thread. Each call's periods then
 * come due together, and a network thread serving a hundred calls wakes once per period for all of
 * them instead of a hundred times at scattered phases (FreeSWITCH's shared soft timer does the
 * same). A call's packets keep a constant offset from the tick, so no jitter. */
static GstClockTime tick_at_or_before(GstClockTime t, GstClockTime base, GstClockTime offset)
{
  GstClockTime at = base + t;
  GstClockTime tick = (at - offset) / kPeriod * kPeriod + offset;
  if (tick < base)
    tick += kPeriod;   /* running time starts at 0: the first tick after it */
  return tick - base;
}

/* Where this call's ticks fall in the period: its network thread's phase (NetThread::period_phase():
 * with two pool threads, one thread's calls at 0 ms, the other's at 10 ms). Each thread's calls
 * still come due together, but the threads' bursts take turns: on two cores shared with anything
 * else, two bursts at once made the inbound packets of both threads wait (at 200 SIP calls the
 * launcher's inbound p99 was about 33 ms with one phase, 10 ms with two; tests/bench/sip). */
static GstClockTime tick_offset(Private *p)
{
  if (!p->net)
    return 0;
  return (GstClockTime) (p->net->period_phase() * kPeriod) / GST_MSECOND * GST_MSECOND;
}

/* Before a period: checks the output may run, starts the streams, and says when the next period is
 * due (running time, @due_at). False: stop handing out (flushing, not PLAYING). Lock held. */
static bool schedule_next_period(GstRealtimeSink *self, std::unique_lock<std::mutex> &lock, GstClock *clock,
    GstClockTime base, GstClockTime *due_at)
{
  Private *p = self->priv;
  if (p->flushing || !p->playing)
    return false;
  if (!p->streams_started) {
    p->streams_started = true;
    AudioFormat out = p->out_format;
    lock.unlock();
    push_stream_starts(self, out);
    lock.lock();
  }
  GstClockTime now = gst_clock_get_time(clock) - base;
  if (!GST_CLOCK_TIME_IS_VALID(p->next_ts) || now > p->next_ts + 10 * kPeriod) {
    /* First period, or we fell far behind (a stall): restart the timeline at the present, on the
     * process's ticks (the period now running; it is handed out at its end, the next tick). */
    p->next_ts = tick_at_or_before(now, base, tick_offset(p));
    p->need_discont = true;
  } else if (p->need_discont && !p->reply_start_aligned && now > p->next_ts && p->playout.queued_ms() > 0) {
    /* A reply starts after a gap: from the period now running, not from one already over. A
     * transport that plays from the first frame it gets (Twilio) would otherwise be handed more
     * than `output-lead` at once. (Once: then the timeline goes on from there.) */
    p->next_ts = tick_at_or_before(now, base, tick_offset(p));
    p->reply_start_aligned = true;
  }
  /* A live source hands out a period once it is complete: at its end. With an output lead, reply
   * audio goes that much earlier, so a transport that buffers at the far end (mulawbridge → Twilio)
   * keeps a cushion there: while idle the timeline stays on the clock, and when a reply starts the
   * first `output-lead` of it goes out at once, then one period per period. The timestamps still
   * say when each period is to be heard. */
  GstClockTime due = p->next_ts + kPeriod;
  /* The period right after a reply's last audio goes with the lead too: its GAP tells downstream
   * that the burst ended (mulawbridge then sends what it holds for a fuller message, with a mark).
   * A lead later, Twilio would have played everything before it and gone silent in the middle of
   * the reply's last words. */
  const bool in_burst = p->playout.queued_ms() > 0 || p->last_period_had_audio;
  GstClockTime lead = in_burst ? (GstClockTime) p->output_lead_ms * GST_MSECOND : 0;
  *due_at = due > lead ? due - lead : 0;
  return true;
}

template <typename T>
static void take_all(std::deque<T> &from, std::vector<T> *to)
{
  to->assign(std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  from.clear();
}

/* The period that is due now (@due: when, monotonic µs): audio, silence or a gap, with the tool
 * calls and transcripts queued meanwhile, and EOS once the conversation is over. Lock held on entry,
 * released on return. False: the output stops for good (EOS, or downstream refused the data). */
static bool hand_out_period(GstRealtimeSink *self, std::unique_lock<std::mutex> &lock, gint64 due)
{
  Private *p = self->priv;
  GstClockTime ts = p->next_ts;
  p->next_ts += kPeriod;
  p->reply_start_aligned = false;
  PlayoutQueue::Period period;
  bool have_audio = p->playout.pop(&period);
  if (have_audio)
    p->playout.record_output(period, ts, kPeriod);
  p->last_period_had_audio = have_audio;
  bool discont = p->need_discont;
  p->need_discont = !have_audio && !p->fill_silence;
  /* Vectors, taken only when there is something: an empty std::deque allocates, and this runs
   * every period of every call. */
  std::vector<std::string> calls;
  std::vector<Private::TranscriptLine> transcripts;
  if (!p->pending_tool_calls.empty())
    take_all(p->pending_tool_calls, &calls);
  if (!p->pending_transcripts.empty())
    take_all(p->pending_transcripts, &transcripts);
  bool timed_out = false;
  bool finished = conversation_finished(p, g_get_monotonic_time(), &timed_out);
  if (finished)
    p->output_eos_sent = true;
  bool sideband = !p->call_id.empty();
  AudioFormat out_format = p->out_format;
  lock.unlock();

  if (!transcripts.empty())
    push_transcripts(self, std::move(transcripts));
  if (!calls.empty())
    push_tool_calls(self, std::move(calls), ts);

  if (!sideband) {
    GstBuffer *buffer = nullptr;
    if (have_audio) {
      buffer = gst_buffer_new_memdup(period.audio.data(), period.audio.size());
    } else if (p->fill_silence) {
      buffer = gst_buffer_new_allocate(nullptr, p->playout.period_bytes(), nullptr);
      gst_buffer_memset(buffer, 0, silence_byte(out_format), gst_buffer_get_size(buffer));
    }
    if (buffer) {
      GST_BUFFER_PTS(buffer) = ts;
      GST_BUFFER_DURATION(buffer) = kPeriod;
      if (discont)
        GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
      /* Our part of the delay ends here; what downstream does with the buffer is its own. */
      p->output_delay.add(g_get_monotonic_time() - due);
      GstFlowReturn ret = gst_pad_push(self->srcpad, buffer);
      if (ret == GST_FLOW_FLUSHING) {
        return true;   /* the next period sees `flushing` */
      } else if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED) {
        GST_INFO_OBJECT(self, "downstream stopped the output: %s", gst_flow_get_name(ret));
        if (ret <= GST_FLOW_NOT_NEGOTIATED) {
          GST_ELEMENT_FLOW_ERROR(self, ret);
        }
        return false;
      }
      std::lock_guard<std::mutex> l(p->lock);
      if (have_audio)
        p->periods_out++;
    } else {
      /* Nothing to say: tell downstream time goes on, so mixers and sinks do not wait for us. */
      gst_pad_push_event(self->srcpad, gst_event_new_gap(ts, kPeriod));
    }
  }

  if (finished) {
    if (timed_out) {
      GST_ELEMENT_WARNING(self, RESOURCE, READ, ("The reply did not finish within eos-timeout."),
          ("ending the stream anyway"));
    }
    GST_INFO_OBJECT(self, "conversation finished: end of stream");
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
    gst_pad_push_event(self->toolspad, gst_event_new_eos());
    return false;
  }
  return true;
}

/* The src task: waits on the clock for each period. */
static void gst_realtime_sink_loop(GstRealtimeSink *self)
{
  Private *p = self->priv;
  GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock) {
    /* No clock before PLAYING: nothing to pace against yet. */
    gst_pad_pause_task(self->srcpad);
    return;
  }
  GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));

  std::unique_lock<std::mutex> lock(p->lock);
  GstClockTime due_at = 0;
  if (!schedule_next_period(self, lock, clock, base, &due_at)) {
    lock.unlock();
    gst_object_unref(clock);
    gst_pad_pause_task(self->srcpad);   /* from the task itself: never waits */
    return;
  }
  p->output_clock_id = gst_clock_new_single_shot_id(clock, base + due_at);
  GstClockID id = p->output_clock_id;
  lock.unlock();
  GstClockReturn waited = gst_clock_id_wait(id, nullptr);
  gint64 due = g_get_monotonic_time();
  lock.lock();
  gst_clock_id_unref(id);
  p->output_clock_id = nullptr;
  gst_object_unref(clock);
  if (waited == GST_CLOCK_UNSCHEDULED || p->flushing || !p->playing)
    return;
  if (!hand_out_period(self, lock, due))
    gst_pad_pause_task(self->srcpad);
}

/* push-from-network-thread: hands out every period that is due, on the network thread, holding the
 * src pad's stream lock as a task would (a pad being deactivated waits for it). Returns when to run
 * again (monotonic µs), or -1 when the output stopped (EOS, no clock, not PLAYING). */
static gint64 run_due_periods(GstRealtimeSink *self, bool *stopped)
{
  Private *p = self->priv;
  /* A burst (a reply's first `output-lead`, or catching up after a stall) goes out in one run, but
   * a bounded one: the thread carries other calls too. */
  for (int periods = 0; periods < 16; periods++) {
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
    if (!clock) {
      GST_WARNING_OBJECT(self, "no clock in PLAYING: the reply's output stops");
      *stopped = true;   /* as the task pauses itself: until the next PAUSED→PLAYING */
      return -1;
    }
    GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
    std::unique_lock<std::mutex> lock(p->lock);
    GstClockTime due_at = 0;
    if (!schedule_next_period(self, lock, clock, base, &due_at)) {
      gst_object_unref(clock);
      return -1;
    }
    GstClockTimeDiff wait = GST_CLOCK_DIFF(gst_clock_get_time(clock), base + due_at);
    gst_object_unref(clock);
    gint64 now = g_get_monotonic_time();
    /* The first period of a run goes at its time; the rest of the batch with it. */
    GstClockTimeDiff slack = periods > 0 ? (GstClockTimeDiff) p->output_batch_ms * GST_MSECOND : 0;
    if (wait > slack)
      return now + (wait + 999) / 1000;   /* (GstSystemClock is the monotonic clock, in ns) */
    wait = MIN(wait, 0);
    if (!hand_out_period(self, lock, now + wait / 1000)) {
      *stopped = true;
      return -1;
    }
  }
  return 0;
}

static gboolean dispatch_output_timer(GSource *source, GSourceFunc, gpointer data)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(data);
  Private *p = self->priv;
  bool stopped = false;
  GST_PAD_STREAM_LOCK(self->srcpad);
  gint64 next = run_due_periods(self, &stopped);
  GST_PAD_STREAM_UNLOCK(self->srcpad);
  /* Re-armed under the lock, so that a PAUSED→PLAYING that re-armed it meanwhile is not undone:
   * PLAYING and not stopped means run again, whatever this run saw. */
  std::lock_guard<std::mutex> lock(p->lock);
  if (stopped)
    p->output_stopped = true;
  gint64 ready = -1;
  if (p->playing && !p->flushing && !p->output_stopped)
    ready = next < 0 ? 0 : next;
  g_source_set_ready_time(source, ready);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs output_timer_funcs = {nullptr, nullptr, dispatch_output_timer, nullptr, nullptr, nullptr};

/* Starts handing out periods from the network thread (PAUSED→PLAYING). Lock held. */
static void start_output_timer(GstRealtimeSink *self)
{
  Private *p = self->priv;
  p->output_stopped = false;
  GST_DEBUG_OBJECT(self, "handing the reply out from the network thread's timer");
  if (!p->output_timer) {
    p->output_timer = g_source_new(&output_timer_funcs, sizeof(GSource));
    g_source_set_name(p->output_timer, "realtimesink-output");
    g_source_set_priority(p->output_timer, G_PRIORITY_HIGH);   /* audio before socket reads */
    /* The source keeps the element alive while a run may be in progress. */
    g_source_set_callback(p->output_timer, nullptr, gst_object_ref(self), gst_object_unref);
    g_source_attach(p->output_timer, p->net->context());
  }
  g_source_set_ready_time(p->output_timer, 0);
}

/* Stops it for good (the src pad's deactivation); a run in progress finishes first. */
static void stop_output_timer(GstRealtimeSink *self)
{
  Private *p = self->priv;
  GSource *timer = nullptr;
  {
    std::lock_guard<std::mutex> lock(p->lock);
    std::swap(timer, p->output_timer);
  }
  if (!timer)
    return;
  g_source_destroy(timer);
  g_source_unref(timer);
  GST_PAD_STREAM_LOCK(self->srcpad);   /* a run that had started has finished */
  GST_PAD_STREAM_UNLOCK(self->srcpad);
}

static void stop_waiting(Private *p)
{
  /* Called with the lock held: wake the src task and a syncing chain so they see `flushing`. */
  if (p->output_clock_id)
    gst_clock_id_unschedule(p->output_clock_id);
  if (p->input_clock_id)
    gst_clock_id_unschedule(p->input_clock_id);
}

static gboolean gst_realtime_sink_src_activate_mode(GstPad *pad, GstObject *parent, GstPadMode mode,
    gboolean active)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active)
    return TRUE;   /* the task starts in PAUSED→PLAYING, like any live source */
  bool timer_driven;
  {
    std::lock_guard<std::mutex> lock(self->priv->lock);
    self->priv->flushing = true;
    stop_waiting(self->priv);
    timer_driven = self->priv->output_timer != nullptr;
  }
  if (timer_driven) {
    stop_output_timer(self);
    return TRUE;
  }
  return gst_pad_stop_task(pad);
}

static gboolean gst_realtime_sink_src_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(parent);
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_LATENCY:
      /* Live: a period is handed out when complete, so one period of latency; we can hold any amount. */
      gst_query_set_latency(query, TRUE, kPeriod, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS: {
      std::lock_guard<std::mutex> lock(self->priv->lock);
      GstCaps *caps = self->priv->client ? caps_for_format(self->priv->out_format)
                                          : gst_pad_get_pad_template_caps(pad);
      GstCaps *filter;
      gst_query_parse_caps(query, &filter);
      if (filter) {
        GstCaps *result = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = result;
      }
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean gst_realtime_sink_src_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_LATENCY) {
    GstClockTime latency;
    gst_event_parse_latency(event, &latency);
    std::lock_guard<std::mutex> lock(self->priv->lock);
    self->priv->downstream_latency = latency;
  }
  gst_event_unref(event);
  return TRUE;
}

/* Results and requests that come back from the executor chain. */
static gboolean gst_realtime_sink_tools_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(parent);
  const GstStructure *s = gst_event_get_structure(event);
  if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM && s) {
    if (gst_structure_has_name(s, CLAWVOICE_EVENT_TOOL_RESULT)) {
      const gchar *call_id = gst_structure_get_string(s, "call-id");
      const gchar *output = gst_structure_get_string(s, "output");
      gboolean respond = TRUE;
      gst_structure_get_boolean(s, "respond", &respond);
      if (call_id && output)
        handle_tool_result(self, call_id, output, respond, false);
      else
        GST_WARNING_OBJECT(self, "tool result without call-id or output: ignored");
    } else if (gst_structure_has_name(s, CLAWVOICE_EVENT_INJECT)) {
      const gchar *text = gst_structure_get_string(s, "text");
      const gchar *role = gst_structure_get_string(s, "role");
      gboolean urgent = FALSE, respond = TRUE;
      gst_structure_get_boolean(s, "urgent", &urgent);
      gst_structure_get_boolean(s, "respond", &respond);
      if (text && *text) {
        {
          std::lock_guard<std::mutex> lock(self->priv->lock);
          self->priv->pending_injects.push_back({text, role ? role : "system", urgent != FALSE, respond != FALSE});
        }
        flush_injects(self);
      }
    }
  }
  gst_event_unref(event);
  return TRUE;
}

/* ---- Properties ---- */

static GstStructure *build_stats(GstRealtimeSink *self)
{
  Private *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  gint reconnects = p->client ? p->client->reconnects() : 0;
  gint64 send_p50 = p->client ? p->client->send_delay_percentile(50) : 0;
  gint64 send_p99 = p->client ? p->client->send_delay_percentile(99) : 0;
  const char *state = p->client ? realtime::connection_state_name(p->client->state()) : "disconnected";
  GstStructure *stats = gst_structure_new("realtimesink-stats",
      "connection", G_TYPE_STRING, state,
      "audio-frames-in", G_TYPE_UINT64, p->frames_in,
      "audio-frames-sent", G_TYPE_UINT64, p->frames_sent,
      "audio-frames-dropped", G_TYPE_UINT64, p->frames_dropped,
      "audio-deltas", G_TYPE_UINT64, p->deltas,
      "periods-out", G_TYPE_UINT64, p->periods_out,
      "queued-ms", G_TYPE_INT64, p->playout.queued_ms(),
      "barge-ins", G_TYPE_UINT64, p->barge_ins,
      "truncations", G_TYPE_UINT64, p->truncations,
      "tool-calls", G_TYPE_UINT64, p->tool_calls,
      "reconnects", G_TYPE_INT, reconnects,
      "protocol-errors", G_TYPE_UINT64, p->protocol_errors,
      "input-tokens", G_TYPE_INT64, p->usage.input_tokens,
      "output-tokens", G_TYPE_INT64, p->usage.output_tokens,
      "cost", G_TYPE_DOUBLE, p->cost_usd,
      "send-delay-p50-us", G_TYPE_INT64, send_p50,
      "send-delay-p99-us", G_TYPE_INT64, send_p99,
      "output-delay-p50-us", G_TYPE_INT64, p->output_delay.percentile(50),
      "output-delay-p99-us", G_TYPE_INT64, p->output_delay.percentile(99),
      "input-delay-p50-us", G_TYPE_INT64, p->input_delay.percentile(50),
      "input-delay-p99-us", G_TYPE_INT64, p->input_delay.percentile(99),
      "input-delay-sum-us", G_TYPE_UINT64, p->input_delay_sum_us,
      nullptr);
  GValue histogram = G_VALUE_INIT;
  gst_value_array_init(&histogram, CLAWVOICE_INPUT_DELAY_BUCKETS);
  for (guint64 count : p->input_delay_counts) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_UINT64);
    g_value_set_uint64(&v, count);
    gst_value_array_append_and_take_value(&histogram, &v);
  }
  gst_structure_take_value(stats, "input-delay-histogram", &histogram);
  return stats;
}

static void set_string(std::string *field, const GValue *value)
{
  const gchar *s = g_value_get_string(value);
  *field = s ? s : "";
}

static void gst_realtime_sink_set_property(GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(object);
  Private *p = self->priv;
  std::lock_guard<std::mutex> lock(p->lock);
  realtime::SessionConfig &s = p->session;
  switch (prop_id) {
    case PROP_URL: set_string(&p->url, value); if (p->url.empty()) p->url = kDefaultUrl; break;
    case PROP_API_KEY: set_string(&p->api_key, value); break;
    case PROP_MODEL: set_string(&s.model, value); if (s.model.empty()) s.model = "gpt-realtime"; break;
    case PROP_VOICE: set_string(&s.voice, value); if (s.voice.empty()) s.voice = "marin"; break;
    case PROP_SPEED: s.speed = g_value_get_double(value); break;
    case PROP_INSTRUCTIONS: set_string(&s.instructions, value); break;
    case PROP_TURN_DETECTION: s.turn_detection = (TurnDetection) g_value_get_enum(value); break;
    case PROP_VAD_THRESHOLD: s.vad_threshold = g_value_get_double(value); break;
    case PROP_VAD_PREFIX_PADDING_MS: s.vad_prefix_padding_ms = g_value_get_uint(value); break;
    case PROP_VAD_SILENCE_DURATION_MS: s.vad_silence_duration_ms = g_value_get_uint(value); break;
    case PROP_VAD_IDLE_TIMEOUT_MS: s.vad_idle_timeout_ms = g_value_get_uint(value); break;
    case PROP_EAGERNESS: s.semantic_eagerness = eagerness_names[g_value_get_enum(value)]; break;
    case PROP_CREATE_RESPONSE: s.create_response = g_value_get_boolean(value); break;
    case PROP_INTERRUPT_RESPONSE: s.interrupt_response = g_value_get_boolean(value); break;
    case PROP_TRANSCRIPTION_MODEL: set_string(&s.transcription_model, value); break;
    case PROP_TRANSCRIPTION_LANGUAGE: set_string(&s.transcription_language, value); break;
    case PROP_NOISE_REDUCTION: {
      static const char *names[] = {"", "near_field", "far_field"};
      s.noise_reduction = names[g_value_get_enum(value)];
      break;
    }
    case PROP_MAX_OUTPUT_TOKENS: s.max_output_tokens = g_value_get_uint(value); break;
    case PROP_CALL_ID: set_string(&p->call_id, value); break;
    case PROP_FILL_SILENCE: p->fill_silence = g_value_get_boolean(value); break;
    case PROP_OUTPUT_LEAD: p->output_lead_ms = g_value_get_uint(value); break;
    case PROP_PUSH_FROM_NETWORK_THREAD: p->push_from_network_thread = g_value_get_boolean(value); break;
    case PROP_OUTPUT_BATCH: p->output_batch_ms = g_value_get_uint(value); break;
    case PROP_SYNC: p->sync = g_value_get_boolean(value); break;
    case PROP_EOS_TIMEOUT: p->eos_timeout_ms = g_value_get_uint(value); break;
    case PROP_MAX_RECONNECT_ATTEMPTS: p->max_reconnect_attempts = g_value_get_int(value); break;
    case PROP_PRICES: {
      const GstStructure *prices = gst_value_get_structure(value);
      if (!prices) {
        p->prices_set = false;
        break;
      }
      realtime::Prices x = realtime::default_prices(s.model);
      gst_structure_get_double(prices, "audio-in", &x.audio_in);
      gst_structure_get_double(prices, "audio-out", &x.audio_out);
      gst_structure_get_double(prices, "text-in", &x.text_in);
      gst_structure_get_double(prices, "text-out", &x.text_out);
      gst_structure_get_double(prices, "cached-in", &x.cached_in);
      p->prices = x;
      p->prices_set = true;
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_realtime_sink_get_property(GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(object);
  Private *p = self->priv;
  if (prop_id == PROP_STATS) {
    g_value_take_boxed(value, build_stats(self));
    return;
  }
  std::lock_guard<std::mutex> lock(p->lock);
  const realtime::SessionConfig &s = p->session;
  switch (prop_id) {
    case PROP_URL: g_value_set_string(value, p->url.c_str()); break;
    /* The key is a secret: never readable back in clear. */
    case PROP_API_KEY: g_value_set_string(value, p->api_key.empty() ? nullptr : kMaskedKey); break;
    case PROP_MODEL: g_value_set_string(value, s.model.c_str()); break;
    case PROP_VOICE: g_value_set_string(value, s.voice.c_str()); break;
    case PROP_SPEED: g_value_set_double(value, s.speed); break;
    case PROP_INSTRUCTIONS: g_value_set_string(value, s.instructions.c_str()); break;
    case PROP_TURN_DETECTION: g_value_set_enum(value, (gint) s.turn_detection); break;
    case PROP_VAD_THRESHOLD: g_value_set_double(value, s.vad_threshold); break;
    case PROP_VAD_PREFIX_PADDING_MS: g_value_set_uint(value, s.vad_prefix_padding_ms); break;
    case PROP_VAD_SILENCE_DURATION_MS: g_value_set_uint(value, s.vad_silence_duration_ms); break;
    case PROP_VAD_IDLE_TIMEOUT_MS: g_value_set_uint(value, s.vad_idle_timeout_ms); break;
    case PROP_EAGERNESS: {
      gint v = EAGERNESS_AUTO;
      for (gint i = 0; i < 4; i++)
        if (s.semantic_eagerness == eagerness_names[i])
          v = i;
      g_value_set_enum(value, v);
      break;
    }
    case PROP_CREATE_RESPONSE: g_value_set_boolean(value, s.create_response); break;
    case PROP_INTERRUPT_RESPONSE: g_value_set_boolean(value, s.interrupt_response); break;
    case PROP_TRANSCRIPTION_MODEL:
      g_value_set_string(value, s.transcription_model.empty() ? nullptr : s.transcription_model.c_str());
      break;
    case PROP_TRANSCRIPTION_LANGUAGE:
      g_value_set_string(value, s.transcription_language.empty() ? nullptr : s.transcription_language.c_str());
      break;
    case PROP_NOISE_REDUCTION:
      g_value_set_enum(value, s.noise_reduction == "near_field" ? NOISE_REDUCTION_NEAR
                              : s.noise_reduction == "far_field" ? NOISE_REDUCTION_FAR
                                                                 : NOISE_REDUCTION_NONE);
      break;
    case PROP_MAX_OUTPUT_TOKENS: g_value_set_uint(value, s.max_output_tokens); break;
    case PROP_CALL_ID: g_value_set_string(value, p->call_id.empty() ? nullptr : p->call_id.c_str()); break;
    case PROP_FILL_SILENCE: g_value_set_boolean(value, p->fill_silence); break;
    case PROP_OUTPUT_LEAD: g_value_set_uint(value, p->output_lead_ms); break;
    case PROP_PUSH_FROM_NETWORK_THREAD: g_value_set_boolean(value, p->push_from_network_thread); break;
    case PROP_OUTPUT_BATCH: g_value_set_uint(value, p->output_batch_ms); break;
    case PROP_SYNC: g_value_set_boolean(value, p->sync); break;
    case PROP_EOS_TIMEOUT: g_value_set_uint(value, p->eos_timeout_ms); break;
    case PROP_MAX_RECONNECT_ATTEMPTS: g_value_set_int(value, p->max_reconnect_attempts); break;
    case PROP_PRICES: {
      realtime::Prices x = p->prices_set ? p->prices : realtime::default_prices(s.model);
      g_value_take_boxed(value, gst_structure_new("prices", "audio-in", G_TYPE_DOUBLE, x.audio_in,
          "audio-out", G_TYPE_DOUBLE, x.audio_out, "text-in", G_TYPE_DOUBLE, x.text_in,
          "text-out", G_TYPE_DOUBLE, x.text_out, "cached-in", G_TYPE_DOUBLE, x.cached_in, nullptr));
      break;
    }
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

/* ---- State changes ---- */

static GstStateChangeReturn gst_realtime_sink_change_state(GstElement *element, GstStateChange transition)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(element);
  Private *p = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      p->net = net::NetThread::acquire_pooled();   /* the session's socket is ours alone */
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      {
        std::lock_guard<std::mutex> lock(p->lock);
        p->flushing = false;
        p->streams_started = false;
        p->output_eos_sent = false;
        p->next_ts = GST_CLOCK_TIME_NONE;
        p->need_discont = true;
        p->last_period_had_audio = false;
      }
      /* Connect now, so the session is ready by the time the caller speaks. */
      if (!gst_realtime_sink_start(self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard<std::mutex> lock(p->lock);
      p->flushing = true;
      stop_waiting(p);
      break;
    }
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(gst_realtime_sink_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;   /* live: nothing to preroll */
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      std::lock_guard<std::mutex> lock(p->lock);
      p->playing = true;
      if (p->push_from_network_thread)
        start_output_timer(self);
      else
        gst_pad_start_task(self->srcpad, (GstTaskFunction) gst_realtime_sink_loop, self, nullptr);
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      /* Like a live basesrc: only wake the task. It may be blocked pushing into a sink that is
       * prerolling in PAUSED, so waiting for it here (gst_pad_pause_task) would deadlock; it pauses
       * itself, and PAUSED→READY flushes it out of any push. */
      std::lock_guard<std::mutex> lock(p->lock);
      p->playing = false;
      if (p->output_clock_id)
        gst_clock_id_unschedule(p->output_clock_id);
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_realtime_sink_stop(self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      p->net.reset();
      break;
    default:
      break;
  }
  return ret;
}

/* ---- GObject ---- */

static void gst_realtime_sink_init(GstRealtimeSink *self)
{
  self->priv = new Private();

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, gst_realtime_sink_chain);
  gst_pad_set_event_function(self->sinkpad, gst_realtime_sink_sink_event);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_activatemode_function(self->srcpad, gst_realtime_sink_src_activate_mode);
  gst_pad_set_query_function(self->srcpad, gst_realtime_sink_src_query);
  gst_pad_set_event_function(self->srcpad, gst_realtime_sink_src_event);
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);

  self->toolspad = gst_pad_new_from_static_template(&tools_template, "tools");
  gst_pad_set_event_function(self->toolspad, gst_realtime_sink_tools_event);
  gst_pad_use_fixed_caps(self->toolspad);
  gst_element_add_pad(GST_ELEMENT(self), self->toolspad);

  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
}

static void gst_realtime_sink_finalize(GObject *object)
{
  GstRealtimeSink *self = GST_REALTIME_SINK(object);
  delete self->priv;
  G_OBJECT_CLASS(gst_realtime_sink_parent_class)->finalize(object);
}

static void gst_realtime_sink_class_init(GstRealtimeSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_realtime_sink_set_property;
  gobject_class->get_property = gst_realtime_sink_get_property;
  gobject_class->finalize = gst_realtime_sink_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_realtime_sink_change_state);

  const auto rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(gobject_class, PROP_URL, g_param_spec_string("url", "URL",
      "WebSocket URL of the Realtime API (wss:// for OpenAI, ws://127.0.0.1:PORT/v1/realtime for the "
      "local simulator); ?model= or ?call_id= is added", kDefaultUrl, rw));
  g_object_class_install_property(gobject_class, PROP_API_KEY, g_param_spec_string("api-key", "API key",
      "Bearer key for the Realtime API (default: the OPENAI_API_KEY environment variable). Write-only "
      "in effect: reading it back gives a mask, and it is never logged", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_MODEL, g_param_spec_string("model", "Model",
      "Realtime model, e.g. gpt-realtime or gpt-realtime-mini", "gpt-realtime", rw));
  g_object_class_install_property(gobject_class, PROP_VOICE, g_param_spec_string("voice", "Voice",
      "Output voice: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin or cedar "
      "(cannot change once the assistant has spoken)", "marin",
      rw));
  g_object_class_install_property(gobject_class, PROP_SPEED, g_param_spec_double("speed", "Speed",
      "Speaking speed of the voice", 0.25, 1.5, 1.0, rw));
  g_object_class_install_property(gobject_class, PROP_INSTRUCTIONS, g_param_spec_string("instructions",
      "Instructions", "System instructions for the voice model", "", rw));
  g_object_class_install_property(gobject_class, PROP_TURN_DETECTION, g_param_spec_enum("turn-detection",
      "Turn detection", "How the end of the caller's turn is found", GST_TYPE_REALTIME_TURN_DETECTION,
      (gint) TurnDetection::ServerVad, rw));
  g_object_class_install_property(gobject_class, PROP_VAD_THRESHOLD, g_param_spec_double("vad-threshold",
      "VAD threshold", "server-vad activation threshold (higher needs louder speech)", 0.0, 1.0, 0.5, rw));
  g_object_class_install_property(gobject_class, PROP_VAD_PREFIX_PADDING_MS, g_param_spec_uint(
      "vad-prefix-padding-ms", "VAD prefix padding", "server-vad: audio kept before detected speech (ms)",
      0, 5000, 300, rw));
  g_object_class_install_property(gobject_class, PROP_VAD_SILENCE_DURATION_MS, g_param_spec_uint(
      "vad-silence-duration-ms", "VAD silence duration", "server-vad: silence that ends a turn (ms)",
      0, 10000, 500, rw));
  g_object_class_install_property(gobject_class, PROP_VAD_IDLE_TIMEOUT_MS, g_param_spec_uint(
      "vad-idle-timeout-ms", "VAD idle timeout",
      "server-vad: prompt the model after this much silence from the caller (ms, 0 = off)", 0, 600000, 0, rw));
  g_object_class_install_property(gobject_class, PROP_EAGERNESS, g_param_spec_enum("eagerness",
      "Eagerness", "semantic-vad: how quickly the model answers", GST_TYPE_REALTIME_EAGERNESS,
      EAGERNESS_AUTO, rw));
  g_object_class_install_property(gobject_class, PROP_CREATE_RESPONSE, g_param_spec_boolean(
      "create-response", "Create response", "VAD: answer automatically at the end of each turn", TRUE, rw));
  g_object_class_install_property(gobject_class, PROP_INTERRUPT_RESPONSE, g_param_spec_boolean(
      "interrupt-response", "Interrupt response", "VAD: the caller's speech interrupts a reply (barge-in)",
      TRUE, rw));
  g_object_class_install_property(gobject_class, PROP_TRANSCRIPTION_MODEL, g_param_spec_string(
      "transcription-model", "Transcription model",
      "Model transcribing the caller, e.g. gpt-4o-mini-transcribe (NULL: no caller transcripts)", nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_TRANSCRIPTION_LANGUAGE, g_param_spec_string(
      "transcription-language", "Transcription language", "ISO-639-1 hint for the transcription (e.g. en)",
      nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_NOISE_REDUCTION, g_param_spec_enum("noise-reduction",
      "Noise reduction", "Input noise reduction", GST_TYPE_REALTIME_NOISE_REDUCTION, NOISE_REDUCTION_NONE, rw));
  g_object_class_install_property(gobject_class, PROP_MAX_OUTPUT_TOKENS, g_param_spec_uint(
      "max-output-tokens", "Max output tokens", "Limit per reply (0 = no limit)", 0, 4096, 0, rw));
  g_object_class_install_property(gobject_class, PROP_CALL_ID, g_param_spec_string("call-id", "Call id",
      "Join the sideband of a call OpenAI carries itself (rtc_…): tool calls and events only, no audio",
      nullptr, rw));
  g_object_class_install_property(gobject_class, PROP_OUTPUT_LEAD, g_param_spec_uint("output-lead",
      "Output lead", "Hand out reply audio this many ms before it is due, for a transport that buffers at "
      "the far end and confirms what was played (mulawbridge: give its `lead` the same value); 0 = at "
      "its time, for local sinks", 0, 2000, 0,
      (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(gobject_class, PROP_PUSH_FROM_NETWORK_THREAD, g_param_spec_boolean(
      "push-from-network-thread", "Push from the network thread",
      "Hand out the reply from a timer on the session's network thread instead of a src task: no "
      "streaming thread of its own, and a phone call's media socket on the same thread is served in "
      "the same wake-up. Only when nothing downstream blocks (mulawbridge, udpsink sync=false)",
      FALSE, (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(gobject_class, PROP_OUTPUT_BATCH, g_param_spec_uint("output-batch",
      "Output batch", "With push-from-network-thread: when a period is due, hand out with it those due "
      "within this many ms, so the timer wakes once per batch instead of once per 20 ms period (for a "
      "transport that buffers at the far end: the far end then holds between output-lead - 20 ms and "
      "that plus output-batch). 0 = each period at its time", 0, 1000, 0,
      (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(gobject_class, PROP_FILL_SILENCE, g_param_spec_boolean("fill-silence",
      "Fill silence", "Put out silence while the model is quiet (for transports that want a continuous "
      "stream, such as RTP); otherwise GAP events", FALSE, rw));
  g_object_class_install_property(gobject_class, PROP_SYNC, g_param_spec_boolean("sync", "Sync",
      "Pace the caller's audio to the clock (use with non-live sources such as files)", FALSE, rw));
  g_object_class_install_property(gobject_class, PROP_EOS_TIMEOUT, g_param_spec_uint("eos-timeout",
      "EOS timeout", "After the caller's stream ends, how long to wait for the reply (ms)",
      0, 600000, 30000, rw));
  g_object_class_install_property(gobject_class, PROP_MAX_RECONNECT_ATTEMPTS, g_param_spec_int(
      "max-reconnect-attempts", "Max reconnect attempts",
      "Consecutive failed reconnects before giving up with an error (0 = never reconnect)", 0, 100, 5, rw));
  g_object_class_install_property(gobject_class, PROP_PRICES, g_param_spec_boxed("prices", "Prices",
      "USD per million tokens: prices, audio-in=32.0, audio-out=64.0, text-in=4.0, text-out=16.0, "
      "cached-in=0.4 (default: the model's published prices)", GST_TYPE_STRUCTURE, rw));
  g_object_class_install_property(gobject_class, PROP_STATS, g_param_spec_boxed("stats", "Statistics",
      "Counters: audio frames in/sent/dropped, deltas, periods out, barge-ins, truncations, tool calls, "
      "reconnects, tokens, cost, delays", GST_TYPE_STRUCTURE,
      (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_add_static_pad_template(element_class, &tools_template);
  gst_element_class_set_static_metadata(element_class, "OpenAI Realtime voice",
      "Sink/Source/Audio/Network",
      "Streams the caller's audio to an OpenAI Realtime session and puts the model's spoken reply out "
      "in real time, with barge-in, tool calls, transcripts and usage",
      "clawvoice developers");
  /* gst-inspect prints every metadata key: the example launch lines show there, not only in gtk-doc. */
  gst_element_class_add_static_metadata(element_class, "example-launch-line",
      "gst-launch-1.0 filesrc location=question.wav ! wavparse ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=24000,channels=1 ! realtimesink url=ws://127.0.0.1:8765/v1/realtime "
      "! wavenc ! filesink location=reply.wav   (asks the question in question.wav, writes the spoken reply; "
      "the key comes from OPENAI_API_KEY or api-key)");
  gst_element_class_add_static_metadata(element_class, "example-tools-g711",
      "gst-launch-1.0 filesrc location=call.ulaw ! audio/x-mulaw,rate=8000,channels=1 ! realtimesink name=rt "
      "! audio/x-mulaw,rate=8000,channels=1 ! filesink location=reply.ulaw  rt.tools ! <executor> ! <executor>   "
      "(μ-law in and out untouched; tool calls go to the executor chain, see docs/elements.md)");
  gst_element_class_add_static_metadata(element_class, GST_ELEMENT_METADATA_DOC_URI,
      "docs/elements.md in the clawvoice source tree");

  gst_type_mark_as_plugin_api(GST_TYPE_REALTIME_TURN_DETECTION, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api(GST_TYPE_REALTIME_NOISE_REDUCTION, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api(GST_TYPE_REALTIME_EAGERNESS, (GstPluginAPIFlags) 0);
}
