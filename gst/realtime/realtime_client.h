/* clawvoice — one Realtime API session over WebSocket, kept alive across drops.
 *
 * Owns the connection (on the shared network thread), configures the session on every (re)connect,
 * and restores the conversation after a reconnect by re-sending what was said so far as text items,
 * so the model does not start over. Callbacks run on the network thread. Every method is safe to call
 * from any thread and never waits for the network, except start()/stop(). */
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "net/websocket_client.h"
#include "realtime/server_events.h"
#include "realtime/session_config.h"

namespace clawvoice::realtime {

enum class ConnectionState { Disconnected, Connecting, Connected, Reconnecting, Failed };
const char *connection_state_name(ConnectionState state);

struct ConnectOptions {
  std::string url = "wss://api.openai.com/v1/realtime";
  std::string api_key;            /* sent as a bearer token; never logged */
  std::string call_id;            /* non-empty: sideband session of an OpenAI-carried call */
  int max_reconnect_attempts = 5; /* consecutive failures before giving up; 0 = never reconnect */
  unsigned backoff_initial_ms = 250;
  unsigned backoff_max_ms = 8000;
  unsigned connect_timeout_s = 10;
  /* Caller audio is dropped (and counted) while this much is waiting for the socket: ≈10 s of
   * PCM 24 kHz in base64. A live caller never gets near it unless the connection stalls; a file
   * source pushing faster than real time fits. */
  guint64 max_pending_bytes = 1024 * 1024;
  unsigned max_backlog_events = 500; /* held while (re)connecting (≈10 s of 20 ms frames), then sent */
};

struct RealtimeClientCallbacks {
  std::function<void(ConnectionState state, const std::string &detail)> on_state;
  std::function<void(ServerEvent &event)> on_event;
  /* The server sent something that is not a JSON event. */
  std::function<void(const std::string &detail)> on_protocol_error;
  /* The session cannot go on: bad credentials, refused first connection, reconnects exhausted. */
  std::function<void(guint http_status, const std::string &detail)> on_fatal;
};

/* One entry of the conversation so far, as text. */
struct HistoryEntry {
  enum class Role { User, Assistant } role;
  std::string text;
};

class RealtimeClient {
 public:
  RealtimeClient(std::shared_ptr<net::NetThread> thread, ConnectOptions options,
      SessionConfig session, RealtimeClientCallbacks callbacks);
  ~RealtimeClient();

  void start();
  /* Closes the session; no callback runs after it returns. */
  void stop();

  /* Sends a client event (text of one JSON event). While (re)connecting it is held, up to
   * max_backlog_events, and sent once the session is configured again; beyond that it is dropped. */
  void send(std::string event_text);
  /* Sends caller audio the same way; returns false (and counts a drop) when it had to be dropped. */
  bool send_audio(const uint8_t *audio, size_t size);
  /* Changes the session; sent at once when connected, and on every reconnect. */
  void modify_session(const std::function<void(SessionConfig &)> &change);

  /* An ordering barrier: re-sends the session (a no-op change) and returns a token; once
   * barrier_passed(token) is true, the server has processed everything sent before the call (the
   * socket is ordered and the server answers each session.update in turn). */
  guint64 request_barrier();
  bool barrier_passed(guint64 token) const;

  /* What was said, for restoring context after a reconnect (bounded, oldest dropped first). */
  void add_history(HistoryEntry::Role role, const std::string &text);
  std::deque<HistoryEntry> history() const;

  ConnectionState state() const { return state_.load(); }
  /* A sideband session (call_id) the service closed normally (1000): the call is over, not lost;
   * the client is Disconnected and does not reconnect. */
  bool call_ended() const { return call_ended_.load(); }
  guint64 audio_frames_dropped() const { return audio_dropped_.load(); }
  guint64 events_dropped() const;
  int reconnects() const { return reconnects_.load(); }
  /* Delay from send()/send_audio() to the socket (µs percentiles), for stats and benchmarks. */
  gint64 send_delay_percentile(double p) const { return socket_ ? socket_->send_delay().percentile(p) : 0; }

 private:
  void connect_now();            /* network thread */
  void on_open();                /* network thread */
  void on_message(std::string text);
  void on_connect_failed(guint status, std::string message);
  void on_closed(gushort code, std::string reason);
  void schedule_reconnect(const std::string &why);
  void set_state(ConnectionState state, const std::string &detail);
  std::string connect_url() const;

  std::shared_ptr<net::NetThread> thread_;
  ConnectOptions options_;
  RealtimeClientCallbacks callbacks_;
  std::unique_ptr<net::WebSocketClient> socket_;

  bool send_or_hold(std::string event_text);

  mutable std::mutex lock_;       /* guards session_, history_, backlog_ and changes of state_ */
  std::deque<std::string> backlog_;
  guint64 held_barriers_ = 0;     /* session updates (barriers) held in backlog_ */
  guint64 updates_sent_ = 0;    /* session.update sent (guarded by lock_) */
  guint64 updates_acked_ = 0;   /* session.updated received (guarded by lock_) */
  SessionConfig session_;
  std::deque<HistoryEntry> history_;
  size_t history_chars_ = 0;

  std::atomic<ConnectionState> state_{ConnectionState::Disconnected};
  std::atomic<guint64> audio_dropped_{0};
  std::atomic<int> reconnects_{0};
  std::atomic<bool> call_ended_{false};
  /* Network-thread only. */
  bool ever_connected_ = false;
  bool stopping_ = false;
  int failed_attempts_ = 0;
  guint reconnect_timer_ = 0;
  bool session_expired_ = false;
};

}  // namespace clawvoice::realtime
