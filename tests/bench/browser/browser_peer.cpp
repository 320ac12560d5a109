#include "browser_peer.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cstdlib>

#include "common/json.h"

namespace clawvoice::test::browser {

PeerAudio::~PeerAudio()
{
  for (GBytes *b : question)
    g_bytes_unref(b);
  if (silence)
    g_bytes_unref(silence);
}

namespace {

/* Runs @description (ending in `appsink name=sink`) to EOS and returns its buffers. */
bool pull_frames(const std::string &description, std::vector<GBytes *> *frames, std::string *caps,
                 std::string *error)
{
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &err);
  if (!pipeline) {
    *error = std::string("encoder pipeline: ") + (err ? err->message : "?");
    g_clear_error(&err);
    return false;
  }
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  for (;;) {
    GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    if (!sample)
      break;
    if (caps && caps->empty()) {
      gchar *text = gst_caps_to_string(gst_sample_get_caps(sample));
      *caps = text;
      g_free(text);
    }
    GstBuffer *buffer = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      frames->push_back(g_bytes_new(map.data, map.size));
      gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
  }
  bool eos = gst_app_sink_is_eos(GST_APP_SINK(sink));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  if (!eos || frames->empty()) {
    *error = "encoder pipeline did not finish: " + description;
    return false;
  }
  return true;
}

std::string random_token(int length)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out;
  for (int i = 0; i < length; i++)
    out += alphabet[g_random_int_range(0, sizeof alphabet - 1)];
  return out;
}

/* The SDP with every a=ice-ufrag / a=ice-pwd replaced: what createOffer({iceRestart:true}) does. */
std::string with_new_ice_credentials(const std::string &sdp)
{
  const std::string ufrag = random_token(8), pwd = random_token(24);
  std::string out;
  size_t at = 0;
  while (at < sdp.size()) {
    size_t end = sdp.find('\n', at);
    std::string line = sdp.substr(at, end == std::string::npos ? std::string::npos : end - at + 1);
    if (line.rfind("a=ice-ufrag:", 0) == 0)
      line = "a=ice-ufrag:" + ufrag + "\r\n";
    else if (line.rfind("a=ice-pwd:", 0) == 0)
      line = "a=ice-pwd:" + pwd + "\r\n";
    out += line;
    if (end == std::string::npos)
      break;
    at = end + 1;
  }
  return out;
}

}  // namespace

std::unique_ptr<PeerAudio> encode_peer_audio(const std::string &wav, std::string *error)
{
  auto audio = std::make_unique<PeerAudio>();
  const std::string encode =
      " ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1"
      " ! opusenc audio-type=voice bitrate=32000 frame-size=20 ! appsink name=sink sync=false";
  if (wav.find('"') != std::string::npos) {
    *error = "a WAV path with a double quote: " + wav;
    return nullptr;
  }
  if (!pull_frames("filesrc location=\"" + wav + "\" ! wavparse" + encode, &audio->question, &audio->caps, error))
    return nullptr;
  std::vector<GBytes *> silence;
  std::string unused;
  if (!pull_frames("audiotestsrc wave=silence num-buffers=25 samplesperbuffer=960" + encode, &silence, &unused,
                   error))
    return nullptr;
  audio->silence = g_bytes_ref(silence[silence.size() / 2]);
  for (GBytes *b : silence)
    g_bytes_unref(b);
  return audio;
}

/* What a webrtcbin or libsoup callback holds: the peer, kept alive until the callback is done. */
struct BrowserPeer::Hop {
  std::shared_ptr<BrowserPeer> peer;
  static gpointer make(BrowserPeer *p) { return new Hop{p->shared_from_this()}; }
  static void destroy(gpointer data, GClosure * = nullptr) { delete static_cast<Hop *>(data); }
  static BrowserPeer *of(gpointer data) { return static_cast<Hop *>(data)->peer.get(); }
};

BrowserPeer::BrowserPeer(std::shared_ptr<net::NetThread> net, Options options)
    : net_(std::move(net)), options_(std::move(options))
{
}

BrowserPeer::~BrowserPeer()
{
  if (pipeline_) {
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_object_unref(pipeline_);
  }
  if (webrtc_)
    gst_object_unref(webrtc_);
  if (src_)
    gst_object_unref(src_);
}

void BrowserPeer::set_error(const std::string &error)
{
  std::lock_guard<std::mutex> lock(mutex_);
  if (report_.error.empty())
    report_.error = error;
}

void BrowserPeer::start()
{
  std::string error;
  if (!build_pipeline(&error)) {
    set_error(error);
    return;
  }
  auto self = shared_from_this();
  net_->invoke([self]() {
    self->session_ = soup_session_new_with_options("timeout", 20, nullptr);
    SoupMessage *message = soup_message_new("POST", (self->options_.base_url + "/api/session").c_str());
    const char body[] = "{}";
    GBytes *bytes = g_bytes_new(body, sizeof body - 1);   /* a copy: the send is asynchronous */
    soup_message_set_request_body_from_bytes(message, "application/json", bytes);
    g_bytes_unref(bytes);
    soup_session_send_and_read_async(self->session_, message, G_PRIORITY_DEFAULT, nullptr,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          BrowserPeer *peer = Hop::of(data);
          GError *err = nullptr;
          GBytes *reply = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &err);
          SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), result);
          if (!reply) {
            peer->set_error(std::string("POST /api/session: ") + err->message);
            g_error_free(err);
          } else {
            gsize size = 0;
            const char *text = (const char *) g_bytes_get_data(reply, &size);
            peer->on_session_reply(soup_message_get_status(msg), std::string(text ? text : "", size));
            g_bytes_unref(reply);
          }
          Hop::destroy(data);
        },
        Hop::make(self.get()));
    g_object_unref(message);
  });
}

void BrowserPeer::on_session_reply(guint status, const std::string &body)
{
  json::ObjectPtr o = json::parse_object(body);
  if (status != 200 || !o) {
    set_error("POST /api/session: " + std::to_string(status) + " " + body);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    report_.session_id = json::get_string(o.get(), "session_id");
  }
  const std::string signal_url = json::get_string(o.get(), "signal_url");
  SoupMessage *message = soup_message_new("GET", (options_.base_url + signal_url).c_str());
  if (!message) {
    set_error("bad signal_url: " + signal_url);
    return;
  }
  soup_session_websocket_connect_async(session_, message, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
      [](GObject *source, GAsyncResult *result, gpointer data) {
        BrowserPeer *peer = Hop::of(data);
        GError *err = nullptr;
        SoupWebsocketConnection *socket = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &err);
        if (!socket) {
          peer->set_error(std::string("WS /signal: ") + err->message);
          g_error_free(err);
        } else {
          peer->on_socket(socket);
        }
        Hop::destroy(data);
      },
      Hop::make(this));
  g_object_unref(message);
}

void BrowserPeer::on_socket(SoupWebsocketConnection *connection)
{
  socket_ = connection;   /* the connect result's reference */
  soup_websocket_connection_set_max_incoming_payload_size(socket_, 1 << 20);
  g_signal_connect_data(socket_, "message",
      G_CALLBACK(+[](SoupWebsocketConnection *, gint, GBytes *bytes, gpointer data) {
        gsize size = 0;
        const char *text = (const char *) g_bytes_get_data(bytes, &size);
        static_cast<BrowserPeer *>(data)->on_text(std::string(text ? text : "", size));
      }),
      this, nullptr, (GConnectFlags) 0);   /* disconnected in stop() */
  {
    std::lock_guard<std::mutex> lock(mutex_);
    report_.socket_open = true;
  }
  g_signal_connect(socket_, "closed", G_CALLBACK(+[](SoupWebsocketConnection *, gpointer data) {
                     auto *peer = static_cast<BrowserPeer *>(data);
                     std::lock_guard<std::mutex> lock(peer->mutex_);
                     peer->report_.socket_open = false;
                   }),
                   this);
  make_offer(false);
}

void BrowserPeer::send_json(const std::string &type, JsonObject *payload)
{
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "type", type.c_str());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    json_object_set_string_member(o, "session_id", report_.session_id.c_str());
  }
  json_object_set_object_member(o, "payload", payload);
  std::string text = json::to_string(o);
  json_object_unref(o);
  auto self = shared_from_this();
  net_->invoke([self, text]() {
    if (self->socket_ && soup_websocket_connection_get_state(self->socket_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text(self->socket_, text.c_str());
  });
}

bool BrowserPeer::build_pipeline(std::string *error)
{
  const std::string description =
      "appsrc name=src is-live=true format=time do-timestamp=true caps=\"" + options_.audio->caps + "\""
      " ! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,encoding-params=(string)2"
      " ! webrtcbin name=webrtc bundle-policy=max-bundle latency=" + std::to_string(options_.jitter_latency_ms) +
      " rtpopusdepay name=depay ! opusdec plc=true"
      " ! appsink name=sink sync=false caps=audio/x-raw,format=S16LE,rate=48000,channels=1";
  GError *err = nullptr;
  pipeline_ = gst_parse_launch(description.c_str(), &err);
  if (!pipeline_) {
    *error = std::string("peer pipeline: ") + (err ? err->message : "?");
    g_clear_error(&err);
    return false;
  }
  gst_object_ref_sink(pipeline_);
  webrtc_ = gst_bin_get_by_name(GST_BIN(pipeline_), "webrtc");
  src_ = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
  GstElement *depay = gst_bin_get_by_name(GST_BIN(pipeline_), "depay");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");

  /* Loopback only here: libnice skips lo unless told (shared/reference/webrtc.md). */
  GObject *agent = nullptr;
  g_object_get(webrtc_, "ice-agent", &agent, nullptr);
  gboolean added = FALSE;
  g_signal_emit_by_name(agent, "add-local-ip-address", "127.0.0.1", &added);
  g_object_unref(agent);

  g_signal_connect_data(webrtc_, "pad-added",
      G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer data) {
        if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
          return;
        GstPad *sink = gst_element_get_static_pad(GST_ELEMENT(data), "sink");
        if (!gst_pad_is_linked(sink))
          gst_pad_link(pad, sink);
        gst_object_unref(sink);
      }),
      gst_object_ref(depay), (GClosureNotify) +[](gpointer data, GClosure *) { gst_object_unref(data); },
      (GConnectFlags) 0);
  g_signal_connect_data(webrtc_, "on-ice-candidate",
      G_CALLBACK(+[](GstElement *, guint mline, gchar *candidate, gpointer data) {
        auto *peer = static_cast<BrowserPeer *>(data);
        if (!peer->options_.trickle_local_candidates)
          return;
        JsonObject *p = json_object_new();
        json_object_set_string_member(p, "candidate", candidate);
        json_object_set_string_member(p, "sdpMid", "0");
        json_object_set_int_member(p, "sdpMLineIndex", mline);
        peer->send_json("ice", p);
      }),
      this, nullptr, (GConnectFlags) 0);   /* the pipeline is stopped before the peer goes */
  g_signal_connect(webrtc_, "notify::connection-state",
      G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
        auto *peer = static_cast<BrowserPeer *>(data);
        GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
        g_object_get(webrtc, "connection-state", &state, nullptr);
        std::lock_guard<std::mutex> lock(peer->mutex_);
        peer->report_.peer_connection_state = (int) state;
      }),
      this);

  /* Every RTP packet of the reply, as it leaves the jitter buffer. */
  GstPad *depay_sink = gst_element_get_static_pad(depay, "sink");
  gst_pad_add_probe(depay_sink, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        auto *peer = static_cast<BrowserPeer *>(data);
        GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
        if (gst_rtp_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), GST_MAP_READ, &rtp)) {
          RtpArrival a{g_get_monotonic_time(), gst_rtp_buffer_get_timestamp(&rtp), gst_rtp_buffer_get_seq(&rtp)};
          gst_rtp_buffer_unmap(&rtp);
          std::lock_guard<std::mutex> lock(peer->mutex_);
          peer->report_.rtp.push_back(a);
        }
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
  gst_object_unref(depay_sink);

  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = [](GstAppSink *sink, gpointer data) -> GstFlowReturn {
    auto *peer = static_cast<BrowserPeer *>(data);
    GstSample *sample = gst_app_sink_pull_sample(sink);
    if (!sample)
      return GST_FLOW_OK;
    DecodedFrame f{g_get_monotonic_time(), 0, 0};
    GstMapInfo map;
    if (gst_buffer_map(gst_sample_get_buffer(sample), &map, GST_MAP_READ)) {
      const gint16 *s = (const gint16 *) map.data;
      f.samples = map.size / 2;
      for (guint i = 0; i < f.samples; i++)
        f.peak = std::max<gint>(f.peak, std::abs((gint) s[i]));
      gst_buffer_unmap(gst_sample_get_buffer(sample), &map);
    }
    gst_sample_unref(sample);
    std::lock_guard<std::mutex> lock(peer->mutex_);
    peer->report_.decoded.push_back(f);
    return GST_FLOW_OK;
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
  gst_object_unref(depay);
  gst_object_unref(sink);

  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "peer pipeline does not start";
    return false;
  }
  return true;
}

/* create-offer → (new ICE credentials on a restart) → `offer` to the launcher → set-local-description. */
void BrowserPeer::make_offer(bool new_credentials)
{
  struct OfferJob {
    std::shared_ptr<BrowserPeer> peer;
    bool restart;
  };
  GstPromise *promise = gst_promise_new_with_change_func(
      [](GstPromise *promise, gpointer data) {
        auto *job = static_cast<OfferJob *>(data);
        BrowserPeer *peer = job->peer.get();
        const GstStructure *reply = gst_promise_get_reply(promise);
        GstWebRTCSessionDescription *offer = nullptr;
        if (reply)
          gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
        if (!offer) {
          peer->set_error("webrtcbin made no offer");
          return;
        }
        gchar *text = gst_sdp_message_as_text(offer->sdp);
        std::string sdp = job->restart ? with_new_ice_credentials(text) : text;
        g_free(text);
        gst_webrtc_session_description_free(offer);
        GstSDPMessage *message = nullptr;
        gst_sdp_message_new_from_text(sdp.c_str(), &message);
        offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, message);
        if (g_getenv("BROWSER_PEER_DEBUG"))
          g_printerr("peer offer:\n%s\n", sdp.c_str());
        JsonObject *p = json_object_new();
        json_object_set_string_member(p, "type", "offer");
        json_object_set_string_member(p, "sdp", sdp.c_str());
        peer->send_json("offer", p);   /* queued before any candidate of ours */
        g_signal_emit_by_name(peer->webrtc_, "set-local-description", offer, nullptr);
        gst_webrtc_session_description_free(offer);
      },
      new OfferJob{shared_from_this(), new_credentials}, [](gpointer data) { delete static_cast<OfferJob *>(data); });
  g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void BrowserPeer::restart_ice()
{
  make_offer(true);
}

void BrowserPeer::on_text(const std::string &text)
{
  json::ObjectPtr o = json::parse_object(text);
  if (!o)
    return set_error("launcher sent bad JSON: " + text);
  const std::string type = json::get_string(o.get(), "type");
  JsonObject *payload = json::get_object(o.get(), "payload");
  if (g_getenv("BROWSER_PEER_DEBUG"))
    g_printerr("peer got: %s\n", text.c_str());
  if (type == "answer" && payload) {
    GstSDPMessage *message = nullptr;
    if (gst_sdp_message_new_from_text(json::get_string(payload, "sdp").c_str(), &message) != GST_SDP_OK)
      return set_error("the answer does not parse");
    GstWebRTCSessionDescription *answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
    g_signal_emit_by_name(webrtc_, "set-remote-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
    std::lock_guard<std::mutex> lock(mutex_);
    report_.answers++;
  } else if (type == "ice" && payload) {
    std::string candidate = json::get_string(payload, "candidate");
    if (candidate.empty())
      return;
    if (options_.rewrite_remote_candidate)
      candidate = options_.rewrite_remote_candidate(candidate);
    if (!candidate.empty())
      g_signal_emit_by_name(webrtc_, "add-ice-candidate", (guint) json::get_int(payload, "sdpMLineIndex"),
                            candidate.c_str());
  } else if (type == "state" && payload) {
    StateChange change{g_get_monotonic_time(), json::get_string(payload, "state"), json::get_string(payload, "reason")};
    std::lock_guard<std::mutex> lock(mutex_);
    report_.states.push_back(change);
    report_.last_state = change.state;
    live_ = change.state == "live" || change.state == "reconnecting";   /* a browser keeps sending */
    if (live_ && !report_.live_us)
      report_.live_us = change.time_us;
  } else if (type == "event") {
    std::lock_guard<std::mutex> lock(mutex_);
    report_.events++;
  } else if (type == "error" && payload) {
    std::lock_guard<std::mutex> lock(mutex_);
    report_.errors.push_back(json::get_string(payload, "message"));
  }
}

bool BrowserPeer::push_next_frame()
{
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!live_ || !src_)
      return false;
    report_.sent_us.push_back(g_get_monotonic_time());
  }
  const PeerAudio &audio = *options_.audio;
  GBytes *frame = next_frame_ < audio.question.size() ? audio.question[next_frame_] : audio.silence;
  next_frame_++;
  GstBuffer *buffer = gst_buffer_new_wrapped_bytes(frame);
  GST_BUFFER_DURATION(buffer) = 20 * GST_MSECOND;
  gst_app_src_push_buffer(GST_APP_SRC(src_), buffer);
  return true;
}

void BrowserPeer::hang_up()
{
  send_json("bye", json_object_new());
}

void BrowserPeer::stop()
{
  {
    std::lock_guard<std::mutex> lock(mutex_);
    live_ = false;
  }
  if (pipeline_)
    gst_element_set_state(pipeline_, GST_STATE_NULL);
  auto self = shared_from_this();
  net_->invoke_sync([self]() {
    if (self->socket_) {
      if (soup_websocket_connection_get_state(self->socket_) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(self->socket_, SOUP_WEBSOCKET_CLOSE_NORMAL, "bye");
      g_signal_handlers_disconnect_matched(self->socket_, G_SIGNAL_MATCH_DATA, 0, 0, nullptr, nullptr, self.get());
      g_object_unref(self->socket_);
      self->socket_ = nullptr;
    }
    if (self->session_) {
      soup_session_abort(self->session_);
      g_object_unref(self->session_);
      self->session_ = nullptr;
    }
  });
}

BrowserPeer::Report BrowserPeer::report() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return report_;
}

std::string BrowserPeer::last_state() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return report_.last_state;
}

bool BrowserPeer::heard_reply(gint peak_threshold) const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return std::any_of(report_.decoded.begin(), report_.decoded.end(),
                     [&](const DecodedFrame &f) { return f.peak >= peak_threshold; });
}

size_t BrowserPeer::decoded_count() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  return report_.decoded.size();
}

}  // namespace clawvoice::test::browser
