/* clawvoice — a browser-style WebRTC caller built on webrtcbin, for the browser benchmark and the
 * ICE restart test: what the voice page (web/app.js) does, without Chromium.
 *
 *   POST /api/session → WS /signal?token=… → offer (one sendrecv Opus transceiver, payload type 111
 *   as Chromium offers it) → answer → trickle ICE both ways → `state live` → speaks → hears
 *
 * Speech goes out as pre-encoded 20 ms Opus frames (PeerAudio: encoded once, shared by every peer)
 * pushed by the caller's own clock (push_next_frame); nothing is sent before the launcher says
 * `live`, so every frame sent can reach the voice model (the benchmark's inbound delay counts on
 * it). What comes back is recorded per RTP packet (arrival, RTP timestamp, sequence number) and per
 * decoded 20 ms frame (arrival, peak) for the benchmark's figures.
 *
 * Threads: signalling on a clawvoice::net::NetThread (libsoup), webrtcbin on its own threads; every
 * recorded figure is behind the peer's mutex. */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/net_thread.h"

namespace clawvoice::test::browser {

/* The caller's speech as 20 ms Opus frames: the question, then silence repeated for ever. */
struct PeerAudio {
  std::vector<GBytes *> question;   /* refs */
  GBytes *silence = nullptr;
  std::string caps;                 /* audio/x-opus caps for the appsrc */
  ~PeerAudio();
};
/* Encodes @wav (any WAV gstreamer reads) to 20 ms Opus frames, as a browser's encoder would. */
std::unique_ptr<PeerAudio> encode_peer_audio(const std::string &wav, std::string *error);

struct RtpArrival {
  gint64 time_us;      /* monotonic, at the depayloader (after webrtcbin's jitter buffer, which
                          passes in-order packets on at once) */
  guint32 timestamp;   /* RTP, 48 kHz */
  guint16 seq;
};
struct DecodedFrame {
  gint64 time_us;
  guint samples;       /* 48 kHz */
  gint peak;           /* |sample| max, 16-bit */
};
struct StateChange {
  gint64 time_us;
  std::string state;
  std::string reason;
};

class BrowserPeer : public std::enable_shared_from_this<BrowserPeer> {
 public:
  struct Options {
    std::string base_url;   /* http://127.0.0.1:PORT */
    const PeerAudio *audio = nullptr;
    guint jitter_latency_ms = 50;   /* our webrtcbin's jitter buffer (a browser's is adaptive) */
    /* Tests that put a relay between the peer and the launcher: the launcher's candidates as the
     * peer should see them, and whether the peer trickles its own (false: the launcher learns the
     * peer only from its connectivity checks, i.e. through the relay). */
    std::function<std::string(const std::string &candidate)> rewrite_remote_candidate;
    bool trickle_local_candidates = true;
  };
  BrowserPeer(std::shared_ptr<net::NetThread> net, Options options);
  ~BrowserPeer();

  /* POST /api/session, opens the socket, builds the pipeline and offers. Asynchronous. */
  void start();
  /* When the peer is live, pushes its next 20 ms frame (question, then silence) and records when.
   * Call every 20 ms from one clock thread. Returns false if nothing was pushed (not live yet). */
  bool push_next_frame();
  /* A new offer with fresh ICE credentials, as RTCPeerConnection.restartIce() makes (webrtcbin 1.22
   * has no iceRestart option: the offer it makes is given new ice-ufrag/ice-pwd). */
  void restart_ice();
  /* `bye`, then the socket closes. */
  void hang_up();
  /* Pipeline down, socket closed; waits for both (bounded). */
  void stop();

  struct Report {
    std::string session_id;
    std::string error;                 /* the first thing that went wrong, "" if none */
    std::vector<StateChange> states;   /* every `state` the launcher sent */
    std::vector<std::string> errors;   /* `error` messages */
    std::string last_state;
    bool socket_open = false;
    int answers = 0;                   /* `answer` messages */
    int events = 0;                    /* `event` messages */
    int peer_connection_state = 0;     /* GstWebRTCPeerConnectionState of our webrtcbin */
    gint64 live_us = 0;                /* first `state live` */
    std::vector<gint64> sent_us;       /* every frame pushed */
    std::vector<RtpArrival> rtp;
    std::vector<DecodedFrame> decoded;
  };
  Report report() const;
  /* Cheap checks for polling loops. */
  std::string last_state() const;
  bool heard_reply(gint peak_threshold) const;
  size_t decoded_count() const;

 private:
  struct Hop;
  void on_session_reply(guint status, const std::string &body);
  void on_socket(SoupWebsocketConnection *connection);
  void on_text(const std::string &text);
  bool build_pipeline(std::string *error);
  void make_offer(bool new_credentials);
  void send_json(const std::string &type, JsonObject *payload);   /* takes @payload */
  void set_error(const std::string &error);

  std::shared_ptr<net::NetThread> net_;
  Options options_;
  SoupSession *session_ = nullptr;              /* net thread */
  SoupWebsocketConnection *socket_ = nullptr;   /* net thread */
  std::string token_;
  GstElement *pipeline_ = nullptr;
  GstElement *webrtc_ = nullptr;
  GstElement *src_ = nullptr;
  size_t next_frame_ = 0;

  mutable std::mutex mutex_;
  Report report_;
  bool live_ = false;
};

}  // namespace clawvoice::test::browser
