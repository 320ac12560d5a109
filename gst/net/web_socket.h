/* clawvoice — the server end of a WebSocket (RFC 6455) on a socket stolen after the handshake, for
 * the hot media connections (Twilio's Media Streams: 50 small text messages a second per call).
 *
 * Why not SoupWebsocketConnection: libsoup 3 destroys and re-creates its input source (a chain of
 * three GSources) for every message it reads, which costs half a dozen eventfd writes and as many
 * extra main-loop iterations per message; at 200 calls that was the largest cost after the socket
 * writes themselves. This one polls the socket with one source for the connection's whole life,
 * reads every frame that arrived in one go, and writes the frames of one send() with one syscall.
 *
 * What it does: the framing of RFC 6455 §5 for either end (a client masks its frames, a server
 * must not; fragmented messages, ping/pong, the closing handshake of §7, the close codes of §7.4),
 * UTF-8 checked on text, a message size limit, keepalive pings for a client. No extensions (the upgrade must not accept permessage-deflate). Protocol errors from
 * the peer close the connection with the code the RFC names (1002, 1007, 1009) and a reason.
 *
 * Threading: like libsoup's objects, it belongs to the thread-default GMainContext of the thread that
 * made it; call everything from there. Handlers may call any method, replace the handlers, or drop
 * the caller's reference. */
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string>
#include <vector>

G_BEGIN_DECLS
#define CLAWVOICE_TYPE_WEB_SOCKET (clawvoice_web_socket_get_type())
G_DECLARE_FINAL_TYPE(ClawvoiceWebSocket, clawvoice_web_socket, CLAWVOICE, WEB_SOCKET, GObject)
G_END_DECLS

namespace clawvoice::net {

enum class WebSocketState { Open, Closing, Closed };
enum class WebSocketRole { Server, Client };

/* RFC 6455 §7.4.1 (the ones we send or read). */
constexpr gushort kCloseNormal = 1000;
constexpr gushort kCloseGoingAway = 1001;
constexpr gushort kCloseProtocolError = 1002;
constexpr gushort kCloseUnsupportedData = 1003;
constexpr gushort kCloseNoStatus = 1005;   /* reported when the peer's close frame had no code */
constexpr gushort kCloseAbnormal = 1006;   /* reported when the socket ended without a close frame */
constexpr gushort kCloseBadData = 1007;
constexpr gushort kClosePolicyViolation = 1008;
constexpr gushort kCloseTooBig = 1009;
constexpr gushort kCloseServerError = 1011;

struct WebSocketHandlers {
  std::function<void(std::string text)> on_text;
  std::function<void(std::string data)> on_binary;
  /* Once, when the connection is closed: the code and reason of the close frame that ended it (the
   * peer's, or ours when we closed first), kCloseAbnormal when the socket ended without one.
   * @error says what went wrong, if anything did (a read error, a protocol error of the peer). */
  std::function<void(gushort code, std::string reason, std::string error)> on_closed;
};

struct WebSocketLimits {
  gsize max_message = 128 * 1024;         /* libsoup's default max-incoming-payload-size */
  gsize max_unsent = 4 * 1024 * 1024;     /* a peer that stops reading: the connection is dropped
                                             (on_closed: kCloseAbnormal, with an error) */
  guint close_timeout_ms = 5000;          /* after our close frame, how long the peer has to answer */
  guint keepalive_interval_ms = 0;        /* a client's pings (0: none), for NATs and proxies */
};

/* Takes over @stream (a new reference), upgraded and with its 101 written, as the server end.
 * Reading starts at once; messages that arrive before handlers are set are dropped, so set them in
 * the same main-loop iteration. Transfer full. */
ClawvoiceWebSocket *web_socket_new_server(GIOStream *stream, const WebSocketLimits &limits = {});
/* The same for either end; @already_read: bytes read from @stream past the handshake (frames that
 * came with a server's 101), handled before anything else. */
ClawvoiceWebSocket *web_socket_new(GIOStream *stream, WebSocketRole role, std::string already_read,
    const WebSocketLimits &limits = {});

/* Replaces the handlers (empty ones: nothing is called). */
void web_socket_set_handlers(ClawvoiceWebSocket *socket, WebSocketHandlers handlers);

/* Sends text messages, each one frame, all with one write when the socket takes them. Returns
 * false (and sends nothing) unless the connection is open. */
bool web_socket_send_texts(ClawvoiceWebSocket *socket, const std::vector<std::string> &texts);
bool web_socket_send_text(ClawvoiceWebSocket *socket, const std::string &text);

/* Starts the closing handshake: sends a close frame with @code and @reason (at most 123 bytes of
 * it) after whatever is queued, stops delivering messages, and closes the socket when the peer
 * answers or after close_timeout_ms. on_closed follows. No-op unless open. */
void web_socket_close(ClawvoiceWebSocket *socket, gushort code, const std::string &reason);

WebSocketState web_socket_state(ClawvoiceWebSocket *socket);

}  // namespace clawvoice::net
