#include "routes/browser/browser_session.h"

#include "routes/browser/dtls_certificate.h"

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

/* Data on a webrtcbin that has a DTLS certificate of its own: the fingerprint its answers carry. */
constexpr const char *kOwnFingerprint = "clawvoice-dtls-fingerprint";

/* Replaces every a=fingerprint of @sdp (session and media level) with @fingerprint. */
void replace_fingerprint(GstSDPMessage *sdp, const char *fingerprint)
{
  GstSDPAttribute attribute;
  for (guint i = 0; i < gst_sdp_message_attributes_len(sdp); i++)
    if (g_str_equal(gst_sdp_message_get_attribute(sdp, i)->key, "fingerprint")) {
      gst_sdp_attribute_set(&attribute, "fingerprint", fingerprint);
      gst_sdp_message_replace_attribute(sdp, i, &attribute);
    }
  for (guint m = 0; m < gst_sdp_message_medias_len(sdp); m++) {
    auto *media = (GstSDPMedia *) gst_sdp_message_get_media(sdp, m);
    for (guint i = 0; i < gst_sdp_media_attributes_len(media); i++)
      if (g_str_equal(gst_sdp_media_get_attribute(media, i)->key, "fingerprint")) {
        gst_sdp_attribute_set(&attribute, "fingerprint", fingerprint);
        gst_sdp_media_replace_attribute(media, i, &attribute);
      }
  }
}

/* Sets @pem on @element if it is a dtlsdec, or on every dtlsdec inside it if it is a bin (webrtcbin
 * builds a transport's bins before it adds them), once each and while still in NULL: dtlsdec makes
 * its DTLS connection anew with it, before the dtlsenc beside it takes that connection at READY. */
void give_dtls_certificate(GstElement *element, const std::string &pem)
{
  static const GQuark given = g_quark_from_static_string("clawvoice-dtls-certificate-given");
  if (GST_IS_BIN(element)) {
    GstIterator *children = gst_bin_iterate_recurse(GST_BIN(element));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(children, &item) == GST_ITERATOR_OK) {
      give_dtls_certificate(GST_ELEMENT(g_value_get_object(&item)), pem);
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(children);
    return;
  }
  GstElementFactory *factory = gst_element_get_factory(element);
  if (!factory || !g_str_equal(GST_OBJECT_NAME(factory), "dtlsdec") || g_object_get_qdata(G_OBJECT(element), given))
    return;
  g_object_set_qdata(G_OBJECT(element), given, GINT_TO_POINTER(1));
  if (GST_STATE(element) != GST_STATE_NULL)
    GST_WARNING_OBJECT(element, "already past NULL: its DTLS connection keeps the shared certificate");
  g_object_set(element, "pem", pem.c_str(), nullptr);
}

/* The value of the first line of an SDP that starts with @prefix ("a=ice-ufrag:"), "" if none. */
std::string sdp_attribute(const std::string &sdp, const std::string &prefix)
{
  size_t at = sdp.find(prefix);
  if (at == std::string::npos)
    return "";
  at += prefix.size();
  size_t end = sdp.find_first_of("\r\n", at);
  return sdp.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

/* The first a=ice-ufrag of an SDP ("" if none): an offer with new credentials restarts ICE. */
std::string ice_ufrag_of(const std::string &sdp)
{
  return sdp_attribute(sdp, "a=ice-ufrag:");
}

}  // namespace

/* What a webrtcbin signal or promise callback holds: the session, weakly (the call may be over by the
 * time webrtcbin calls), the thread to hop to, and which webrtcbin it is for (a replaced one's late
 * calls are dropped). */
struct BrowserSession::Callback {
  std::weak_ptr<BrowserSession> session;
  std::shared_ptr<net::NetThread> thread;
  GstElement *webrtc = nullptr;   /* ref, for promise callbacks that go on negotiating */
  guint generation = 0;

  static Callback *make(BrowserSession *s, GstElement *webrtc = nullptr)
  {
    auto *cb = new Callback{s->weak_from_this(), s->thread_, webrtc ? GST_ELEMENT(gst_object_ref(webrtc)) : nullptr,
                            s->generation_};
    return cb;
  }
  static void destroy(gpointer data)
  {
    auto *cb = static_cast<Callback *>(data);
    if (cb->webrtc)
      gst_object_unref(cb->webrtc);
    delete cb;
  }
  /* Runs @fn with the session on the network thread, if it is still there and still on this
   * callback's webrtcbin. */
  template <typename Fn>
  void hop(Fn fn) const
  {
    std::weak_ptr<BrowserSession> weak = session;
    const guint gen = generation;
    thread->invoke([weak, gen, fn]() mutable {
      if (auto s = weak.lock())
        if (s->generation_ == gen)
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
  if (pay_)
    gst_object_unref(pay_);
  if (depay_)
    gst_object_unref(depay_);
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
       * new candidates: a fresh webrtcbin answers instead (new ICE credentials, and a DTLS
       * certificate of its own, dtls_certificate.h: the browser restarts DTLS only for a new
       * fingerprint), and the voice session goes on. */
      std::string error;
      if (!replace_webrtcbin(&error)) {
        fail("the media connection dropped and the ICE restart failed: " + error, true);
        return;
      }
      ice_ufrag_ = ufrag;
      if (live_) {
        live_ = false;
        log_event(LogLevel::Warning, "browser.reconnecting", {{"call_id", call_id_}, {"peer", peer_}, {"how", "ice restart"}});
        send(webrtc::state_message(call_id_, SignalState::Reconnecting, "restarting ICE"));
      }
      calls_.set_param(call_id_, "webrtc", "ice-restart");
      /* Live again when the page's RTP arrives on the new path (watch_media); until then, the
       * connect timeout, counted from the restart. */
      last_rtp_us_->store(0);
      offer_us_ = g_get_monotonic_time();
      arm_timer(settings_.connect_timeout_s, "no media connection within " +
                std::to_string(settings_.connect_timeout_s) + " s of the ICE restart");
    }
    restart_seen_ = true;
  }
  negotiate(sdp);
}

bool BrowserSession::build_pipeline(const webrtc::OfferAudio &audio, std::string *error)
{
  BrowserSession *self = this;
  return calls_.start_pipeline(call_id_, [self, &audio](GstBin *pipeline, std::string *why) {
    GstElement *webrtc = nullptr, *depay = nullptr, *pay = nullptr;
    for_each_element_of(pipeline, "webrtcbin", [&](GstElement *e) { if (!webrtc) webrtc = GST_ELEMENT(gst_object_ref(e)); });
    for_each_element_of(pipeline, "rtpopusdepay", [&](GstElement *e) { if (!depay) depay = GST_ELEMENT(gst_object_ref(e)); });
    for_each_element_of(pipeline, "rtpopuspay", [&](GstElement *e) { if (!pay) pay = GST_ELEMENT(gst_object_ref(e)); });
    if (!webrtc || !depay || !pay) {
      *why = "the launch file needs a webrtcbin, an rtpopusdepay and an rtpopuspay";
      if (webrtc) gst_object_unref(webrtc);
      if (depay) gst_object_unref(depay);
      if (pay) gst_object_unref(pay);
      return false;
    }
    /* The answer's Opus must carry the offer's payload type, or webrtcbin answers recvonly. */
    for_each_element_of(pipeline, "rtpopuspay", [&](GstElement *p) {
      g_object_set(p, "pt", (guint) audio.opus_payload_type, nullptr);
    });
    if (!self->settings_.voice.empty())
      for_each_element_of(pipeline, "realtimesink", [&](GstElement *rt) {
        g_object_set(rt, "voice", self->settings_.voice.c_str(), nullptr);
      });
    self->depay_ = depay;
    self->pay_ = pay;
    self->attach_webrtcbin(webrtc);
    /* Every RTP packet from the page, for the media watch (watch_media). On the depayloader, so it
     * outlives a replaced webrtcbin. */
    GstPad *depay_sink = gst_element_get_static_pad(depay, "sink");
    gst_pad_add_probe(depay_sink, GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad *, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
          static_cast<std::shared_ptr<std::atomic<gint64>> *>(data)->get()->store(g_get_monotonic_time());
          return GST_PAD_PROBE_OK;
        },
        new std::shared_ptr<std::atomic<gint64>>(self->last_rtp_us_),
        [](gpointer data) { delete static_cast<std::shared_ptr<std::atomic<gint64>> *>(data); });
    gst_object_unref(depay_sink);
    self->webrtc_ = webrtc;
    return true;
  }, error);
}

void BrowserSession::attach_webrtcbin(GstElement *webrtc)
{
  if (!settings_.ice_addresses.empty()) {
    GObject *agent = nullptr;
    g_object_get(webrtc, "ice-agent", &agent, nullptr);
    for (const std::string &ip : settings_.ice_addresses) {
      gboolean added = FALSE;
      g_signal_emit_by_name(agent, "add-local-ip-address", ip.c_str(), &added);
      if (!added)
        log_event(LogLevel::Warning, "browser.ice_address_refused", {{"call_id", call_id_}, {"address", ip}});
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
      gst_object_ref(depay_), (GClosureNotify) +[](gpointer data, GClosure *) { gst_object_unref(data); },
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
      Callback::make(this), (GClosureNotify) +[](gpointer data, GClosure *) { Callback::destroy(data); },
      (GConnectFlags) 0);
  g_signal_connect_data(webrtc, "notify::connection-state",
      G_CALLBACK(+[](GstElement *webrtc, GParamSpec *, gpointer data) {
        GstWebRTCPeerConnectionState state = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
        g_object_get(webrtc, "connection-state", &state, nullptr);
        static_cast<Callback *>(data)->hop([state](BrowserSession &s) { s.on_connection_state((int) state); });
      }),
      Callback::make(this), (GClosureNotify) +[](gpointer data, GClosure *) { Callback::destroy(data); },
      (GConnectFlags) 0);
}

namespace {

/* Copies every property set on @from (launch file, config `properties`: latency, bundle-policy,
 * stun-server, turn-server, ice-transport-policy, …) to @to, except its name and parent. */
void copy_set_properties(GstElement *from, GstElement *to)
{
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(from), &n);
  for (guint i = 0; i < n; i++) {
    GParamSpec *spec = specs[i];
    if ((spec->flags & G_PARAM_READWRITE) != G_PARAM_READWRITE || (spec->flags & G_PARAM_CONSTRUCT_ONLY) ||
        g_str_equal(spec->name, "name") || g_str_equal(spec->name, "parent"))
      continue;
    GValue value = G_VALUE_INIT;
    g_value_init(&value, spec->value_type);
    g_object_get_property(G_OBJECT(from), spec->name, &value);
    if (!g_param_value_defaults(spec, &value))
      g_object_set_property(G_OBJECT(to), spec->name, &value);
    g_value_unset(&value);
  }
  g_free(specs);
}

GstPadProbeReturn drop_data(GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_DROP; }

/* A replaced webrtcbin, stopped off the network and streaming threads (gst_element_call_async): a
 * flush-start into its sink pads first, as for a whole call (call_manager.cpp stop_pipeline), or a
 * push waiting in a transport that never prerolled would hold its state change for ever. */
void stop_replaced_webrtcbin(GstElement *webrtc, gpointer)
{
  const gint64 start_us = g_get_monotonic_time();
  GstIterator *pads = gst_element_iterate_sink_pads(webrtc);
  gst_iterator_foreach(pads, [](const GValue *item, gpointer) {
    gst_pad_send_event(GST_PAD(g_value_get_object(item)), gst_event_new_flush_start());
  }, nullptr);
  gst_iterator_free(pads);
  gst_element_set_state(webrtc, GST_STATE_NULL);
  log_event(LogLevel::Info, "browser.old_webrtcbin_stopped", {{"ms", (g_get_monotonic_time() - start_us) / 1000.0}});
}

}  // namespace

bool BrowserSession::replace_webrtcbin(std::string *error)
{
  GstObject *parent = gst_object_get_parent(GST_OBJECT(webrtc_));
  if (!parent || !GST_IS_BIN(parent)) {
    if (parent)
      gst_object_unref(parent);
    *error = "webrtcbin is not in the call's pipeline";
    return false;
  }
  GstBin *pipeline = GST_BIN(parent);
  GstElement *old = webrtc_;
  GstElement *fresh = gst_element_factory_make("webrtcbin", nullptr);
  if (!fresh) {
    gst_object_unref(parent);
    *error = "cannot make a webrtcbin";
    return false;
  }
  copy_set_properties(old, fresh);
  std::string pem_error;
  DtlsCertificate certificate = make_dtls_certificate(&pem_error);
  if (certificate.pem.empty()) {
    gst_object_unref(fresh);
    gst_object_unref(parent);
    *error = "cannot make a DTLS certificate for the new webrtcbin: " + pem_error;
    return false;
  }

  /* Out of the pipeline: its state no longer follows the pipeline's, and what the send branch and
   * the old webrtcbin still push while unlinked is dropped, not NOT_LINKED (an error upstream). */
  gst_element_set_locked_state(old, TRUE);
  GstPad *pay_src = gst_element_get_static_pad(pay_, "src");
  const gulong pay_probe = gst_pad_add_probe(pay_src,
      (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST), drop_data, nullptr, nullptr);
  if (GstPad *old_sink = gst_pad_get_peer(pay_src)) {
    gst_pad_unlink(pay_src, old_sink);
    gst_object_unref(old_sink);
  }
  GstIterator *pads = gst_element_iterate_src_pads(old);
  gst_iterator_foreach(pads, [](const GValue *item, gpointer) {
    GstPad *src = GST_PAD(g_value_get_object(item));
    gst_pad_add_probe(src, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      drop_data, nullptr, nullptr);
    if (GstPad *peer = gst_pad_get_peer(src)) {
      gst_pad_unlink(src, peer);
      gst_object_unref(peer);
    }
  }, nullptr);
  gst_iterator_free(pads);
  gchar *name = gst_object_get_name(GST_OBJECT(old));
  gst_bin_remove(pipeline, old);   /* webrtc_'s ref keeps it */
  generation_++;                   /* the old one's late callbacks are dropped from here */
  gst_element_call_async(old, stop_replaced_webrtcbin, nullptr, nullptr);
  gst_object_unref(old);           /* call_async holds its own */
  webrtc_ = nullptr;

  /* The new one: same name and properties, the send branch on a requested sink pad before the offer
   * is set (else the answer is recvonly), then PLAYING with the pipeline. */
  gst_object_set_name(GST_OBJECT(fresh), name);
  g_free(name);
  /* A certificate of its own: with the process's shared one the answer's fingerprint would not
   * change, the browser would keep its DTLS association with the old webrtcbin and never answer the
   * new one's handshake. dtlsdec takes it before it goes to READY (where it wires its connection's
   * signals), that is as its transport is added. */
  g_object_set_data_full(G_OBJECT(fresh), kOwnFingerprint, g_strdup(certificate.fingerprint.c_str()), g_free);
  g_signal_connect_data(fresh, "deep-element-added",
      G_CALLBACK(+[](GstBin *, GstBin *, GstElement *element, gpointer data) {
        give_dtls_certificate(element, *static_cast<std::string *>(data));
      }),
      new std::string(certificate.pem), [](gpointer data, GClosure *) { delete static_cast<std::string *>(data); },
      (GConnectFlags) 0);
  gst_bin_add(pipeline, fresh);
  webrtc_ = GST_ELEMENT(gst_object_ref(fresh));
  attach_webrtcbin(fresh);
  GstPad *sink = gst_element_request_pad_simple(fresh, "sink_%u");
  GstPadLinkReturn linked = sink ? gst_pad_link(pay_src, sink) : GST_PAD_LINK_REFUSED;
  if (sink)
    gst_object_unref(sink);
  const bool playing = gst_element_sync_state_with_parent(fresh);
  /* Only now: a push into a webrtcbin still in NULL would return FLUSHING and stop the send queue. */
  gst_pad_remove_probe(pay_src, pay_probe);
  gst_object_unref(pay_src);
  gst_object_unref(parent);
  log_event(LogLevel::Info, "browser.webrtcbin_replaced", {{"call_id", call_id_}, {"send_link", gst_pad_link_get_name(linked)},
      {"playing", playing}});
  if (linked != GST_PAD_LINK_OK) {
    *error = std::string("cannot link the send branch to the new webrtcbin: ") + gst_pad_link_get_name(linked);
    return false;
  }
  if (!playing) {
    *error = "the new webrtcbin does not start";
    return false;
  }
  replaced_ = true;
  return true;
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
              /* A webrtcbin with a certificate of its own: webrtcbin's fingerprint is wrong
               * (dtls_certificate.h), ours goes in its place. */
              if (const char *fingerprint = (const char *) g_object_get_data(G_OBJECT(cb->webrtc), kOwnFingerprint))
                replace_fingerprint(answer->sdp, fingerprint);
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
                    {{"call_id", s.call_id_}, {"opus_pt", s.audio_.opus_payload_type}, {"recvonly", recvonly},
                     {"ice_ufrag", ice_ufrag_of(sdp_text)}, {"fingerprint", sdp_attribute(sdp_text, "a=fingerprint:")}});
                /* (both public in the SDP; the ICE pwd is not logged) */
                if (recvonly)
                  s.fail("webrtcbin answered without sending audio (recvonly): check the launch file's send branch", true);
              });
              g_signal_emit_by_name(cb->webrtc, "set-local-description", answer, nullptr);
              gst_webrtc_session_description_free(answer);
            },
            new Callback{cb->session, cb->thread, GST_ELEMENT(gst_object_ref(cb->webrtc)), cb->generation},
            Callback::destroy);
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
      if (replaced_ && was_live_) {
        /* After an ICE restart the call is live again when the page's RTP flows (watch_media). */
        log_event(LogLevel::Info, "browser.restart_connected", {{"call_id", call_id_},
            {"restart_to_connected_ms", (g_get_monotonic_time() - offer_us_) / 1000.0}});
        break;
      }
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
  if (pay_)
    gst_object_unref(pay_);
  pay_ = nullptr;
  if (depay_)
    gst_object_unref(depay_);
  depay_ = nullptr;
}

}  // namespace clawvoice::launcher
