/* clawvoice-launcher — the HTTP/WebSocket front: one SoupServer on the shared network thread.
 *
 * The server lives on the network thread's GMainContext (net/net_thread.h), like every other
 * libsoup object of the process, so a WebSocket it accepts can be handed to an element (mulawbridge)
 * that keeps using it on that same thread. Handlers run there too: they must never block. */
#pragma once

#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <string>

#include "config.h"
#include "net/net_thread.h"
#include "net/web_socket.h"

namespace clawvoice::launcher {

class HttpServer {
 public:
  using Handler = std::function<void(SoupServerMessage *message, const std::string &path)>;
  /* @connection is borrowed: g_object_ref() it to keep it. */
  using WebSocketHandler = std::function<void(SoupServerMessage *message, SoupWebsocketConnection *connection)>;

  explicit HttpServer(std::shared_ptr<net::NetThread> thread);
  ~HttpServer();

  bool listen(const ListenAddress &address, std::string *error);
  guint16 port() const { return port_; }
  const std::shared_ptr<net::NetThread> &thread() const { return thread_; }

  /* @path is a prefix, as soup_server_add_handler() takes it ("/calls" also serves "/calls/x"). */
  void add_handler(const std::string &path, Handler handler);
  void add_websocket(const std::string &path, WebSocketHandler handler);

  /* A WebSocket endpoint whose connections each live on a network thread of the pool
   * (net::NetThread::acquire_pooled()), not on the server's: media streams that carry a frame
   * every 20 ms for the whole call spread over every core, and each thread's context polls only
   * its share of the sockets. The server does the handshake, then hands the socket over; @handler
   * runs on the connection's thread, which the connection is marked with (net::NetThread::of()).
   * The connection frames with our own net/web_socket.h, not libsoup's: one poll source for its
   * whole life and one write per send (see there). No extensions. @connection is borrowed; @peer
   * is "IP:PORT". */
  using PooledWebSocketHandler = std::function<void(const std::shared_ptr<net::NetThread> &thread,
      ClawvoiceWebSocket *connection, const std::string &peer)>;
  void add_pooled_websocket(const std::string &path, PooledWebSocketHandler handler);
  /* Stops listening; open connections are closed. */
  void stop();

 private:
  std::shared_ptr<net::NetThread> thread_;
  SoupServer *server_ = nullptr;
  guint16 port_ = 0;
};

/* Small helpers for handlers. */
void respond(SoupServerMessage *message, guint status, const std::string &content_type, const std::string &body);
void respond_json(SoupServerMessage *message, guint status, const std::string &json);
/* {"error": @text} with @status. */
void respond_error(SoupServerMessage *message, guint status, const std::string &text);
std::string request_body(SoupServerMessage *message);
std::string request_header(SoupServerMessage *message, const char *name);
/* True when the request carries `Authorization: Bearer @token` (constant-time compare). An empty
 * @token means the endpoint is disabled: always false. */
bool has_bearer(SoupServerMessage *message, const std::string &token);
/* Constant-time string equality (for secrets). */
bool secrets_equal(const std::string &a, const std::string &b);
/* Where the request came from, "IP:PORT", for logs. */
std::string peer_of(SoupServerMessage *message);

}  // namespace clawvoice::launcher
