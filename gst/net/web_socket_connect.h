/* clawvoice — the client's opening handshake (RFC 6455 §4.1) for net/web_socket.h.
 *
 * Why not soup_session_websocket_connect_async(): its connection is a SoupWebsocketConnection, which
 * re-creates its input source for every message and logs every frame it queues (g_debug formats
 * the text even when nobody prints it); the Realtime session sends 50 audio appends a second per
 * call. This opens the TCP (and, for wss://, TLS) connection with GSocketClient, which follows the
 * system's proxy settings as libsoup does, writes the upgrade request, checks the 101 answer
 * (Sec-WebSocket-Accept, Upgrade, Connection, no extension we did not offer) and hands the socket to
 * a ClawvoiceWebSocket in client role.
 *
 * Runs on the thread-default main context of the caller, which the WebSocket then belongs to. */
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "net/web_socket.h"

namespace clawvoice::net {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/* @socket (transfer full) on success; else null, with the server's HTTP status (0 when it never
 * answered: refused, DNS, TLS, timeout) and a message for humans that never holds a header value. */
using WebSocketConnected = std::function<void(ClawvoiceWebSocket *socket, guint http_status, std::string error)>;

/* Opens @url (ws://, wss://, or http(s):// as libsoup takes them) with @headers added to the
 * request, all within @timeout_seconds. @done runs once, from the main context, unless
 * @cancellable (may be null) is cancelled first: then it runs with G_IO_ERROR_CANCELLED's message
 * and status 0, and the caller may ignore it. */
void web_socket_connect(const std::string &url, const HttpHeaders &headers, guint timeout_seconds,
    const WebSocketLimits &limits, GCancellable *cancellable, WebSocketConnected done);

/* Sec-WebSocket-Accept for @key (§4.2.2): base64(SHA-1(key + the RFC's GUID)). */
std::string web_socket_accept_key(const std::string &key);

}  // namespace clawvoice::net
