/* A minimal Twilio for mulawbridge's tests: a libsoup WebSocket client on a thread and GMainContext
 * of its own that plays Twilio's side of one Media Stream.
 *
 * It sends connected + start, streams the caller's μ-law at real time in 20 ms media messages
 * (then line silence, like a phone), and plays what it receives the way Twilio does: a buffer
 * played in real time, marks echoed once the audio before them has been played, `clear` dropping
 * the buffer and echoing every pending mark at once. Everything it receives is checked with the
 * strict outbound parser. Test-only; tests/twilio/emulator/ holds the full emulator. */
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace clawvoice::test {

struct PeerOptions {
  std::string stream_sid = "MZ00000000000000000000000000000001";
  std::string call_sid = "CA00000000000000000000000000000001";
  std::string account_sid = "AC00000000000000000000000000000001";
  std::vector<std::pair<std::string, std::string>> parameters = {{"token", "tok-123"}, {"caller", "+15551230000"}};
  std::string encoding = "audio/x-mulaw";
  std::vector<uint8_t> caller_audio;   /* μ-law 8 kHz; streamed after start, then silence */
  bool send_start = true;              /* connected + start right after the handshake */
  bool stream_audio = true;
};

struct PeerObservations {
  int media_sent = 0;            /* caller media messages sent */
  int media_frames = 0;          /* media messages received */
  int odd_sized_frames = 0;      /* media payloads that are not 160 bytes */
  std::vector<size_t> media_sizes;   /* payload bytes of each media message, in order */
  int marks = 0;
  int clears = 0;
  int invalid = 0;               /* messages the strict parser refused, or with a wrong streamSid */
  std::string first_invalid;
  int binary = 0;
  int echoes = 0;                /* marks echoed */
  double max_buffered_ms = 0;    /* the most audio waiting in our playback buffer at any time */
  double played_ms = 0;          /* audio played so far (updated by the peer's ticks) */
  std::vector<double> played_at_clear_ms;
  std::vector<std::string> mark_names;
  std::vector<uint8_t> audio;    /* every payload received, in order */
  gint64 last_media_us = 0;      /* monotonic time of the last media message */
  bool open = false;
  bool closed = false;
  int close_code = 0;
};

class TwilioPeer {
 public:
  explicit TwilioPeer(PeerOptions options = {});
  ~TwilioPeer();
  TwilioPeer(const TwilioPeer &) = delete;
  TwilioPeer &operator=(const TwilioPeer &) = delete;

  /* Connects to @url and waits for the handshake; sends connected + start if asked to. */
  bool connect(const std::string &url, int timeout_ms = 5000);

  /* Each runs on the peer's thread, in order. */
  void send_text(const std::string &text);
  void send_binary(const std::string &bytes);
  void send_start();
  void start_audio();            /* starts (or restarts) streaming caller_audio at real time */
  void send_dtmf(const std::string &digit);
  void send_stop();
  void close(int code = 1000);
  void vanish();                 /* drops the TCP connection without a close frame */

  PeerObservations observe() const;
  /* Played audio right now (ms), computed from the playback clock. */
  double played_ms_now() const;
  /* Waits (polling every 10 ms) until @done(observations) or @timeout_ms. */
  bool wait_until(const std::function<bool(const PeerObservations &)> &done, int timeout_ms) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/* The μ-law (8 kHz mono) of a file in tests/data, decoded and encoded by a GStreamer pipeline. */
std::vector<uint8_t> load_mulaw(const std::string &wav_path);

}  // namespace clawvoice::test
