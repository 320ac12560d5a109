#include "sim_webrtc_call.h"

#include "common/base64.h"
#include "common/json.h"
#include "sim_events.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/webrtc/webrtc.h>

#include <cstring>

GST_DEBUG_CATEGORY_STATIC(sim_webrtc_debug);
#define GST_CAT_DEFAULT sim_webrtc_debug

namespace clawvoice::sim {

static constexpr guint kGatherTimeoutMs = 3000;      /* answer with what was gathered by then */
static constexpr gsize kMicBatchBytes = 4800;         /* 100 ms of 24 kHz S16 mono per append */
static constexpr GstClockTime kPlayLead = 20 * GST_MSECOND;

/* The media side. The send branch is linked to webrtcbin before the offer is set (otherwise 1.22
 * answers recvonly); clocksync paces the model's bursts to real time before they are encoded. */
static const char kPipeline[] =
    "webrtcbin name=webrtc bundle-policy=max-bundle latency=50 "
    "appsrc name=out is-live=true format=time max-bytes=2880000 "
    "  caps=audio/x-raw,format=S16LE,rate=24000,channels=1,layout=interleaved ! "
    "clocksync ! audioconvert ! audioresample ! opusenc audio-type=voice bitrate=32000 frame-size=20 ! "
    "rtpopuspay name=pay ! webrtc. "
    "rtpopusdepay name=depay ! opusdec plc=true ! audioconvert ! audioresample ! "
    "audio/x-raw,format=S16LE,rate=24000,channels=1 ! appsink name=in sync=false emit-signals=true";

std::shared_ptr<SimWebRtcCall> SimWebRtcCall::create(WebRtcCallSetup setup, GMainContext *context, EndedFn ended)
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    if (!gst_is_initialized())
      gst_init(nullptr, nullptr);   /* the clawvoice-sim program does not initialise GStreamer itself */
    GST_DEBUG_CATEGORY_INIT(sim_webrtc_debug, "clawvoice-sim-webrtc", 0, "simulator: WebRTC calls");
    g_once_init_leave(&once, 1);
  }
  return std::shared_ptr<SimWebRtcCall>(new SimWebRtcCall(std::move(setup), context, std::move(ended)));
}

SimWebRtcCall::SimWebRtcCall(WebRtcCallSetup setup, GMainContext *context, EndedFn ended)
    : setup_(std::move(setup)), context_(g_main_context_ref(context)), ended_fn_(std::move(ended))
{
}

SimWebRtcCall::~SimWebRtcCall()
{
  ended_fn_ = nullptr;
  end("simulator shutting down");
  g_main_context_unref(context_);
}

/* ---- threads ---------------------------------------------------------------------------------- */

void SimWebRtcCall::hop(std::function<void(SimWebRtcCall &)> fn)
{
  struct Task {
    std::weak_ptr<SimWebRtcCall> call;
    std::function<void(SimWebRtcCall &)> fn;
  };
  g_main_context_invoke_full(context_, G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        auto *task = static_cast<Task *>(data);
        if (auto call = task->call.lock())
          if (!call->ended_)
            task->fn(*call);
        return G_SOURCE_REMOVE;
      },
      new Task{weak_from_this(), std::move(fn)}, [](gpointer data) { delete static_cast<Task *>(data); });
}

/* Signal handlers keep only a weak reference: a call that is gone is simply not called. */
using WeakCall = std::weak_ptr<SimWebRtcCall>;
static gpointer weak_data(const std::shared_ptr<SimWebRtcCall> &call) { return new WeakCall(call); }
static void weak_free(gpointer data, GClosure *) { delete static_cast<WeakCall *>(data); }
static std::shared_ptr<SimWebRtcCall> strong(gpointer data) { return static_cast<WeakCall *>(data)->lock(); }

/* ---- media ------------------------------------------------------------------------------------ */

bool SimWebRtcCall::build_pipeline(std::string *error)
{
  GError *err = nullptr;
  pipeline_ = gst_parse_launch(kPipeline, &err);
  if (!pipeline_) {
    *error = std::string("cannot build the WebRTC pipeline: ") + (err ? err->message : "?");
    g_clear_error(&err);
    return false;
  }
  g_clear_error(&err);   /* a warning about a missing optional property */
  gchar *name = g_strdup_printf("sim-call-%s", setup_.call_id.c_str());
  gst_object_set_name(GST_OBJECT(pipeline_), name);
  g_free(name);
  webrtc_ = gst_bin_get_by_name(GST_BIN(pipeline_), "webrtc");
  out_ = gst_bin_get_by_name(GST_BIN(pipeline_), "out");
  in_ = gst_bin_get_by_name(GST_BIN(pipeline_), "in");
  GstPad *out_pad = gst_element_get_static_pad(out_, "src");
  gst_pad_add_probe(out_pad, GST_PAD_PROBE_TYPE_BUFFER, [](GstPad *, GstPadProbeInfo *info, gpointer data) {
        auto *generation = static_cast<std::shared_ptr<std::atomic<guint64>> *>(data);
        GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        return GST_BUFFER_OFFSET(buffer) < (*generation)->load() ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
      }, new std::shared_ptr<std::atomic<guint64>>(generation_),
      [](gpointer data) { delete static_cast<std::shared_ptr<std::atomic<guint64>> *>(data); });
  gst_object_unref(out_pad);
  GstElement *pay = gst_bin_get_by_name(GST_BIN(pipeline_), "pay");
  g_object_set(pay, "pt", (guint) setup_.opus_payload_type, nullptr);
  gst_object_unref(pay);

  if (!setup_.ice_address.empty()) {
    /* libnice skips loopback interfaces unless told: the simulator answers from its listen address. */
    GObject *agent = nullptr;
    g_object_get(webrtc_, "ice-agent", &agent, nullptr);
    gboolean added = FALSE;
    if (agent)
      g_signal_emit_by_name(agent, "add-local-ip-address", setup_.ice_address.c_str(), &added);
    if (!added)
      GST_WARNING("call %s: ICE refused local address %s", setup_.call_id.c_str(), setup_.ice_address.c_str());
    g_clear_object(&agent);
  }

  auto self = shared_from_this();
  GstElement *depay = gst_bin_get_by_name(GST_BIN(pipeline_), "depay");
  g_signal_connect_data(webrtc_, "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer depay) {
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
          return;
        GstPad *sink = gst_element_get_static_pad(GST_ELEMENT(depay), "sink");
        if (!gst_pad_is_linked(sink) && gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
          GST_WARNING("cannot link the caller's audio to the depayloader");
        gst_object_unref(sink);
      }), depay, (GClosureNotify) +[](gpointer depay, GClosure *) { gst_object_unref(depay); }, (GConnectFlags) 0);
  g_signal_connect_data(webrtc_, "on-ice-candidate", G_CALLBACK(+[](GstElement *, guint mline, gchar *c, gpointer data) {
        std::string candidate = c ? c : "";
        if (auto call = strong(data))
          call->hop([mline, candidate](SimWebRtcCall &s) { s.candidate_gathered(mline, candidate); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  g_signal_connect_data(webrtc_, "notify::ice-gathering-state", G_CALLBACK(+[](GstElement *w, GParamSpec *, gpointer data) {
        GstWebRTCICEGatheringState state = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
        g_object_get(w, "ice-gathering-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
          if (auto call = strong(data))
            call->hop([](SimWebRtcCall &s) { s.gathering_done(); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  g_signal_connect_data(webrtc_, "notify::connection-state", G_CALLBACK(+[](GstElement *w, GParamSpec *, gpointer data) {
        GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
        g_object_get(w, "connection-state", &state, nullptr);
        if (auto call = strong(data))
          call->hop([state](SimWebRtcCall &s) { s.connection_state((int) state); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  g_signal_connect_data(webrtc_, "on-data-channel", G_CALLBACK(+[](GstElement *, GstObject *channel, gpointer data) {
        std::shared_ptr<GstObject> held(GST_OBJECT(gst_object_ref(channel)), [](GstObject *c) { gst_object_unref(c); });
        if (auto call = strong(data))
          call->hop([held](SimWebRtcCall &s) { s.data_channel(GST_OBJECT(gst_object_ref(held.get()))); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  g_signal_connect_data(in_, "new-sample", G_CALLBACK(+[](GstElement *sink, gpointer data) -> GstFlowReturn {
        GstSample *sample = gst_app_sink_pull_sample(GST_APP_SINK(sink));
        if (!sample)
          return GST_FLOW_EOS;
        GstMapInfo map;
        GstBuffer *buffer = gst_sample_get_buffer(sample);
        if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
          if (auto call = strong(data))
            call->mic_pcm(map.data, map.size);
          gst_buffer_unmap(buffer, &map);
        }
        gst_sample_unref(sample);
        return GST_FLOW_OK;
      }), weak_data(self), weak_free, (GConnectFlags) 0);

  GstBus *bus = gst_element_get_bus(pipeline_);
  bus_watch_ = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, [](GstBus *, GstMessage *message, gpointer data) -> gboolean {
        auto call = strong(data);
        if (!call || call->ended_)
          return G_SOURCE_REMOVE;
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
          GError *err = nullptr;
          gchar *debug = nullptr;
          gst_message_parse_error(message, &err, &debug);
          std::string why = std::string("media error: ") + (err ? err->message : "?");
          GST_WARNING("call %s: %s (%s)", call->id().c_str(), why.c_str(), debug ? debug : "");
          g_clear_error(&err);
          g_free(debug);
          call->end(why);
          return G_SOURCE_REMOVE;
        }
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_LATENCY && call->pipeline_)
          gst_bin_recalculate_latency(GST_BIN(call->pipeline_));
        return G_SOURCE_CONTINUE;
      }, new WeakCall(self), [](gpointer data) { delete static_cast<WeakCall *>(data); });
  gst_object_unref(bus);   /* the watch's source is attached to the thread-default (sim) context */

  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "cannot start the WebRTC pipeline";
    return false;
  }
  return true;
}

/* set-remote-description(offer) → create-answer → set-local-description; the answer goes back over
 * HTTP once gathering is complete (send_answer). */
void SimWebRtcCall::negotiate()
{
  GstSDPMessage *sdp = nullptr;
  if (gst_sdp_message_new_from_text(setup_.offer_sdp.c_str(), &sdp) != GST_SDP_OK) {
    gst_sdp_message_free(sdp);
    end("the SDP offer does not parse");
    return;
  }
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  struct Step {
    WeakCall call;
    GstElement *webrtc;
  };
  auto *step = new Step{weak_from_this(), GST_ELEMENT(gst_object_ref(webrtc_))};
  GstPromise *promise = gst_promise_new_with_change_func([](GstPromise *promise, gpointer data) {
        auto *step = static_cast<Step *>(data);
        const GstStructure *reply = gst_promise_get_reply(promise);
        GError *err = nullptr;
        if (reply && gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr)) {
          std::string why = std::string("webrtcbin refused the offer: ") + err->message;
          g_error_free(err);
          if (auto call = step->call.lock())
            call->hop([why](SimWebRtcCall &s) { s.end(why); });
          return;
        }
        auto *next = new Step{step->call, GST_ELEMENT(gst_object_ref(step->webrtc))};
        GstPromise *answered = gst_promise_new_with_change_func([](GstPromise *promise, gpointer data) {
              auto *step = static_cast<Step *>(data);
              const GstStructure *reply = gst_promise_get_reply(promise);
              GstWebRTCSessionDescription *answer = nullptr;
              if (reply)
                gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
              auto call = step->call.lock();
              if (!answer) {
                if (call)
                  call->hop([](SimWebRtcCall &s) { s.end("webrtcbin could not answer the offer"); });
                return;
              }
              gchar *text = gst_sdp_message_as_text(answer->sdp);
              std::string sdp_text = text;
              g_free(text);
              g_signal_emit_by_name(step->webrtc, "set-local-description", answer, nullptr);
              gst_webrtc_session_description_free(answer);
              if (call)
                call->hop([sdp_text](SimWebRtcCall &s) {
                  s.answer_sdp_ = sdp_text;
                  s.answer_set_ = true;
                  if (s.gathered_)
                    s.send_answer();
                });
            }, next, [](gpointer data) {
              auto *step = static_cast<Step *>(data);
              gst_object_unref(step->webrtc);
              delete step;
            });
        g_signal_emit_by_name(step->webrtc, "create-answer", nullptr, answered);
      }, step, [](gpointer data) {
        auto *step = static_cast<Step *>(data);
        gst_object_unref(step->webrtc);
        delete step;
      });
  g_signal_emit_by_name(webrtc_, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free(offer);
}

void SimWebRtcCall::candidate_gathered(guint mline, const std::string &candidate)
{
  if (!candidate.empty())
    candidates_.emplace_back(mline, candidate);
}

void SimWebRtcCall::gathering_done()
{
  gathered_ = true;
  if (answer_set_)
    send_answer();
}

/* The answer with every gathered candidate in its m-section (the HTTP answer is the only signalling). */
void SimWebRtcCall::send_answer()
{
  if (!answered_)
    return;
  if (answer_timer_) {
    g_source_destroy(answer_timer_);
    g_clear_pointer(&answer_timer_, g_source_unref);
  }
  if (candidates_.empty()) {
    end("no local ICE candidate was gathered");
    return;
  }
  std::string sdp, section;
  int index = -1;
  auto flush = [&]() {
    if (index >= 0) {
      for (const auto &[mline, candidate] : candidates_)
        if ((int) mline == index)
          section += "a=" + candidate + "\r\n";
      section += "a=end-of-candidates\r\n";
    }
    sdp += section;
    section.clear();
  };
  size_t pos = 0;
  while (pos < answer_sdp_.size()) {
    size_t eol = answer_sdp_.find('\n', pos);
    std::string line = answer_sdp_.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? answer_sdp_.size() : eol + 1;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    if (line.rfind("m=", 0) == 0) {
      flush();
      index++;
    }
    section += line + "\r\n";
  }
  flush();
  bool recvonly = sdp.find("a=recvonly") != std::string::npos;
  GST_INFO("call %s: answer with %zu candidates%s", setup_.call_id.c_str(), candidates_.size(),
           recvonly ? " (recvonly!)" : "");
  AnsweredFn answered = std::move(answered_);
  answered_ = nullptr;
  answered(true, sdp);
}

void SimWebRtcCall::connection_state(int state)
{
  auto s = (GstWebRTCPeerConnectionState) state;
  GST_INFO("call %s: connection state %d", setup_.call_id.c_str(), state);
  if (s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    end("the media connection failed");
  else if (s == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    end("the peer closed the connection");
}

/* ---- the data channel ------------------------------------------------------------------------- */

void SimWebRtcCall::data_channel(GstObject *channel)
{
  gchar *label = nullptr;
  g_object_get(channel, "label", &label, nullptr);
  bool ours = g_strcmp0(label, "oai-events") == 0 && !channel_;
  GST_INFO("call %s: data channel '%s'%s", setup_.call_id.c_str(), label ? label : "", ours ? "" : " (ignored)");
  g_free(label);
  if (!ours) {
    gst_object_unref(channel);
    return;
  }
  channel_ = channel;   /* owns the reference the hop took */
  auto self = shared_from_this();
  g_signal_connect_data(channel_, "on-message-string", G_CALLBACK(+[](GstObject *, gchar *text, gpointer data) {
        std::string message = text ? text : "";
        if (auto call = strong(data))
          call->hop([message](SimWebRtcCall &s) { s.channel_text(message); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  g_signal_connect_data(channel_, "on-open", G_CALLBACK(+[](GstObject *, gpointer data) {
        if (auto call = strong(data))
          call->hop([](SimWebRtcCall &s) { s.channel_open(); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  g_signal_connect_data(channel_, "on-close", G_CALLBACK(+[](GstObject *, gpointer data) {
        if (auto call = strong(data))
          call->hop([](SimWebRtcCall &s) { s.end("the data channel closed"); });
      }), weak_data(self), weak_free, (GConnectFlags) 0);
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING;
  g_object_get(channel_, "ready-state", &state, nullptr);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
    channel_open();
}

void SimWebRtcCall::channel_open()
{
  if (channel_open_)
    return;
  channel_open_ = true;
  while (!for_page_.empty()) {
    to_page(for_page_.front());
    for_page_.pop_front();
  }
}

void SimWebRtcCall::channel_text(const std::string &text)
{
  if (bridge_ == Bridge::Ready)
    to_model(text);
  else
    for_model_.push_back(text);   /* after the session is configured, in order */
}

void SimWebRtcCall::to_page(const std::string &text)
{
  if (!channel_open_) {
    for_page_.push_back(text);
    return;
  }
  g_signal_emit_by_name(channel_, "send-string", text.c_str());
}

/* ---- the bridge into a simulator session ------------------------------------------------------ */

void SimWebRtcCall::connect_model()
{
  soup_ = soup_session_new_with_options("proxy-resolver", nullptr, nullptr);
  cancel_ = g_cancellable_new();
  std::string url = setup_.realtime_url + "?model=" + setup_.model;
  SoupMessage *message = soup_message_new(SOUP_METHOD_GET, url.c_str());
  if (!message) {
    end("bad simulator URL");
    return;
  }
  soup_message_headers_replace(soup_message_get_request_headers(message), "Authorization",
                               ("Bearer " + setup_.key).c_str());
  char *protocols[] = {(char *) "realtime", nullptr};
  soup_session_websocket_connect_async(soup_, message, nullptr, protocols, G_PRIORITY_DEFAULT, cancel_,
                                       on_model_connected, new WeakCall(shared_from_this()));
  g_object_unref(message);
}

void SimWebRtcCall::on_model_connected(GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<WeakCall> weak(static_cast<WeakCall *>(data));
  GError *error = nullptr;
  SoupWebsocketConnection *conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
  auto call = weak->lock();
  if (!call || call->ended_) {
    g_clear_error(&error);
    g_clear_object(&conn);
    return;
  }
  if (!conn) {
    std::string why = std::string("the session did not open: ") + (error ? error->message : "?");
    g_clear_error(&error);
    call->end(why);
    return;
  }
  call->model_ = conn;
  soup_websocket_connection_set_max_incoming_payload_size(conn, 0);
  g_signal_connect(conn, "message", G_CALLBACK(on_model_message), call.get());
  g_signal_connect(conn, "closed", G_CALLBACK(on_model_closed), call.get());
  call->bridge_ = Bridge::Configuring;
}

void SimWebRtcCall::on_model_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
{
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  gsize size = 0;
  const char *bytes = (const char *) g_bytes_get_data(message, &size);
  static_cast<SimWebRtcCall *>(data)->model_event(std::string(bytes ? bytes : "", size));
}

void SimWebRtcCall::on_model_closed(SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<SimWebRtcCall *>(data);
  gushort code = soup_websocket_connection_get_close_code(conn);
  self->end("the session closed (" + std::to_string(code) + ")");
}

void SimWebRtcCall::to_model(const std::string &text)
{
  if (model_ && soup_websocket_connection_get_state(model_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(model_, text.c_str());
}

/* The session's session.created is answered with the client secret's session (audio as 24 kHz PCM:
 * the codec is the bridge's business); its session.updated reaches the page as session.created, as
 * if the session had been created that way. Audio deltas become RTP; everything else goes through. */
void SimWebRtcCall::model_event(const std::string &text)
{
  json::ObjectPtr event = json::parse_object(text);
  std::string type = event ? json::get_string(event.get(), "type") : "";
  if (bridge_ == Bridge::Configuring && type == "session.created") {
    json::ObjectPtr session = setup_.session_json.empty() ? json::ObjectPtr(json_object_new())
                                                          : json::parse_object(setup_.session_json);
    if (!session)
      session.reset(json_object_new());
    json_object_set_string_member(session.get(), "type", "realtime");
    json_object_remove_member(session.get(), "model");
    JsonObject *audio = json::get_object(session.get(), "audio");
    if (!audio) {
      audio = json_object_new();
      json_object_set_object_member(session.get(), "audio", audio);
    }
    for (const char *direction : {"input", "output"}) {
      JsonObject *side = json::get_object(audio, direction);
      if (!side) {
        side = json_object_new();
        json_object_set_object_member(audio, direction, side);
      }
      JsonObject *format = json_object_new();
      json_object_set_string_member(format, "type", "audio/pcm");
      json_object_set_int_member(format, "rate", 24000);
      json_object_set_object_member(side, "format", format);
    }
    json::ObjectPtr update = make_event("session.update");
    json_object_set_object_member(update.get(), "session", session.release());
    to_model(json::to_string(update.get()));
    return;
  }
  if (bridge_ == Bridge::Configuring && type == "session.updated") {
    json_object_set_string_member(event.get(), "type", "session.created");
    to_page(json::to_string(event.get()));
    bridge_ = Bridge::Ready;
    while (!for_model_.empty()) {
      to_model(for_model_.front());
      for_model_.pop_front();
    }
    return;
  }
  if (bridge_ == Bridge::Configuring && type == "error") {
    GST_WARNING("call %s: the session refused the client secret's session: %s", setup_.call_id.c_str(), text.c_str());
    to_page(text);
    end("the session refused its configuration");
    return;
  }
  if (type == "response.output_audio.delta") {
    play(json::get_string(event.get(), "delta"), json::get_string(event.get(), "response_id"));
    return;
  }
  if (type == "response.done") {
    JsonObject *response = json::get_object(event.get(), "response");
    std::string id = json::get_string(response, "id");
    to_page(text);
    if (!speaking_response_.empty() && id == speaking_response_) {
      /* output_audio_buffer.stopped when the last of it has played. */
      GstClockTime now = running_time(), left = next_pts_ > now ? next_pts_ - now : 0;
      if (stopped_timer_) {
        g_source_destroy(stopped_timer_);
        g_source_unref(stopped_timer_);
      }
      stopped_timer_ = g_timeout_source_new((guint) (left / GST_MSECOND));
      auto *weak = new WeakCall(shared_from_this());
      g_source_set_callback(stopped_timer_, [](gpointer data) -> gboolean {
            auto call = static_cast<WeakCall *>(data)->lock();
            if (call && !call->ended_) {
              g_clear_pointer(&call->stopped_timer_, g_source_unref);
              call->playout_over(call->speaking_response_);
            }
            return G_SOURCE_REMOVE;
          }, weak, [](gpointer data) { delete static_cast<WeakCall *>(data); });
      g_source_attach(stopped_timer_, context_);
    }
    return;
  }
  if (type == "input_audio_buffer.speech_started" && !speaking_response_.empty())
    flush_playout();   /* barge-in: what has not played yet never will */
  to_page(text);
}

/* ---- audio ------------------------------------------------------------------------------------ */

GstClockTime SimWebRtcCall::running_time() const
{
  GstClock *clock = pipeline_ ? gst_element_get_clock(pipeline_) : nullptr;
  if (!clock)
    return 0;
  GstClockTime now = gst_clock_get_time(clock), base = gst_element_get_base_time(pipeline_);
  gst_object_unref(clock);
  return now > base ? now - base : 0;
}

void SimWebRtcCall::play(const std::string &pcm_base64, const std::string &response_id)
{
  std::vector<uint8_t> pcm;
  if (!base64::decode_base64_strict(pcm_base64, &pcm) || pcm.size() < 2)
    return;
  if (speaking_response_ != response_id) {
    if (!speaking_response_.empty())
      playout_over(speaking_response_);
    speaking_response_ = response_id;
    json::ObjectPtr started = make_event("output_audio_buffer.started");
    json_object_set_string_member(started.get(), "response_id", response_id.c_str());
    to_page(json::to_string(started.get()));
  }
  GstClockTime now = running_time();
  GstBuffer *buffer = gst_buffer_new_memdup(pcm.data(), pcm.size() & ~(size_t) 1);
  GstClockTime pts = next_pts_;
  if (pts < now + kPlayLead) {
    pts = now + kPlayLead;   /* after a silence: from now, not from where the last reply ended */
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  }
  GstClockTime duration = gst_util_uint64_scale(pcm.size() / 2, GST_SECOND, 24000);
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DURATION(buffer) = duration;
  GST_BUFFER_OFFSET(buffer) = generation_->load();
  next_pts_ = pts + duration;
  gst_app_src_push_buffer(GST_APP_SRC(out_), buffer);
}

void SimWebRtcCall::playout_over(const std::string &response_id)
{
  if (response_id.empty() || response_id != speaking_response_)
    return;
  speaking_response_.clear();
  json::ObjectPtr stopped = make_event("output_audio_buffer.stopped");
  json_object_set_string_member(stopped.get(), "response_id", response_id.c_str());
  to_page(json::to_string(stopped.get()));
}

void SimWebRtcCall::flush_playout()
{
  std::string response_id = speaking_response_;
  speaking_response_.clear();
  if (stopped_timer_) {
    g_source_destroy(stopped_timer_);
    g_clear_pointer(&stopped_timer_, g_source_unref);
  }
  /* No flush (appsrc would not resend its segment): buffers of older generations are dropped as
   * they leave appsrc, and new audio starts from now. */
  generation_->fetch_add(1);
  next_pts_ = 0;
  json::ObjectPtr cleared = make_event("output_audio_buffer.cleared");
  json_object_set_string_member(cleared.get(), "response_id", response_id.c_str());
  to_page(json::to_string(cleared.get()));
}

/* Streaming thread: the caller's audio, 100 ms per input_audio_buffer.append. */
void SimWebRtcCall::mic_pcm(const guint8 *data, gsize size)
{
  std::string batch;
  {
    std::lock_guard<std::mutex> guard(mic_lock_);
    mic_pending_.append((const char *) data, size);
    if (mic_pending_.size() < kMicBatchBytes)
      return;
    batch.swap(mic_pending_);
  }
  std::string audio = base64::encode_base64((const uint8_t *) batch.data(), batch.size());
  hop([audio](SimWebRtcCall &s) {
    if (s.bridge_ != Bridge::Ready)
      return;   /* before the session has its configuration: nobody is listening yet */
    std::string text = "{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + audio + "\"}";
    s.to_model(text);
  });
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

void SimWebRtcCall::start(AnsweredFn answered)
{
  answered_ = std::move(answered);
  std::string why;
  if (!build_pipeline(&why)) {
    end(why);
    return;
  }
  answer_timer_ = g_timeout_source_new(kGatherTimeoutMs);
  auto *weak = new WeakCall(shared_from_this());
  g_source_set_callback(answer_timer_, [](gpointer data) -> gboolean {
        auto call = static_cast<WeakCall *>(data)->lock();
        if (call && !call->ended_) {
          g_clear_pointer(&call->answer_timer_, g_source_unref);
          if (call->answer_set_)
            call->send_answer();   /* gathering never said "complete": answer with what we have */
          else
            call->end("webrtcbin did not answer in time");
        }
        return G_SOURCE_REMOVE;
      }, weak, [](gpointer data) { delete static_cast<WeakCall *>(data); });
  g_source_attach(answer_timer_, context_);
  negotiate();
  if (!ended_)
    connect_model();
}

void SimWebRtcCall::end(const std::string &reason)
{
  if (ended_)
    return;
  ended_ = true;
  GST_INFO("call %s ends: %s", setup_.call_id.c_str(), reason.c_str());
  bridge_ = Bridge::Closed;
  for (GSource **timer : {&answer_timer_, &stopped_timer_}) {
    if (*timer) {
      g_source_destroy(*timer);
      g_clear_pointer(timer, g_source_unref);
    }
  }
  if (answered_) {
    AnsweredFn answered = std::move(answered_);
    answered_ = nullptr;
    answered(false, reason);
  }
  if (cancel_)
    g_cancellable_cancel(cancel_);
  if (model_) {
    g_signal_handlers_disconnect_by_data(model_, this);
    if (soup_websocket_connection_get_state(model_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(model_, SOUP_WEBSOCKET_CLOSE_NORMAL, "call ended");
    g_clear_object(&model_);
  }
  g_clear_object(&cancel_);
  if (soup_) {
    soup_session_abort(soup_);
    g_clear_object(&soup_);
  }
  if (channel_) {
    g_signal_emit_by_name(channel_, "close");
    gst_clear_object(&channel_);
  }
  if (pipeline_) {
    if (bus_watch_) {
      GstBus *bus = gst_element_get_bus(pipeline_);
      gst_bus_remove_watch(bus);
      gst_object_unref(bus);
      bus_watch_ = 0;
    }
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_clear_object(&webrtc_);
    gst_clear_object(&out_);
    gst_clear_object(&in_);
    gst_clear_object(&pipeline_);
  }
  if (ended_fn_) {
    EndedFn ended = std::move(ended_fn_);
    ended_fn_ = nullptr;
    ended(setup_.call_id, reason);
  }
}

}  // namespace clawvoice::sim
