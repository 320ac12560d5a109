#include "routes/browser/browser_session.h"

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include "json_log.h"
#include "pipeline_elements.h"

namespace clawvoice::launcher {

using webrtc::SignalState;

namespace {

/* The first a=ice-ufrag of an SDP ("" if none): an offer with new credentials restarts ICE. */
std::string ice_ufrag_of(const std::string &sdp)
{
  size_t at = sdp.find("a=ice-ufrag:");
  if (at == std::string::npos)
    return "";
  at += 12;
  size_t end = sdp.find_first_of("\r\n", at);
  return sdp.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

/* What a webrtcbin signal or promise callback holds: the session, weakly (the call may be over by the
 * time webrtcbin calls), and the thread to hop to. */
struct BrowserSession::Callback {
  std::weak_ptr<BrowserSession> session;
  std::shared_ptr<net::NetThread> thread;
  GstElement *webrtc = nullptr;   /* ref, for promise callbacks that go on negotiating */

  static Callback *make(BrowserSession *s, GstElement *webrtc = nullptr)
  {
    auto *cb = new Callback{s->weak_from_this(), s->thread_, webrtc ? GST_ELEMENT(gst_object_ref(webrtc)) : nullptr};
    return cb;
  }
  static void destroy(gpointer data)
  {
    auto *cb = static_cast<Callback *>(data);
    if (cb->webrtc)
      gst_object_unref(cb->webrtc);
    delete cb;
  }
  /* Runs @fn with the session on the network thread, if it is still there. */
  template <typename Fn>
  void hop(Fn fn) const
  {
    std::weak_ptr<BrowserSession> weak = session;
    thread->invoke([weak, fn]() mutable {
      if (auto s = weak.lock())
        fn(*s);
    });
  }
};

BrowserSession::BrowserSession(CallManager &calls, std::shared_ptr<net::NetThread> thread, std::string call_id,
                               SoupWebsocketConnection *connection, std::string peer, Settings settings)
    : calls_(calls), thread_(std::move(thread)), call_id_(std::move(call_id)),
      connection_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(connection))), peer_(std::move(peer)),
      settings_(std::move(settings))
{
}

BrowserSession::~BrowserSession()
{
  cancel_timer();
  if (media_timer_)
    thread_->cancel_timer(media_timer_);
  if (message_handler_)
    g_signal_handler_disconnect(connection_, message_handler_);
  if (closed_handler_)
    g_signal_handler_disconnect(connection_, closed_handler_);
  if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "launcher stopping");
  g_object_unref(connection_);
  if (webrtc_)
    gst_object_unref(webrtc_);
}

void BrowserSession::start()
{
  /* A dead peer on a quiet socket is noticed by the pings. */
  soup_websocket_connection_set_keepalive_interval(connection_, 15);
  message_handler_ = g_signal_connect(connection_, "message",
      G_CALLBACK(+[](SoupWebsocketConnection *, gint type, GBytes *bytes, gpointer data) {
        auto *self = static_cast<BrowserSession *>(data);
        if (type != SOUP_WEBSOCKET_DATA_TEXT) {
          self->fail("bad signalling: binary frame (messages are JSON text)", true);
          return;
        }
        gsize size = 0;
        const char *text = (const char *) g_bytes_get_data(bytes, &size);
        self->on_text(std::string(text ? text : "", size));
      }),
      this);
  closed_handler_ = g_signal_connect(connection_, "closed",
      G_CALLBACK(+[](SoupWebsocketConnection *, gpointer data) { static_cast<BrowserSession *>(data)->on_socket_closed(); }),
      this);
}

void BrowserSession::send(const std::string &text)
{
  if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(connection_, text.c_str());
}

void BrowserSession::fail(const std::string &why, bool tell_page)
{
  if (finished_)
    return;
  log_event(LogLevel::Warning, "browser.call_failed", {{"call_id", call_id_}, {"peer", peer_}, {"why", why}});
  if (tell_page)
    send(webrtc::error_message(call_id_, why));
  calls_.end(call_id_, CallState::Failed, why);
  /* Tell the page and close now: the pipeline's teardown (on the main context) may take a while,
   * and the route's on_call_ended() finds the session finished. */
  finish(SignalState::Failed, why);
}

void BrowserSession::on_text(const std::string &text)
{
  if (finished_)
    return;
  webrtc::BrowserParse parsed = webrtc::parse_browser_message(text);
  if (!parsed.message) {
    fail("bad signalling: " + parsed.error, true);
    return;
  }
  const webrtc::BrowserMessage &m = *parsed.message;
  if (!m.session_id.empty() && m.session_id != call_id_) {
    fail("bad signalling: session_id is not this session's", true);
    return;
  }
  switch (m.type) {
    case webrtc::BrowserMessageType::Offer: on_offer(m.sdp); break;
    case webrtc::BrowserMessageType::Ice: on_remote_candidate(m.ice); break;
    case webrtc::BrowserMessageType::Bye:
      log_event(LogLevel::Info, "browser.bye", {{"call_id", call_id_}, {"peer", peer_}});
      calls_.end(call_id_, CallState::Ended, "the caller hung up");
      break;
  }
}

void BrowserSession::on_offer(const std::string &sdp)
{
  webrtc::OfferAudio audio = webrtc::inspect_offer(sdp);
  if (!audio.ok) {
    fail("bad offer: " + audio.error, true);
    return;
  }
  if (!webrtc_) {
    audio_ = audio;
    ice_ufrag_ = ice_ufrag_of(sdp);
    offer_us_ = g_get_monotonic_time();
    std::string error;
    if (!build_pipeline(audio, &error)) {
      /* start_pipeline has ended the call already; the page still hears why. */
      send(webrtc::error_message(call_id_, "cannot start the call: " + error));
      return;
    }
    send(webrtc::state_message(call_id_, SignalState::Connecting));
    arm_timer(settings_.connect_timeout_s, "no media connection (ICE/DTLS) within " +
              std::to_string(settings_.connect_timeout_s) + " s");
  } else {
    /* A new offer on a running call: the page restarting ICE after a drop. */
    if (audio.opus_payload_type != audio_.opus_payload_type) {
      fail("bad offer: the Opus payload type changed in a renegotiation", true);
      return;
    }
    const std::string ufrag = ice_ufrag_of(sdp);
    log_event(LogLevel::Info, "browser.reoffer", {{"call_id", call_id_}, {"live", live_},
        {"ice_restart", !ufrag.empty() && ufrag != ice_ufrag_}});
    if (!ufrag.empty() && ufrag != ice_ufrag_) {
      /* GStreamer 1.22's webrtcbin answers an ICE restart with its old credentials and gathers no
       * new candidates (checked by tests/browser/ice_restart_test.cpp): the call could not recover,
       * so it ends now with the reason instead of hanging in `reconnecting`. */
      fail("the media connection dropped and ICE cannot be restarted (GStreamer 1.22 webrtcbin answers "
           "a restart with its old ICE credentials): please call again", true);
      return;
    }
    restart_seen_ = true;
  }
  negotiate(sdp);
}

bool BrowserSession::build_pipeline(const webrtc::OfferAudio &audio, std::string *error)
{
  BrowserSession *self = this;
  return calls_.start_pipeline(call_id_, [self, &audio](GstBin *pipeline, std::string *why) {
    GstElement *webrtc = nullptr, *depay = nullptr;
    for_each_element_of(pipeline, "webrtcbin", [&](GstElement *e) { if (!webrtc) webrtc = GST_ELEMENT(gst_object_ref(e)); });
    for_each_element_of(pipeline, "rtpopusdepay", [&](GstElement *e) { if (!depay) depay = GST_ELEMENT(gst_object_ref(e)); });
    if (!webrtc || !depay) {
      *why = "the launch file needs a webrtcbin and an rtpopusdepay";
      if (webrtc) gst_object_unref(webrtc);
      if (depay) gst_object_unref(depay);
      return false;
    }
    /* The answer's Opus must carry the offer's payload type, or webrtcbin answers recvonly. */
    for_each_element_of(pipeline, "rtpopuspay", [&](GstElement *pay) {
      g_object_set(pay, "pt", (guint) audio.opus_payload_type, nullptr);
    });
    if (!self->settings_.voice.empty())
      for_each_element_of(pipeline, "realtimesink", [&](GstElement *rt) {
        g_object_set(rt, "voice", self->settings_.voice.c_str(), nullptr);
      });
    if (!self->settings_.ice_addresses.empty()) {
      GObject *agent = nullptr;
      g_object_get(webrtc, "ice-agent", &agent, nullptr);
      for (const std::string &ip : self->settings_.ice_addresses) {
        gboolean added = FALSE;
        g_signal_emit_by_name(agent, "add-local-ip-address", ip.c_str(), &added);
        if (!added)
          log_event(LogLevel::Warning, "browser.ice_address_refused", {{"call_id", self->call_id_}, {"address", ip}});
      }
      g_object_unref(agent);
    }
    /* Incoming RTP: link webrtcbin's new src pad to the receive branch. */
    g_signal_connect_data(webrtc, "pad-added",
        G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer data) {
          if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
            return;
          GstPad *sink = gst_element_get_static_pad(GST_ELEMENT(data), "sink");
          GstPadLinkReturn ret = gst_pad_is_linked(sink) ? GST_PAD_LINK_WAS_LINKED : gst_pad_link(pad, sink);
          if (ret != GST_PAD_LINK_OK)
            GST_WARNING_OBJECT(pad, "cannot link incoming audio to the depayloader: %s", gst_pad_link_get_name(ret));
          gst_object_unref(sink);
        }),
        gst_object_ref(depay), (GClosureNotify) +[](gpointer data, GClosure *) { gst_object_unref(data); },
        (GConnectFlags) 0);
    g_signal_connect_data(webrtc, "on-ice-candidate",
        G_CALLBACK(+[](GstElement *, guint mline, gchar *candidate, gpointer data) {
          webrtc::IceCandidate c;
          c.candidate = candidate ? candidate : "";
          c.sdp_mline_index = mline;
          static_cast<Callback *>(data)->hop([c](BrowserSession &s) mutable {
            if (s.finished_)
              return;
            if (c.sdp_mline_index == s.audio_.mline_index)
              c.sdp_mid = s.audio_.mid;
            log_event(LogLevel::Debug, "browser.local_candidate", {{"call_id", s.call_id_}, {"candidate", c.candidate}});
            s.send(webrtc::ice_message(s.call_id_, c));
          });
        }),
        Callback::make(self), (GClosureNotify) +[](gpointer data, GClosure *) { Callback::destroy(data); },
        (GConnectFlags) 0);
    g_signal_connect_data(webrtc, "notify::connection-state",
        G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
          GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
          g_object_get(webrtc, "connection-state", &state, nullptr);
          static_cast<Callback *>(data)->hop([state](BrowserSession &s) { s.on_connection_state((int) state); });
        }),
        Callback::make(self), (GClosureNotify) +[](gpointer data, GClosure *) { Callback::destroy(data); },
        (GConnectFlags) 0);
    /* Every RTP packet from the page, for the media watch (watch_media). */
    GstPad *depay_sink = gst_element_get_static_pad(depay, "sink");
    gst_pad_add_probe(depay_sink, GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad *, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
          static_cast<std::shared_ptr<std::atomic<gint64>> *>(data)->get()->store(g_get_monotonic_time());
          return GST_PAD_PROBE_OK;
        },
        new std::shared_ptr<std::atomic<gint64>>(self->last_rtp_us_),
        [](gpointer data) { delete static_cast<std::shared_ptr<std::atomic<gint64>> *>(data); });
    gst_object_unref(depay_sink);
    gst_object_unref(depay);
    self->webrtc_ = webrtc;
    return true;
  }, error);
}

/* set-remote-description(offer) → create-answer → `answer` to the page → set-local-description. */
void BrowserSession::negotiate(const std::string &sdp)
{
  GstSDPMessage *message = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK) {
    fail("bad offer: the SDP does not parse", true);
    return;
  }
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, message);
  GstPromise *promise = gst_promise_new_with_change_func(
      [](GstPromise *promise, gpointer data) {
        auto *cb = static_cast<Callback *>(data);
        const GstStructure *reply = gst_promise_get_reply(promise);
        GError *err = nullptr;
        if (reply && gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr)) {
          std::string why = std::string("webrtcbin refused the offer: ") + err->message;
          g_error_free(err);
          cb->hop([why](BrowserSession &s) { s.fail(why, true); });
          return;
        }
        GstPromise *answered = gst_promise_new_with_change_func(
            [](GstPromise *promise, gpointer data) {
              auto *cb = static_cast<Callback *>(data);
              const GstStructure *reply = gst_promise_get_reply(promise);
              GstWebRTCSessionDescription *answer = nullptr;
              if (reply)
                gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
              if (!answer) {
                GError *err = nullptr;
                std::string why = "webrtcbin could not answer the offer";
                if (reply && gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr)) {
                  why += std::string(": ") + err->message;
                  g_error_free(err);
                }
                cb->hop([why](BrowserSession &s) { s.fail(why, true); });
                return;
              }
              gchar *text = gst_sdp_message_as_text(answer->sdp);
              std::string sdp_text = text;
              g_free(text);
              /* The page must hold the answer before our candidates reach it: queue it on the
               * network thread first (candidates follow in order), then set it locally. */
              cb->hop([sdp_text](BrowserSession &s) {
                if (s.finished_)
                  return;
                bool recvonly = sdp_text.find("a=recvonly") != std::string::npos ||
                                sdp_text.find("a=inactive") != std::string::npos;
                s.send(webrtc::answer_message(s.call_id_, sdp_text));
                log_event(recvonly ? LogLevel::Error : LogLevel::Info, "browser.answer_sent",
                    {{"call_id", s.call_id_}, {"opus_pt", s.audio_.opus_payload_type}, {"recvonly", recvonly}});
                if (recvonly)
                  s.fail("webrtcbin answered without sending audio (recvonly): check the launch file's send branch", true);
              });
              g_signal_emit_by_name(cb->webrtc, "set-local-description", answer, nullptr);
              gst_webrtc_session_description_free(answer);
            },
            new Callback{cb->session, cb->thread, GST_ELEMENT(gst_object_ref(cb->webrtc))}, Callback::destroy);
        g_signal_emit_by_name(cb->webrtc, "create-answer", nullptr, answered);
      },
      Callback::make(this, webrtc_), Callback::destroy);
  g_signal_emit_by_name(webrtc_, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free(offer);
}

void BrowserSession::on_remote_candidate(const webrtc::IceCandidate &candidate)
{
  if (!webrtc_) {
    fail("bad signalling: ice before offer", true);
    return;
  }
  if (candidate.candidate.empty())
    return;   /* end of candidates: nothing to tell webrtcbin 1.22 */
  log_event(LogLevel::Debug, "browser.remote_candidate", {{"call_id", call_id_}, {"candidate", candidate.candidate}});
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", candidate.sdp_mline_index, candidate.candidate.c_str());
}

void BrowserSession::on_connection_state(int state)
{
  if (finished_)
    return;
  auto s = (GstWebRTCPeerConnectionState) state;
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      if (live_)
        break;
      live_ = true;
      cancel_timer();
      log_event(LogLevel::Info, "browser.live", {{"call_id", call_id_}, {"peer", peer_},
          {"after_reconnect", was_live_}, {"offer_to_live_ms", (g_get_monotonic_time() - offer_us_) / 1000.0}});
      was_live_ = true;
      calls_.set_param(call_id_, "webrtc", "connected");
      send(webrtc::state_message(call_id_, SignalState::Live));
      if (!media_timer_) {
        last_rtp_us_->store(g_get_monotonic_time());   /* silence is counted from now */
        watch_media();
      }
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      if (!live_ && !was_live_ && s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED && restart_seen_) {
        fail("the media connection failed (ICE)", true);
        break;
      }
      if (!live_ && timer_ && was_live_)
        break;   /* already reconnecting */
      if (was_live_) {
        on_dropped(s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ? "failed" : "disconnected");
      } else if (s == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
        /* Never connected: the page may still restart ICE within the connect timeout. */
        log_event(LogLevel::Warning, "browser.ice_failed", {{"call_id", call_id_}, {"peer", peer_}});
      }
      break;
    default:
      break;
  }
}

void BrowserSession::on_dropped(const char *how)
{
  live_ = false;
  calls_.set_param(call_id_, "webrtc", how);
  log_event(LogLevel::Warning, "browser.reconnecting", {{"call_id", call_id_}, {"peer", peer_}, {"how", how}});
  send(webrtc::state_message(call_id_, SignalState::Reconnecting, "media connection lost"));
  arm_timer(settings_.reconnect_grace_s, "the media connection was lost and did not come back");
}

void BrowserSession::watch_media()
{
  std::weak_ptr<BrowserSession> weak = weak_from_this();
  media_timer_ = thread_->add_timer(1000, [weak]() {
    auto s = weak.lock();
    if (!s)
      return;
    s->media_timer_ = 0;
    if (s->finished_)
      return;
    const gint64 quiet_us = g_get_monotonic_time() - s->last_rtp_us_->load();
    if (s->live_ && quiet_us > s->settings_.media_silence_s * G_USEC_PER_SEC) {
      s->on_dropped("no media");
    } else if (!s->live_ && s->was_live_ && s->timer_ && quiet_us < G_USEC_PER_SEC) {
      /* The same path came back by itself (no restart needed). */
      s->live_ = true;
      s->cancel_timer();
      log_event(LogLevel::Info, "browser.live", {{"call_id", s->call_id_}, {"peer", s->peer_}, {"after_reconnect", true}});
      s->calls_.set_param(s->call_id_, "webrtc", "connected");
      s->send(webrtc::state_message(s->call_id_, SignalState::Live));
    }
    s->watch_media();
  });
}

void BrowserSession::arm_timer(guint seconds, const std::string &why)
{
  cancel_timer();
  std::weak_ptr<BrowserSession> weak = weak_from_this();
  timer_ = thread_->add_timer(seconds * 1000, [weak, why]() {
    if (auto s = weak.lock()) {
      s->timer_ = 0;
      if (!s->live_)
        s->fail(why, true);
    }
  });
}

void BrowserSession::cancel_timer()
{
  if (timer_)
    thread_->cancel_timer(timer_);
  timer_ = 0;
}

void BrowserSession::on_socket_closed()
{
  if (finished_)
    return;
  log_event(LogLevel::Info, "browser.socket_closed", {{"call_id", call_id_}, {"peer", peer_}});
  calls_.end(call_id_, was_live_ ? CallState::Ended : CallState::Failed, "the signalling socket closed");
}

void BrowserSession::finish(SignalState state, const std::string &reason)
{
  if (finished_)
    return;
  finished_ = true;
  cancel_timer();
  if (media_timer_)
    thread_->cancel_timer(media_timer_);
  media_timer_ = 0;
  send(webrtc::state_message(call_id_, state, reason));
  send(webrtc::bye_message(call_id_, reason));
  if (soup_websocket_connection_get_state(connection_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(connection_, SOUP_WEBSOCKET_CLOSE_NORMAL, "call over");
  if (webrtc_) {
    gst_object_unref(webrtc_);
    webrtc_ = nullptr;
  }
}

}  // namespace clawvoice::launcher
