/* clawvoice — a WebSocket client that lives on a network thread (net/web_socket_connect.h and
 * net/web_socket.h underneath: our own framing, not libsoup's, for 50 audio appends a second).
 *
 * Every method may be called from any thread: it hops to the network thread and returns at once.
 * Callbacks run on the network thread. After shutdown() no callback runs any more, so the owner may
 * free what the callbacks touch. Text frames only (binary frames are reported as a protocol error),
 * which is all the Realtime API, Twilio and our signalling use. */
#pragma once

#include <glib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/latency_stats.h"
#include "net/net_thread.h"

namespace clawvoice::net {

struct WebSocketCallbacks {
  std::function<void()> on_open;
  std::function<void(std::string text)> on_message;
  /* The handshake failed: @http_status is the server's answer (0 when it never answered:
   * refused, DNS, TLS, timeout). @message is for humans and never holds credentials. */
  std::function<void(guint http_status, std::string message)> on_connect_failed;
  /* An open connection ended. @code is the close code (1006 when it was dropped without one). */
  std::function<void(gushort code, std::string reason)> on_closed;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class WebSocketClient {
 public:
  WebSocketClient(std::shared_ptr<NetThread> thread, WebSocketCallbacks callbacks);
  ~WebSocketClient();   /* implies shutdown() */
  WebSocketClient(const WebSocketClient &) = delete;
  WebSocketClient &operator=(const WebSocketClient &) = delete;

  void connect(const std::string &url, const Headers &headers, guint timeout_seconds = 10);
  /* Queues a text frame; dropped (and counted) when the connection is not open. */
  void send_text(std::string text);
  void close(gushort code = 1000, const std::string &reason = "");
  /* Closes the connection if any and guarantees no callback runs after it returns. Blocks until the
   * network thread has acknowledged, so call it from state changes, not from streaming threads. */
  void shutdown();

  bool is_open() const { return open_.load(); }
  /* Frames, and bytes, queued for sending but not yet handed to the socket. */
  guint pending_frames() const { return pending_.load(); }
  guint64 pending_bytes() const { return pending_bytes_.load(); }
  guint64 frames_dropped() const { return dropped_.load(); }
  /* Time from send_text() to the frame being handed to the socket, for stats and benchmarks. */
  const LatencyStats &send_delay() const { return send_delay_; }

  struct State;   /* the connection, network thread only */

 private:
  /* On the network thread: sends @text now if the connection is open, else counts it dropped. */
  void hand_to_socket(State *state, const std::string &text, gint64 queued_at);

  std::shared_ptr<NetThread> thread_;
  std::shared_ptr<State> state_;
  std::atomic<bool> open_{false};
  std::atomic<guint> pending_{0};
  std::atomic<guint> queued_{0};   /* sends and closes queued to the network thread, not yet run */
  std::atomic<guint64> pending_bytes_{0};
  std::atomic<guint64> dropped_{0};
  LatencyStats send_delay_;
};

}  // namespace clawvoice::net
