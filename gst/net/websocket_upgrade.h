/* clawvoice — a server's WebSocket upgrade whose connection lives in a GMainContext of our choice.
 *
 * soup_server_add_websocket_handler() builds the SoupWebsocketConnection in the server's context,
 * so every connection's socket is polled by the server's thread. A server carrying hundreds of
 * long-lived media connections wants each in a context of its own (net/context_runner.h): this
 * does what libsoup's handler does — the handshake, the subprotocol, permessage-deflate — except
 * that once the 101 is written the socket is stolen and handed over, for the connection to be
 * built wherever it should live. */
#pragma once

#include <libsoup/soup.h>

#include "net/web_socket.h"

#include <functional>
#include <memory>
#include <string>

namespace clawvoice::net {

/* An upgraded socket, not yet a WebSocket connection. Movable only; frees what it still holds. */
class StolenWebSocket {
 public:
  StolenWebSocket(GIOStream *stream, GUri *uri, std::string origin, std::string protocol, GList *extensions);
  ~StolenWebSocket();
  StolenWebSocket(const StolenWebSocket &) = delete;
  StolenWebSocket &operator=(const StolenWebSocket &) = delete;

  /* Builds the server side of the connection (transfer full). Call it on the thread, and with the
   * thread-default context, where the connection's sources must live. Only once. */
  SoupWebsocketConnection *connect();
  /* The same with our own framing (net/web_socket.h), for the hot media connections: only for an
   * upgrade without extensions (deflate false). Transfer full. */
  ClawvoiceWebSocket *connect_own();

  const std::string &protocol() const { return protocol_; }

 private:
  GIOStream *stream_;
  GUri *uri_;
  std::string origin_, protocol_;
  GList *extensions_;   /* the accepted SoupWebsocketExtensions */
};

/* Called on the server's thread once the 101 is written. */
using TakeWebSocket = std::function<void(std::unique_ptr<StolenWebSocket> socket)>;

/* Answers the WebSocket handshake of @message, from a plain soup_server_add_handler() handler:
 * @protocols (null-terminated, or null for none) as soup_server_add_websocket_handler() takes
 * them, and permessage-deflate when @deflate and the client offers it (libsoup's server default).
 * Returns false when the handshake was refused: @message then carries the error status. */
bool upgrade_websocket(SoupServerMessage *message, const char *const *protocols, bool deflate, TakeWebSocket take);

}  // namespace clawvoice::net
