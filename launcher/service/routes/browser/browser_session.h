/* clawvoice-launcher — one browser call's signalling: its WebSocket and webrtcbin's negotiation.
 *
 * The page offers (one sendrecv audio track); the session builds the call's pipeline from
 * browser.launch with the payloader set to the offer's Opus payload type and its ICE addresses,
 * answers, and trickles candidates both ways. The gst-examples webrtc-sendrecv flow, answering side:
 *
 *   offer → start_pipeline (send branch already linked to a requested sink pad) →
 *   set-remote-description → create-answer → send `answer` → set-local-description → candidates
 *
 * States the page sees: connecting (offer taken) → live (webrtcbin `connection-state` connected,
 * i.e. ICE and DTLS up) → reconnecting (the connection dropped: the page restarts ICE once with a new
 * offer, answered by a NEW webrtcbin in the running pipeline: replace_webrtcbin) → live again (RTP
 * from the page on the new path) → ended | failed, always with a reason. Anything the session cannot act on is an `error`
 * and the call ends as failed; the route closes the socket when the call is over (on_call_ended).
 *
 * Threads: everything here runs on the network thread, where the socket lives. webrtcbin calls back
 * from its own threads; those callbacks hold a weak reference and hop to the network thread. */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "call_manager.h"
#include "net/net_thread.h"
#include "webrtc/signal_message.h"
#include "webrtc/sdp_offer.h"

namespace clawvoice::launcher {

class BrowserSession : public std::enable_shared_from_this<BrowserSession> {
 public:
  struct Settings {
    std::vector<std::string> ice_addresses;   /* webrtcbin's local candidates; empty = every interface */
    std::string voice;                        /* the page's choice; "" = the launch file's */
    guint connect_timeout_s = 20;             /* offer → live */
    guint reconnect_grace_s = 12;             /* dropped → live again (the path comes back) */
    guint media_silence_s = 4;                /* no RTP from the page this long: the connection dropped */
  };

  BrowserSession(CallManager &calls, std::shared_ptr<net::NetThread> thread, std::string call_id,
                 SoupWebsocketConnection *connection, std::string peer, Settings settings);
  ~BrowserSession();

  const std::string &call_id() const { return call_id_; }
  /* Listens to the socket. */
  void start();
  /* The call is over: tells the page (`state`, `bye`), closes the socket, lets go of webrtcbin. */
  void finish(webrtc::SignalState state, const std::string &reason);
  /* A text frame to the page (dropped once the socket is closed). */
  void send(const std::string &text);

 private:
  struct Callback;
  void on_text(const std::string &text);
  void on_offer(const std::string &sdp);
  void on_remote_candidate(const webrtc::IceCandidate &candidate);
  void on_socket_closed();
  bool build_pipeline(const webrtc::OfferAudio &audio, std::string *error);
  /* ICE addresses and signals (incoming RTP → depay_, candidates, connection state) of a webrtcbin. */
  void attach_webrtcbin(GstElement *webrtc);
  /* ICE restart: webrtcbin 1.22 cannot restart ICE (it answers with its old credentials), so the
   * running pipeline gets a fresh webrtcbin (same properties) between the payloader and the
   * depayloader; the old one is unlinked, removed and stopped on another thread. The voice session
   * (realtimesink) is not touched. */
  bool replace_webrtcbin(std::string *error);
  void negotiate(const std::string &sdp);
  void on_connection_state(int state);
  void fail(const std::string &why, bool tell_page);
  void arm_timer(guint seconds, const std::string &why);
  /* webrtcbin 1.22's ICE never reports a dead path (no consent freshness), so the session watches
   * the page's RTP (browsers send Opus every 20 ms, silence included) once a second. */
  void watch_media();
  void on_dropped(const char *how);
  void cancel_timer();

  CallManager &calls_;
  std::shared_ptr<net::NetThread> thread_;
  std::string call_id_;
  SoupWebsocketConnection *connection_ = nullptr;
  std::string peer_;
  Settings settings_;
  gulong message_handler_ = 0;
  gulong closed_handler_ = 0;
  GstElement *webrtc_ = nullptr;   /* ref; set once the pipeline is built; replaced on an ICE restart */
  GstElement *pay_ = nullptr;      /* ref: the send branch's end (rtpopuspay), linked to webrtc_ */
  GstElement *depay_ = nullptr;    /* ref: the receive branch's start (rtpopusdepay) */
  guint generation_ = 0;           /* which webrtcbin callbacks are for: +1 per replacement */
  bool replaced_ = false;          /* the call runs on a replacement webrtcbin (after an ICE restart) */
  webrtc::OfferAudio audio_;
  bool finished_ = false;
  bool live_ = false;
  bool was_live_ = false;
  bool restart_seen_ = false;      /* the page re-offered after a drop */
  guint timer_ = 0;
  guint media_timer_ = 0;
  gint64 offer_us_ = 0;
  std::string ice_ufrag_;          /* the first offer's: a later offer with another one is an ICE restart */
  std::shared_ptr<std::atomic<gint64>> last_rtp_us_ = std::make_shared<std::atomic<gint64>>(0);
};

}  // namespace clawvoice::launcher
