/* clawvoice — mulawbridge's end of a Twilio Media Streams WebSocket, on the shared network thread.
 *
 * Either adopts a connection a SoupServer elsewhere accepted and upgraded (the launcher's, on the same
 * network thread: net/websocket_upgrade.h, net/web_socket.h), or runs a SoupServer of its own that
 * takes exactly one stream (a second one is closed with a policy error). Knows nothing of GStreamer or of Twilio's messages: text in, text out.
 *
 * Every method may be called from any thread. Callbacks run on the network thread. Messages that
 * arrive on an adopted connection before deliver() are kept (bounded) and handed over in order then,
 * so nothing is lost between the hand-over and the element starting. After shutdown() returns no
 * callback runs any more. */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/net_thread.h"

#include "net/web_socket.h"

namespace clawvoice::mulawbridge {

struct StreamSocketCallbacks {
  std::function<void(std::string text)> on_text;
  std::function<void()> on_binary;
  /* The connection closed or vanished: @code is its close code, 1006 when it dropped without one. */
  std::function<void(gushort code, std::string reason)> on_closed;
  /* Listen mode: a stream connected, or a second one was turned away. @peer is "host:port". */
  std::function<void(std::string peer)> on_accepted;
  std::function<void(std::string peer)> on_refused;
};

class StreamSocket {
 public:
  StreamSocket(std::shared_ptr<net::NetThread> net, StreamSocketCallbacks callbacks);
  ~StreamSocket();   /* implies shutdown() */
  StreamSocket(const StreamSocket &) = delete;
  StreamSocket &operator=(const StreamSocket &) = delete;

  /* Takes over @connection (a new reference is taken) and starts keeping its messages. Waits for
   * the network thread (runs inline on it). */
  void adopt(ClawvoiceWebSocket *connection);
  /* Listens on ws://@address:@port@path (@port 0: any free port). Waits for the network thread.
   * Messages of the accepted stream are delivered at once. */
  bool listen(const std::string &address, guint port, const std::string &path, guint *bound_port,
      std::string *error);
  /* From now on messages go to the callbacks, those kept since adopt() first. */
  void deliver();

  /* Queues text frames, in order with every other send and close (FIFO on the network thread).
   * Dropped and counted when no connection is open. */
  void send(std::vector<std::string> texts);
  void close(gushort code, const std::string &reason);
  /* Sends what is queued, closes the connection with @code if it is still open, stops listening,
   * and guarantees no callback after it returns. Waits for the network thread. */
  void shutdown(gushort code, const std::string &reason);

  guint64 frames_dropped() const;
  guint64 backlog_dropped() const;

  struct State;   /* libsoup side, network thread only (public for the C callbacks) */

 private:
  std::shared_ptr<net::NetThread> net_;
  std::shared_ptr<State> state_;
};

}  // namespace clawvoice::mulawbridge
