#include "net/web_socket_connect.h"

#include <sys/random.h>

#include <algorithm>
#include <cstring>

namespace clawvoice::net {

namespace {

constexpr gsize kMaxAnswerHead = 16 * 1024;
constexpr const char *kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";   /* RFC 6455 §1.3 */

std::string lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return (char) g_ascii_tolower(c); });
  return text;
}

std::string trim(const std::string &text)
{
  gsize start = text.find_first_not_of(" \t");
  if (start == std::string::npos)
    return "";
  gsize end = text.find_last_not_of(" \t");
  return text.substr(start, end - start + 1);
}

/* Whether the comma-separated @list holds @token (case-insensitive). */
bool list_has(const std::string &list, const std::string &token)
{
  gsize at = 0;
  while (at <= list.size()) {
    gsize comma = list.find(',', at);
    std::string item = trim(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (g_ascii_strcasecmp(item.c_str(), token.c_str()) == 0)
      return true;
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return false;
}

std::string new_key()
{
  guint8 nonce[16];
  if (getrandom(nonce, sizeof nonce, 0) != (ssize_t) sizeof nonce)
    for (guint8 &b : nonce)
      b = (guint8) g_random_int_range(0, 256);
  g_autofree gchar *encoded = g_base64_encode(nonce, sizeof nonce);
  return encoded;
}

struct Handshake {
  WebSocketConnected done;
  WebSocketLimits limits;
  std::string endpoint;                  /* host:port, for messages */
  std::string key, request, answer;
  std::string offered_protocols;         /* the request's Sec-WebSocket-Protocol, if any */
  guint timeout_seconds = 0;
  GMainContext *context = nullptr;
  GCancellable *cancellable = nullptr;   /* ours: the timeout and the caller's both cancel it */
  GCancellable *caller_cancellable = nullptr;
  gulong caller_handler = 0;
  GSource *timer = nullptr;
  bool timed_out = false;
  GSocketClient *client = nullptr;
  GIOStream *stream = nullptr;
  char buffer[4096];

  ~Handshake()
  {
    if (timer) {
      g_source_destroy(timer);
      g_source_unref(timer);
    }
    if (caller_cancellable) {
      g_cancellable_disconnect(caller_cancellable, caller_handler);
      g_object_unref(caller_cancellable);
    }
    g_clear_object(&cancellable);
    g_clear_object(&client);
    if (stream) {
      g_io_stream_close(stream, nullptr, nullptr);
      g_object_unref(stream);
    }
    if (context)
      g_main_context_unref(context);
  }
};

/* Ends the handshake: @done once, then everything it held goes. */
void complete(Handshake *h, ClawvoiceWebSocket *socket, guint status, const std::string &error)
{
  WebSocketConnected done = std::move(h->done);
  std::string why = error;
  if (!socket && h->timed_out)
    why = "no WebSocket from " + h->endpoint + " within " + std::to_string(h->timeout_seconds) + " s";
  delete h;
  if (done)
    done(socket, socket ? 101 : status, why);
  else if (socket)
    g_object_unref(socket);
}

std::string error_text(const char *what, Handshake *h, GError *error)
{
  std::string text = std::string(what) + " " + h->endpoint + ": " + (error ? error->message : "unknown error");
  return text;
}

/* Reads the answer's head, checks it, and makes the WebSocket. */
void check_answer(Handshake *h, gsize head_end)
{
  std::string head = h->answer.substr(0, head_end);
  std::string rest = h->answer.substr(head_end + 4);
  std::vector<std::string> lines;
  for (gsize at = 0; at <= head.size();) {
    gsize eol = head.find("\r\n", at);
    lines.push_back(head.substr(at, eol == std::string::npos ? std::string::npos : eol - at));
    if (eol == std::string::npos)
      break;
    at = eol + 2;
  }
  /* "HTTP/1.1 101 Switching Protocols" */
  const std::string &status_line = lines.front();
  guint status = 0;
  gsize space = status_line.find(' ');
  if (g_str_has_prefix(status_line.c_str(), "HTTP/1.") && space != std::string::npos)
    status = (guint) g_ascii_strtoull(status_line.c_str() + space + 1, nullptr, 10);
  if (status < 100 || status > 599) {
    complete(h, nullptr, 0, "not an HTTP answer from " + h->endpoint);
    return;
  }
  if (status != 101) {
    std::string reason = space != std::string::npos && status_line.size() > space + 5 ? status_line.substr(space + 5) : "";
    complete(h, nullptr, status, "the server at " + h->endpoint + " answered the WebSocket handshake with HTTP " +
        std::to_string(status) + (reason.empty() ? "" : " " + reason));
    return;
  }
  std::string upgrade, connection, accept, extensions, protocol;
  for (gsize i = 1; i < lines.size(); i++) {
    gsize colon = lines[i].find(':');
    if (colon == std::string::npos)
      continue;
    std::string name = lower(trim(lines[i].substr(0, colon)));
    std::string value = trim(lines[i].substr(colon + 1));
    if (name == "upgrade")
      upgrade = value;
    else if (name == "connection")
      connection = connection.empty() ? value : connection + "," + value;
    else if (name == "sec-websocket-accept")
      accept = value;
    else if (name == "sec-websocket-extensions")
      extensions = value;
    else if (name == "sec-websocket-protocol")
      protocol = value;
  }
  const char *wrong = nullptr;
  if (g_ascii_strcasecmp(upgrade.c_str(), "websocket") != 0)
    wrong = "no Upgrade: websocket";
  else if (!list_has(connection, "upgrade"))
    wrong = "no Connection: Upgrade";
  else if (accept != web_socket_accept_key(h->key))
    wrong = "a wrong Sec-WebSocket-Accept";
  else if (!extensions.empty())
    wrong = "an extension we did not offer";
  else if (!protocol.empty() && !list_has(h->offered_protocols, protocol))
    wrong = "a subprotocol we did not offer";
  if (wrong) {
    complete(h, nullptr, status, "the server at " + h->endpoint + " answered the WebSocket handshake with " + wrong);
    return;
  }
  GIOStream *stream = h->stream;
  h->stream = nullptr;
  ClawvoiceWebSocket *socket = web_socket_new(stream, WebSocketRole::Client, std::move(rest), h->limits);
  g_object_unref(stream);
  complete(h, socket, 101, "");
}

void read_answer(Handshake *h);

void on_answer_read(GObject *source, GAsyncResult *result, gpointer data)
{
  auto *h = static_cast<Handshake *>(data);
  GError *error = nullptr;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (n <= 0) {
    std::string why = n == 0 ? "the server at " + h->endpoint + " closed the connection during the handshake"
                             : error_text("handshake with", h, error);
    g_clear_error(&error);
    complete(h, nullptr, 0, why);
    return;
  }
  h->answer.append(h->buffer, (gsize) n);
  gsize head_end = h->answer.find("\r\n\r\n");
  if (head_end != std::string::npos) {
    check_answer(h, head_end);
    return;
  }
  if (h->answer.size() > kMaxAnswerHead) {
    complete(h, nullptr, 0, "the answer from " + h->endpoint + " has no end of its head within 16 KiB");
    return;
  }
  read_answer(h);
}

void read_answer(Handshake *h)
{
  g_input_stream_read_async(g_io_stream_get_input_stream(h->stream), h->buffer, sizeof h->buffer, G_PRIORITY_DEFAULT,
      h->cancellable, on_answer_read, h);
}

void on_request_written(GObject *source, GAsyncResult *result, gpointer data)
{
  auto *h = static_cast<Handshake *>(data);
  GError *error = nullptr;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, &error)) {
    std::string why = error_text("cannot send the handshake to", h, error);
    g_clear_error(&error);
    complete(h, nullptr, 0, why);
    return;
  }
  read_answer(h);
}

void on_connected(GObject *source, GAsyncResult *result, gpointer data)
{
  auto *h = static_cast<Handshake *>(data);
  GError *error = nullptr;
  GSocketConnection *connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
  if (!connection) {
    std::string why = error_text("cannot connect to", h, error);
    g_clear_error(&error);
    complete(h, nullptr, 0, why);
    return;
  }
  h->stream = G_IO_STREAM(connection);
  g_output_stream_write_all_async(g_io_stream_get_output_stream(h->stream), h->request.data(), h->request.size(),
      G_PRIORITY_DEFAULT, h->cancellable, on_request_written, h);
}

}  // namespace

std::string web_socket_accept_key(const std::string &key)
{
  std::string input = key + kAcceptGuid;
  guint8 digest[20];
  gsize length = sizeof digest;
  GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(sha1, reinterpret_cast<const guchar *>(input.data()), (gssize) input.size());
  g_checksum_get_digest(sha1, digest, &length);
  g_checksum_free(sha1);
  g_autofree gchar *encoded = g_base64_encode(digest, length);
  return encoded;
}

void web_socket_connect(const std::string &url, const HttpHeaders &headers, guint timeout_seconds,
    const WebSocketLimits &limits, GCancellable *cancellable, WebSocketConnected done)
{
  GError *error = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), (GUriFlags) (G_URI_FLAGS_ENCODED | G_URI_FLAGS_SCHEME_NORMALIZE), &error);
  std::string scheme = uri && g_uri_get_scheme(uri) ? lower(g_uri_get_scheme(uri)) : "";
  const bool secure = scheme == "wss" || scheme == "https";
  if (!uri || !(secure || scheme == "ws" || scheme == "http") || !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
    g_clear_error(&error);
    if (uri)
      g_uri_unref(uri);
    if (done)
      done(nullptr, 0, "not a ws:// or wss:// URL");
    return;
  }
  const std::string host = g_uri_get_host(uri);
  const guint16 default_port = secure ? 443 : 80;
  const guint16 port = g_uri_get_port(uri) > 0 ? (guint16) g_uri_get_port(uri) : default_port;
  std::string target = *g_uri_get_path(uri) ? g_uri_get_path(uri) : "/";
  if (g_uri_get_query(uri))
    target += std::string("?") + g_uri_get_query(uri);
  g_uri_unref(uri);

  auto *h = new Handshake;
  h->done = std::move(done);
  h->limits = limits;
  h->timeout_seconds = timeout_seconds;
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string host_text = ipv6 ? "[" + host + "]" : host;
  h->endpoint = host_text + ":" + std::to_string(port);
  h->key = new_key();

  std::string request = "GET " + target + " HTTP/1.1\r\n";
  request += "Host: " + host_text + (port == default_port ? "" : ":" + std::to_string(port)) + "\r\n";
  request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  request += "Sec-WebSocket-Key: " + h->key + "\r\n";
  bool has_agent = false;
  for (const auto &[name, value] : headers) {
    /* No header may end the line early: that would let a value write headers of its own. */
    if (name.empty() || name.find_first_of("\r\n:") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) {
      complete(h, nullptr, 0, "request header " + (name.find_first_of("\r\n") == std::string::npos ? name : "?") +
          " is not a valid HTTP header");
      return;
    }
    const std::string lowered = lower(name);
    if (lowered == "host" || lowered == "upgrade" || lowered == "connection" || g_str_has_prefix(lowered.c_str(), "sec-websocket-key") ||
        lowered == "sec-websocket-version" || lowered == "sec-websocket-extensions")
      continue;   /* the handshake's own */
    if (lowered == "sec-websocket-protocol")
      h->offered_protocols = value;
    has_agent = has_agent || lowered == "user-agent";
    request += name + ": " + value + "\r\n";
  }
  if (!has_agent)
    request += "User-Agent: clawvoice\r\n";
  request += "\r\n";
  h->request = std::move(request);

  h->context = g_main_context_ref_thread_default();
  h->cancellable = g_cancellable_new();
  if (cancellable) {
    h->caller_cancellable = G_CANCELLABLE(g_object_ref(cancellable));
    /* Runs at once when already cancelled. Cancelling ours from any thread is safe. */
    h->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(+[](GCancellable *, gpointer ours) {
      g_cancellable_cancel(G_CANCELLABLE(ours));
    }), g_object_ref(h->cancellable), g_object_unref);
  }
  if (timeout_seconds > 0) {
    h->timer = g_timeout_source_new_seconds(timeout_seconds);
    g_source_set_callback(h->timer, [](gpointer data) -> gboolean {
      auto *hs = static_cast<Handshake *>(data);
      hs->timed_out = true;
      g_cancellable_cancel(hs->cancellable);   /* the pending step ends, and with it the handshake */
      return G_SOURCE_CONTINUE;                 /* destroyed with the handshake */
    }, h, nullptr);
    g_source_attach(h->timer, h->context);
  }
  h->client = g_socket_client_new();
  if (secure)
    g_socket_client_set_tls(h->client, TRUE);
  GSocketConnectable *address = g_network_address_new(host.c_str(), port);
  g_socket_client_connect_async(h->client, address, h->cancellable, on_connected, h);
  g_object_unref(address);
}

}  // namespace clawvoice::net
