/* The client end of a WebSocket (RFC 6455): the opening handshake of net/web_socket_connect.h
 * (§4.1: the request, and every way the answer can be refused), the client-role framing of
 * net/web_socket.h (masked frames, unmasked server frames only, ping/pong, keepalive pings, the
 * closing handshake, frames that came with the 101) and net::WebSocketClient on its network
 * thread. Peers: libsoup's own WebSocket server (the well-behaved one) and a raw TCP server driven
 * from the test, which reads the request and the frames byte for byte and answers right or wrong.
 * Everything is on 127.0.0.1; every wait is bounded. */
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <libsoup/soup.h>

#include "net/net_thread.h"
#include "net/web_socket.h"
#include "net/web_socket_connect.h"
#include "net/websocket_client.h"
#include "web_socket_wire.h"

namespace net = clawvoice::net;

namespace {

using namespace clawvoice::test::ws;

constexpr int kBoundMs = 3000;   /* the bound on every wait for something that should happen soon */

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

std::string ascii_lower(std::string text)
{
  for (char &c : text)
    c = g_ascii_tolower(c);
  return text;
}

/* A context of the test's own, the thread-default for its life: the client's connection and the
 * libsoup server of the single-threaded tests belong to it. Declare it first, so it goes last. */
class ClientLoop {
 public:
  ClientLoop()
  {
    context = g_main_context_new();
    g_main_context_push_thread_default(context);
  }
  ~ClientLoop()
  {
    settle();
    g_main_context_pop_thread_default(context);
    g_main_context_unref(context);
  }
  bool wait(const std::function<bool()> &done, int timeout_ms = kBoundMs) { return run_until(context, done, timeout_ms); }
  /* Dispatches whatever is ready now, without waiting. */
  void settle() { drain(context, 200); }

  GMainContext *context = nullptr;
};

/* Sec-WebSocket-Accept computed here (RFC 6455 §4.2.2 step 5.4), independently of the code under
 * test: base64(SHA-1(key + GUID)). */
std::string expected_accept(const std::string &key)
{
  const std::string input = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  guint8 digest[20];
  gsize length = sizeof digest;
  GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(sha1, reinterpret_cast<const guchar *>(input.data()), gssize(input.size()));
  g_checksum_get_digest(sha1, digest, &length);
  g_checksum_free(sha1);
  gchar *encoded = g_base64_encode(digest, length);
  std::string out = encoded;
  g_free(encoded);
  return out;
}

/* ---- the raw TCP server ---- */

/* A listening socket on 127.0.0.1 and one accepted connection, non-blocking, driven from the test
 * thread; whenever it waits it runs @context (the client's), if it is given one. */
class RawServer : public RawPeer<kBoundMs> {
 public:
  explicit RawServer(GMainContext *context) : RawPeer(context)
  {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const sockaddr_in address = loopback_address();
    if (listen_fd_ >= 0 && bind(listen_fd_, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0 &&
        listen(listen_fd_, 8) == 0)
      port = bound_port(listen_fd_);
    if (port == 0)
      ADD_FAILURE() << "cannot listen on 127.0.0.1: " << strerror(errno);
  }
  ~RawServer()
  {
    drop_client();
    stop_listening();
  }

  std::string url(const std::string &target = "/path?x=1") const
  {
    return "ws://127.0.0.1:" + std::to_string(port) + target;
  }

  /* Whether a connection waits in the listen queue (a client connected and was not accepted). */
  bool has_pending_connection(int timeout_ms = 0) const
  {
    pollfd p{listen_fd_, POLLIN, 0};
    return listen_fd_ >= 0 && poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
  }

  bool accept_client()
  {
    return wait([this] {
      if (fd_ < 0 && listen_fd_ >= 0) {
        fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd_ >= 0)
          send_without_delay(fd_);
      }
      return fd_ >= 0;
    });
  }

  /* Reads the request's head (up to the empty line) into `request`. */
  bool read_request()
  {
    std::string head;
    if (!take_http_head(&head))
      return false;
    request = head.substr(0, head.size() - 2);   /* each header line with its CRLF, not the empty line */
    return true;
  }

  /* Accepts the client and reads its upgrade request. */
  bool take_request() { return accept_client() && read_request(); }

  std::string request_line() const { return request.substr(0, request.find("\r\n")); }

  /* The values of the request's header lines named @name (case-insensitive), trimmed. */
  std::vector<std::string> headers(const std::string &name) const
  {
    std::vector<std::string> values;
    size_t at = request.find("\r\n");
    while (at != std::string::npos && at + 2 < request.size()) {
      at += 2;
      const size_t eol = request.find("\r\n", at);
      const std::string line = request.substr(at, eol - at);
      const size_t colon = line.find(':');
      if (colon != std::string::npos && g_ascii_strcasecmp(line.substr(0, colon).c_str(), name.c_str()) == 0) {
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t") + 1);
        values.push_back(value);
      }
      at = eol;
    }
    return values;
  }
  std::string header(const std::string &name) const
  {
    std::vector<std::string> values = headers(name);
    return values.empty() ? "" : values.front();
  }

  /* The answer RFC 6455 §4.2.2 asks for, with @extra header lines ("Name: value\r\n") added. */
  std::string good_answer(const std::string &extra = "") const
  {
    return "HTTP/1.1 101 Switching Protocols\r\n"
           "Upgrade: websocket\r\n"
           "Connection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + expected_accept(header("Sec-WebSocket-Key")) + "\r\n" + extra + "\r\n";
  }

  /* Writes all of @bytes; a client that stops reading them fails the test. */
  void send(const std::string &bytes)
  {
    write_stalled = false;   /* this send's stall, not an earlier one's */
    RawPeer::send(bytes);
    if (write_stalled)
      ADD_FAILURE() << "the client stopped reading";
  }

  void drop_client() { close_now(); }
  void stop_listening()
  {
    if (listen_fd_ >= 0)
      ::close(listen_fd_);
    listen_fd_ = -1;
  }

  guint16 port = 0;
  std::string request;

 private:
  int listen_fd_ = -1;
};

/* A port on 127.0.0.1 nobody listens on: bound to find a free one, then closed. */
guint16 refused_port()
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = loopback_address();
  guint16 port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0)
    port = bound_port(fd);
  if (fd >= 0)
    ::close(fd);
  return port;
}

/* ---- the client under test: web_socket_connect() and the socket it gives ---- */

struct ClosedSeen {
  gushort code;
  std::string reason, error;
};

/* What done said, and then what the socket's handlers saw. */
struct Outcome {
  int calls = 0;
  ClawvoiceWebSocket *socket = nullptr;   /* the test's reference */
  guint status = 0;
  std::string error;
  std::vector<std::string> texts;
  std::vector<ClosedSeen> closed;

  ~Outcome()
  {
    if (socket) {
      net::web_socket_set_handlers(socket, {});
      g_object_unref(socket);
    }
  }
};

std::shared_ptr<Outcome> open_client(const std::string &url, const net::HttpHeaders &headers = {},
    guint timeout_seconds = 5, const net::WebSocketLimits &limits = {}, GCancellable *cancellable = nullptr)
{
  auto outcome = std::make_shared<Outcome>();
  net::web_socket_connect(url, headers, timeout_seconds, limits, cancellable,
      [outcome](ClawvoiceWebSocket *socket, guint status, std::string error) {
        Outcome *o = outcome.get();
        o->calls++;
        if (o->socket) {   /* (a second call: counted, and its socket let go) */
          if (socket)
            g_object_unref(socket);
          return;
        }
        o->socket = socket;
        o->status = status;
        o->error = std::move(error);
        if (!socket)
          return;
        net::WebSocketHandlers handlers;   /* in the same iteration, as web_socket.h asks */
        handlers.on_text = [o](std::string text) { o->texts.push_back(std::move(text)); };
        handlers.on_closed = [o](gushort code, std::string reason, std::string why) {
          o->closed.push_back({code, std::move(reason), std::move(why)});
        };
        net::web_socket_set_handlers(socket, std::move(handlers));
      });
  return outcome;
}

/* Connects to @server and answers the handshake right, with @after_answer in the same write (frames
 * that come with the 101). */
std::shared_ptr<Outcome> open_to_raw(ClientLoop &loop, RawServer &server, const net::WebSocketLimits &limits = {},
    const std::string &after_answer = "")
{
  auto outcome = open_client(server.url(), {}, 5, limits);
  if (!server.take_request()) {
    ADD_FAILURE() << "no upgrade request came";
    return outcome;
  }
  server.send(server.good_answer() + after_answer);
  if (!loop.wait([&] { return outcome->calls > 0; }))
    ADD_FAILURE() << "done was not called";
  return outcome;
}

/* Answers the client's handshake with what @answer makes of the request and checks that the client
 * refused it: done once, no socket, @status, an error that mentions @what, and the TCP connection
 * let go. */
void expect_answer_refused(const std::function<std::string(const RawServer &)> &answer, guint status,
    const std::string &what, const net::HttpHeaders &headers = {})
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url(), headers);
  ASSERT_TRUE(server.take_request());
  server.send(answer(server));
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; })) << "done is called";
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_EQ(outcome->socket, nullptr);
  EXPECT_EQ(outcome->status, status);
  EXPECT_TRUE(contains(outcome->error, what)) << outcome->error;
  EXPECT_TRUE(server.wait_eof()) << "the client closes the connection it refused";
}

/* ---- libsoup's server ---- */

/* A SoupServer on 127.0.0.1 in the thread-default context of the thread that makes it: WebSocket
 * upgrades on /path (no subprotocols; it would add permessage-deflate only if offered), 401 on
 * /deny. Records what it sees under `mu` (its signals may run on the network thread). */
class LibsoupPeer {
 public:
  LibsoupPeer()
  {
    server_ = soup_server_new(nullptr, nullptr);
    soup_server_add_websocket_handler(server_, "/path", nullptr, nullptr, on_websocket, this, nullptr);
    soup_server_add_handler(server_, "/deny", on_deny, this, nullptr);
    GError *error = nullptr;
    GSocketAddress *address = g_inet_socket_address_new_from_string("127.0.0.1", 0);
    const bool listening = soup_server_listen(server_, address, (SoupServerListenOptions) 0, &error);
    g_object_unref(address);
    if (!listening) {
      ADD_FAILURE() << error->message;
      g_clear_error(&error);
      return;
    }
    GSList *listeners = soup_server_get_listeners(server_);
    GSocketAddress *local = g_socket_get_local_address(G_SOCKET(listeners->data), nullptr);
    port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_object_unref(local);
    g_slist_free(listeners);
  }
  ~LibsoupPeer()
  {
    if (conn_) {
      g_signal_handlers_disconnect_by_data(conn_, this);
      g_object_unref(conn_);
    }
    soup_server_disconnect(server_);
    g_object_unref(server_);
  }

  std::string url(const std::string &target) const { return "ws://127.0.0.1:" + std::to_string(port) + target; }

  /* From the server's own thread. */
  void send_text(const std::string &text) { soup_websocket_connection_send_text(conn_, text.c_str()); }
  void close(gushort code, const char *reason) { soup_websocket_connection_close(conn_, code, reason); }

  /* Checks @predicate under the lock (the single-threaded tests run the loop around it). */
  bool check(const std::function<bool()> &predicate)
  {
    std::lock_guard<std::mutex> lock(mu);
    return predicate();
  }
  /* Waits for @predicate, checked under the lock, when the server runs on another thread. */
  bool wait_threaded(const std::function<bool()> &predicate, int timeout_ms = kBoundMs)
  {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), predicate);
  }

  guint port = 0;
  std::mutex mu;
  std::condition_variable cv;
  /* Under mu: */
  int upgrades = 0;
  std::string path, query, authorization, openai_beta, extensions;
  std::vector<std::string> texts;
  bool closed = false;
  gushort close_code = 0;
  std::string close_data;
  SoupWebsocketConnection *conn_ = nullptr;

 private:
  static void on_websocket(SoupServer *, SoupServerMessage *message, const char *, SoupWebsocketConnection *conn,
      gpointer data)
  {
    auto *self = static_cast<LibsoupPeer *>(data);
    SoupMessageHeaders *headers = soup_server_message_get_request_headers(message);
    GUri *uri = soup_server_message_get_uri(message);
    auto text = [](const char *value) { return std::string(value ? value : ""); };
    std::lock_guard<std::mutex> lock(self->mu);
    self->upgrades++;
    self->path = text(g_uri_get_path(uri));
    self->query = text(g_uri_get_query(uri));
    self->authorization = text(soup_message_headers_get_one(headers, "Authorization"));
    self->openai_beta = text(soup_message_headers_get_one(headers, "OpenAI-Beta"));
    self->extensions = text(soup_message_headers_get_one(headers, "Sec-WebSocket-Extensions"));
    if (self->conn_)
      return;   /* one connection per peer */
    self->conn_ = SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn));
    g_signal_connect(conn, "message", G_CALLBACK(+[](SoupWebsocketConnection *, gint type, GBytes *bytes, gpointer d) {
          auto *peer = static_cast<LibsoupPeer *>(d);
          gsize size = 0;
          const char *p = static_cast<const char *>(g_bytes_get_data(bytes, &size));
          std::lock_guard<std::mutex> l(peer->mu);
          if (type == SOUP_WEBSOCKET_DATA_TEXT)
            peer->texts.emplace_back(p ? p : "", size);
          peer->cv.notify_all();
        }),
        self);
    g_signal_connect(conn, "closed", G_CALLBACK(+[](SoupWebsocketConnection *c, gpointer d) {
          auto *peer = static_cast<LibsoupPeer *>(d);
          std::lock_guard<std::mutex> l(peer->mu);
          peer->closed = true;
          peer->close_code = soup_websocket_connection_get_close_code(c);
          const char *reason = soup_websocket_connection_get_close_data(c);
          peer->close_data = reason ? reason : "";
          peer->cv.notify_all();
        }),
        self);
    self->cv.notify_all();
  }

  static void on_deny(SoupServer *, SoupServerMessage *message, const char *, GHashTable *, gpointer)
  {
    soup_server_message_set_status(message, SOUP_STATUS_UNAUTHORIZED, nullptr);
  }

  SoupServer *server_ = nullptr;
};

/* ---- net::WebSocketClient's callbacks, from the network thread ---- */

struct ClientEvents {
  std::mutex mu;
  std::condition_variable cv;
  int opens = 0;
  std::vector<std::string> messages;
  std::vector<std::pair<guint, std::string>> failures;
  std::vector<std::pair<gushort, std::string>> closes;
  std::atomic<bool> shutdown_returned{false};
  std::atomic<int> late{0};   /* callbacks that ran after shutdown() returned */

  net::WebSocketCallbacks callbacks()
  {
    net::WebSocketCallbacks c;
    c.on_open = [this] { record([this] { opens++; }); };
    c.on_message = [this](std::string text) { record([&] { messages.push_back(std::move(text)); }); };
    c.on_connect_failed = [this](guint status, std::string message) {
      record([&] { failures.emplace_back(status, std::move(message)); });
    };
    c.on_closed = [this](gushort code, std::string reason) { record([&] { closes.emplace_back(code, std::move(reason)); }); };
    return c;
  }

  /* Waits for @predicate, checked under the lock. */
  bool wait(const std::function<bool()> &predicate, int timeout_ms = kBoundMs)
  {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), predicate);
  }

  std::string describe()
  {
    std::lock_guard<std::mutex> lock(mu);
    std::string out = "opens " + std::to_string(opens);
    for (const auto &[status, message] : failures)
      out += "; failed " + std::to_string(status) + ": " + message;
    return out;
  }

 private:
  void record(const std::function<void()> &change)
  {
    if (shutdown_returned.load())
      late.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    change();
    cv.notify_all();
  }
};

/* A LibsoupPeer made, and later destroyed, on @thread (its context is the thread-default there). */
struct PeerOnThread {
  explicit PeerOnThread(std::shared_ptr<net::NetThread> t) : thread(std::move(t))
  {
    thread->invoke_sync([this] { peer = std::make_unique<LibsoupPeer>(); });
  }
  ~PeerOnThread()
  {
    thread->invoke_sync([this] { peer.reset(); });
  }
  std::shared_ptr<net::NetThread> thread;
  std::unique_ptr<LibsoupPeer> peer;
};

/* A text with many lines, of about @size bytes. */
std::string long_text(size_t size)
{
  std::string text;
  for (int i = 0; text.size() < size; i++)
    text += "line " + std::to_string(i) + " of a long message\n";
  return text;
}

const std::string kNonAscii = "héllo wörld — 日本語 🎉 ∑ ü";

}  // namespace

/* ======== against libsoup's server ======== */

TEST(WebSocketClient, TextsTravelBothWaysWithLibsoupsServer)
{
  ClientLoop loop;
  LibsoupPeer peer;
  auto outcome = open_client(peer.url("/path?x=1"));
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  ASSERT_NE(outcome->socket, nullptr) << outcome->status << " " << outcome->error;
  EXPECT_EQ(outcome->status, 101u);
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.conn_ != nullptr; }); }));
  EXPECT_EQ(peer.extensions, "") << "we offer no extension (so libsoup's server agrees to none)";

  /* Client to server: libsoup's server fails the connection on an unmasked frame (§5.1). */
  const std::string big = long_text(100 * 1024);
  const std::vector<std::string> to_server = {"hello", big, kNonAscii, "one", "two", "three"};
  EXPECT_TRUE(net::web_socket_send_text(outcome->socket, to_server[0]));
  EXPECT_TRUE(net::web_socket_send_text(outcome->socket, to_server[1]));
  EXPECT_TRUE(net::web_socket_send_text(outcome->socket, to_server[2]));
  EXPECT_TRUE(net::web_socket_send_texts(outcome->socket, {to_server[3], to_server[4], to_server[5]}));
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.texts.size() >= to_server.size() || peer.closed; }); }));
  EXPECT_FALSE(peer.closed) << "libsoup closed with " << peer.close_code << " " << peer.close_data;
  EXPECT_EQ(peer.texts, to_server);

  /* Server to client. */
  const std::vector<std::string> to_client = {"hi", big, kNonAscii, "first", "second", "third"};
  for (const std::string &text : to_client)
    peer.send_text(text);
  ASSERT_TRUE(loop.wait([&] { return outcome->texts.size() >= to_client.size() || !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->texts, to_client);
  EXPECT_TRUE(outcome->closed.empty());
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Open);
}

TEST(WebSocketClient, TheRequestsHeadersPathAndQueryReachLibsoupsServer)
{
  ClientLoop loop;
  LibsoupPeer peer;
  auto outcome = open_client(peer.url("/path?x=1"), {{"Authorization", "Bearer sk-test"}, {"OpenAI-Beta", "realtime=v1"}});
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.upgrades > 0; }); }));
  std::lock_guard<std::mutex> lock(peer.mu);
  EXPECT_EQ(peer.upgrades, 1);
  EXPECT_EQ(peer.path, "/path");
  EXPECT_EQ(peer.query, "x=1");
  EXPECT_EQ(peer.authorization, "Bearer sk-test");
  EXPECT_EQ(peer.openai_beta, "realtime=v1");
}

TEST(WebSocketClient, ACloseFromLibsoupsServerIsReportedWithItsCodeAndReason)
{
  ClientLoop loop;
  LibsoupPeer peer;
  auto outcome = open_client(peer.url("/path?x=1"));
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.conn_ != nullptr; }); }));
  peer.close(4000, "bye");
  ASSERT_TRUE(loop.wait([&] { return !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->closed[0].code, 4000);
  EXPECT_EQ(outcome->closed[0].reason, "bye");
  EXPECT_EQ(outcome->closed[0].error, "");
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Closed);
  /* libsoup's end of the closing handshake completes too: it got our echo. */
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.closed; }); }));
  EXPECT_EQ(peer.close_code, 4000);
  EXPECT_EQ(outcome->closed.size(), 1u);
}

TEST(WebSocketClient, ACloseFromTheClientReachesLibsoupsServerWithItsCode)
{
  ClientLoop loop;
  LibsoupPeer peer;
  auto outcome = open_client(peer.url("/path?x=1"));
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.conn_ != nullptr; }); }));
  net::web_socket_close(outcome->socket, 1000, "done");
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Closing);
  ASSERT_TRUE(loop.wait([&] { return peer.check([&] { return peer.closed; }); }));
  EXPECT_EQ(peer.close_code, 1000);
  EXPECT_EQ(peer.close_data, "done");
  ASSERT_TRUE(loop.wait([&] { return !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->closed[0].code, 1000);
  EXPECT_EQ(outcome->closed[0].reason, "done");
  EXPECT_EQ(outcome->closed[0].error, "") << "libsoup answered our close: a clean end";
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Closed);
}

/* ======== the opening handshake, against the raw server ======== */

TEST(WebSocketClientHandshake, TheAcceptKeyIsRfc6455sExample)
{
  /* RFC 6455 §1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" gives "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". */
  EXPECT_EQ(net::web_socket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(expected_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") << "the test's own";
  EXPECT_EQ(net::web_socket_accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), expected_accept("x3JJHMbDL1EzLkh9GBhXDw=="));
}

TEST(WebSocketClientHandshake, TheRequestIsTheGetOfRfc6455AndTheRightAnswerGivesASocket)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url("/path?x=1"), {{"Authorization", "Bearer sk-test"}, {"OpenAI-Beta", "realtime=v1"}});
  ASSERT_TRUE(server.take_request());
  EXPECT_EQ(server.request_line(), "GET /path?x=1 HTTP/1.1");
  EXPECT_EQ(server.headers("Host"), std::vector<std::string>{"127.0.0.1:" + std::to_string(server.port)});
  EXPECT_EQ(ascii_lower(server.header("Upgrade")), "websocket");
  EXPECT_TRUE(contains(ascii_lower(server.header("Connection")), "upgrade")) << server.header("Connection");
  EXPECT_EQ(server.headers("Sec-WebSocket-Version"), std::vector<std::string>{"13"});
  ASSERT_EQ(server.headers("Sec-WebSocket-Key").size(), 1u);
  const std::string key = server.header("Sec-WebSocket-Key");
  gsize decoded_length = 0;
  guchar *decoded = g_base64_decode(key.c_str(), &decoded_length);
  EXPECT_EQ(decoded_length, 16u) << "a random 16-byte nonce, base64-encoded (§4.1 item 7): " << key;
  gchar *again = g_base64_encode(decoded, decoded_length);
  EXPECT_EQ(key, again) << "valid base64";
  g_free(again);
  g_free(decoded);
  EXPECT_TRUE(server.headers("Sec-WebSocket-Extensions").empty()) << "we offer no extension";
  EXPECT_EQ(server.headers("Authorization"), std::vector<std::string>{"Bearer sk-test"});
  EXPECT_EQ(server.headers("OpenAI-Beta"), std::vector<std::string>{"realtime=v1"});
  EXPECT_TRUE(server.unread().empty()) << "nothing follows the request before the answer";

  server.send(server.good_answer());
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_EQ(outcome->calls, 1);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  EXPECT_EQ(outcome->status, 101u);
  EXPECT_EQ(outcome->error, "");
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Open);
}

TEST(WebSocketClientHandshake, EachConnectionHasAKeyOfItsOwn)
{
  ClientLoop loop;
  std::set<std::string> keys;
  for (int i = 0; i < 3; i++) {
    RawServer server(loop.context);
    auto outcome = open_client(server.url());
    ASSERT_TRUE(server.take_request());
    keys.insert(server.header("Sec-WebSocket-Key"));
    server.drop_client();
    ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  }
  EXPECT_EQ(keys.size(), 3u);
}

TEST(WebSocketClientHandshake, TheCallersHeadersDoNotReplaceTheHandshakesOwn)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url(), {{"Host", "evil.example"}, {"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="},
                                              {"Upgrade", "h2c"}, {"Sec-WebSocket-Extensions", "permessage-deflate"},
                                              {"User-Agent", "test-agent"}});
  ASSERT_TRUE(server.take_request());
  EXPECT_EQ(server.headers("Host"), std::vector<std::string>{"127.0.0.1:" + std::to_string(server.port)});
  ASSERT_EQ(server.headers("Sec-WebSocket-Key").size(), 1u);
  EXPECT_NE(server.header("Sec-WebSocket-Key"), "AAAAAAAAAAAAAAAAAAAAAA==");
  EXPECT_EQ(server.headers("Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_TRUE(server.headers("Sec-WebSocket-Extensions").empty());
  EXPECT_EQ(server.headers("User-Agent"), std::vector<std::string>{"test-agent"});
  server.send(server.good_answer());
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_NE(outcome->socket, nullptr) << outcome->error;
}

TEST(WebSocketClientHandshake, AnAnswerHeadInPiecesWithAnyCaseOfNamesAndTokensIsAccepted)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url());
  ASSERT_TRUE(server.take_request());
  /* Header names are case-insensitive (RFC 7230 §3.2), so are the Upgrade and Connection tokens
   * (§4.1 items 2–3 of the client's checks); Connection may list more than one token. */
  const std::string answer = "HTTP/1.1 101 Switching Protocols\r\n"
                             "UPGRADE: WebSocket\r\n"
                             "connection: keep-alive, upgrade\r\n"
                             "sec-websocket-accept: " + expected_accept(server.header("Sec-WebSocket-Key")) + "\r\n"
                             "\r\n";
  for (size_t at = 0; at < answer.size(); at += 7) {
    server.send(answer.substr(at, 7));
    loop.settle();
  }
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_NE(outcome->socket, nullptr) << outcome->error;
  EXPECT_EQ(outcome->status, 101u);
}

TEST(WebSocketClientHandshake, AnOfferedSubprotocolIsAccepted)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url(), {{"Sec-WebSocket-Protocol", "chat, superchat"}});
  ASSERT_TRUE(server.take_request());
  EXPECT_EQ(server.header("Sec-WebSocket-Protocol"), "chat, superchat");
  server.send(server.good_answer("Sec-WebSocket-Protocol: superchat\r\n"));
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_NE(outcome->socket, nullptr) << outcome->error;
}

TEST(WebSocketClientHandshake, AWrongAcceptKeyFailsWithStatus101AndNoSocket)
{
  expect_answer_refused([](const RawServer &) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + expected_accept("dGhlIHNhbXBsZSBub25jZQ==") + "\r\n\r\n";
  }, 101, "Sec-WebSocket-Accept");
}

TEST(WebSocketClientHandshake, AMissingAcceptKeyFailsWithStatus101AndNoSocket)
{
  expect_answer_refused([](const RawServer &) {
    return std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  }, 101, "Sec-WebSocket-Accept");
}

TEST(WebSocketClientHandshake, A401AnswerFailsWithItsStatus)
{
  expect_answer_refused([](const RawServer &) {
    return std::string("HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nUnauthorized");
  }, 401, "401");
}

TEST(WebSocketClientHandshake, AnAnswerWithoutUpgradeFails)
{
  expect_answer_refused([](const RawServer &s) {
    return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + expected_accept(s.header("Sec-WebSocket-Key")) + "\r\n\r\n";
  }, 101, "Upgrade");
}

TEST(WebSocketClientHandshake, AnAnswerWithoutConnectionUpgradeFails)
{
  expect_answer_refused([](const RawServer &s) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
           "Sec-WebSocket-Accept: " + expected_accept(s.header("Sec-WebSocket-Key")) + "\r\n\r\n";
  }, 101, "Connection");
}

TEST(WebSocketClientHandshake, AnAnswerWithAnExtensionWeDidNotOfferFails)
{
  expect_answer_refused([](const RawServer &s) { return s.good_answer("Sec-WebSocket-Extensions: permessage-deflate\r\n"); },
      101, "extension");
}

TEST(WebSocketClientHandshake, ASubprotocolWeDidNotOfferFails)
{
  {
    SCOPED_TRACE("none offered");
    expect_answer_refused([](const RawServer &s) { return s.good_answer("Sec-WebSocket-Protocol: chat\r\n"); }, 101,
        "subprotocol");
  }
  {
    SCOPED_TRACE("another one offered");
    expect_answer_refused([](const RawServer &s) { return s.good_answer("Sec-WebSocket-Protocol: chat\r\n"); }, 101,
        "subprotocol", {{"Sec-WebSocket-Protocol", "superchat"}});
  }
}

TEST(WebSocketClientHandshake, AnAnswerHeadWithoutEndFailsAfter16KiB)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url());
  ASSERT_TRUE(server.take_request());
  std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
  for (int i = 0; head.size() < 20 * 1024; i++)
    head += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'f') + "\r\n";
  server.send(head);
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_EQ(outcome->socket, nullptr);
  EXPECT_EQ(outcome->status, 0u);
  EXPECT_FALSE(outcome->error.empty());
}

TEST(WebSocketClientHandshake, TheServerClosingDuringTheHandshakeFailsWithStatus0)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_client(server.url());
  ASSERT_TRUE(server.take_request());
  server.drop_client();
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_EQ(outcome->socket, nullptr);
  EXPECT_EQ(outcome->status, 0u);
  EXPECT_FALSE(outcome->error.empty());
}

TEST(WebSocketClientHandshake, AServerThatNeverAnswersFailsWithinTheTimeout)
{
  ClientLoop loop;
  RawServer server(loop.context);
  const gint64 start = g_get_monotonic_time();
  auto outcome = open_client(server.url(), {}, 1);
  ASSERT_TRUE(server.take_request());
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }, 3000)) << "no end within 3 s of a 1 s timeout";
  const gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_EQ(outcome->socket, nullptr);
  EXPECT_EQ(outcome->status, 0u);
  /* (a timeout in whole seconds may fire up to a quarter of a second early: GLib rounds it) */
  EXPECT_GE(elapsed_ms, 500) << "the timeout, not something else, ended it";
  const std::string error = ascii_lower(outcome->error);
  EXPECT_TRUE(contains(error, "within 1 s") || contains(error, "timed out") || contains(error, "timeout"))
      << "the error says it timed out: " << outcome->error;
  EXPECT_TRUE(server.wait_eof()) << "the client let go of the connection";
}

TEST(WebSocketClientHandshake, ARefusedPortFailsWithStatus0)
{
  ClientLoop loop;
  const guint16 port = refused_port();
  ASSERT_NE(port, 0);
  auto outcome = open_client("ws://127.0.0.1:" + std::to_string(port) + "/path");
  ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
  EXPECT_EQ(outcome->calls, 1);
  EXPECT_EQ(outcome->socket, nullptr);
  EXPECT_EQ(outcome->status, 0u);
  EXPECT_FALSE(outcome->error.empty());
}

TEST(WebSocketClientHandshake, CancellingDuringTheHandshakeGivesNoSocket)
{
  ClientLoop loop;
  RawServer server(loop.context);
  GCancellable *cancellable = g_cancellable_new();
  auto outcome = open_client(server.url(), {}, 5, {}, cancellable);
  ASSERT_TRUE(server.take_request());
  g_cancellable_cancel(cancellable);
  /* done may run (with no socket) or not at all: both are allowed. */
  loop.wait([&] { return outcome->calls > 0; });
  EXPECT_LE(outcome->calls, 1);
  EXPECT_EQ(outcome->socket, nullptr);
  if (outcome->calls) {
    EXPECT_EQ(outcome->status, 0u);
  }
  /* The right answer, now, makes no socket: the client let go of the connection. */
  server.send(server.good_answer());
  EXPECT_TRUE(server.wait_eof());
  loop.settle();
  EXPECT_EQ(outcome->socket, nullptr);
  EXPECT_LE(outcome->calls, 1);
  g_object_unref(cancellable);
}

TEST(WebSocketClientHandshake, CancellingBeforeTheConnectionIsMadeGivesNoSocket)
{
  ClientLoop loop;
  RawServer server(loop.context);
  {
    SCOPED_TRACE("cancelled right after the call");
    GCancellable *cancellable = g_cancellable_new();
    auto outcome = open_client(server.url(), {}, 5, {}, cancellable);
    g_cancellable_cancel(cancellable);
    loop.wait([&] { return outcome->calls > 0; });
    EXPECT_LE(outcome->calls, 1);
    EXPECT_EQ(outcome->socket, nullptr);
    g_object_unref(cancellable);
  }
  {
    SCOPED_TRACE("cancelled before the call");
    GCancellable *cancellable = g_cancellable_new();
    g_cancellable_cancel(cancellable);
    auto outcome = open_client(server.url(), {}, 5, {}, cancellable);
    loop.wait([&] { return outcome->calls > 0; });
    EXPECT_LE(outcome->calls, 1);
    EXPECT_EQ(outcome->socket, nullptr);
    g_object_unref(cancellable);
  }
}

TEST(WebSocketClientHandshake, AHeaderWithALineBreakIsRefusedWithoutConnecting)
{
  ClientLoop loop;
  RawServer server(loop.context);
  const std::vector<net::HttpHeaders> bad = {
      {{"X-Test", "a\r\nX-Injected: 1"}},
      {{"X-Test", "a\nX-Injected: 1"}},
      {{"X-Test", "a\rX-Injected: 1"}},
      {{"Authorization", "Bearer sk-secret"}, {"X-Injected\r\nX-Other", "1"}},
      {{"X-Colon:Name", "1"}},
      {{"", "1"}},
  };
  for (const net::HttpHeaders &headers : bad) {
    SCOPED_TRACE(headers.back().first + " = " + headers.back().second);
    auto outcome = open_client(server.url(), headers);
    loop.wait([&] { return outcome->calls > 0; });
    EXPECT_EQ(outcome->calls, 1);
    EXPECT_EQ(outcome->socket, nullptr);
    EXPECT_EQ(outcome->status, 0u);
    EXPECT_FALSE(outcome->error.empty());
    EXPECT_FALSE(contains(outcome->error, "X-Injected")) << "the message never holds a header value: " << outcome->error;
    EXPECT_FALSE(contains(outcome->error, "sk-secret")) << outcome->error;
    loop.settle();
    EXPECT_FALSE(server.has_pending_connection()) << "no connection was made";
  }
}

TEST(WebSocketClientHandshake, URLsThatAreNotWebSocketURLsFail)
{
  ClientLoop loop;
  for (const char *url : {"http//nope", "ftp://x", "ws://", "", "ws:///path", "mailto:a@b.c"}) {
    SCOPED_TRACE(url);
    auto outcome = open_client(url);
    ASSERT_TRUE(loop.wait([&] { return outcome->calls > 0; }));
    EXPECT_EQ(outcome->calls, 1);
    EXPECT_EQ(outcome->socket, nullptr);
    EXPECT_EQ(outcome->status, 0u);
    EXPECT_FALSE(outcome->error.empty());
  }
}

/* ======== framing as a client, against the raw server after a right 101 ======== */

TEST(WebSocketClientFraming, EveryFrameIsMaskedWithAFreshKeyAndUnmasksToTheText)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  /* The three length forms of §5.2 (7-bit, 16-bit, 64-bit), empty, and non-ASCII. */
  const std::vector<std::string> texts = {"hello", "", kNonAscii, std::string(200, 'm'), long_text(70000), "a", "b", "c",
                                          "d", "e"};
  std::set<uint32_t> keys;
  for (const std::string &text : texts) {
    ASSERT_TRUE(net::web_socket_send_text(outcome->socket, text));
    WireFrame f;
    ASSERT_TRUE(server.read_frame(&f)) << "text of " << text.size() << " bytes";
    EXPECT_TRUE(f.masked) << "a client masks every frame (§5.3)";
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.rsv, 0);
    EXPECT_EQ(f.opcode, kText);
    EXPECT_EQ(f.payload, text);
    keys.insert(f.mask_key);
  }
  EXPECT_EQ(keys.size(), texts.size()) << "a fresh masking key for every frame (§5.3)";
}

TEST(WebSocketClientFraming, SeveralTextsOfOneSendArriveAsSeparateFrames)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  const std::vector<std::string> texts = {"{\"type\":\"one\"}", "{\"type\":\"two\"}", kNonAscii, std::string(300, 'x')};
  ASSERT_TRUE(net::web_socket_send_texts(outcome->socket, texts));
  for (const std::string &text : texts) {
    WireFrame f;
    ASSERT_TRUE(server.read_frame(&f));
    EXPECT_TRUE(f.masked);
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.opcode, kText);
    EXPECT_EQ(f.payload, text);
  }
  EXPECT_TRUE(server.unread().empty());
}

TEST(WebSocketClientFraming, UnmaskedTextsFromTheServerAreDelivered)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  const std::string big = long_text(70000);
  server.send(server_frame(kText, "hello from the server") + server_frame(kText, kNonAscii) +
              server_frame(kText, big) +
              server_frame(kText, "frag", false, false) + server_frame(kContinuation, "mented", false, true));
  ASSERT_TRUE(loop.wait([&] { return outcome->texts.size() >= 4 || !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->texts, (std::vector<std::string>{"hello from the server", kNonAscii, big, "fragmented"}));
  EXPECT_TRUE(outcome->closed.empty());
}

TEST(WebSocketClientFraming, AMaskedFrameFromTheServerFailsTheConnectionWith1002)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  server.send(server_frame(kText, "masked by a server", true));
  WireFrame f;
  ASSERT_TRUE(server.read_frame(&f)) << "a close frame before the connection ends";
  EXPECT_EQ(f.opcode, kClose);
  EXPECT_TRUE(f.masked) << "the client's close frame is masked too";
  EXPECT_EQ(f.close_code(), net::kCloseProtocolError);
  ASSERT_TRUE(loop.wait([&] { return !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->closed[0].code, net::kCloseProtocolError);
  EXPECT_FALSE(outcome->closed[0].error.empty());
  EXPECT_TRUE(outcome->texts.empty()) << "the masked frame is not delivered";
  EXPECT_TRUE(server.wait_eof()) << "failing the connection closes it (§7.1.7)";
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Closed);
}

TEST(WebSocketClientFraming, FramesWrittenWithThe101AreDelivered)
{
  ClientLoop loop;
  RawServer server(loop.context);
  /* Two whole frames and the first half of a third in the same write as the answer. */
  const std::string third = server_frame(kText, "early three");
  auto outcome = open_to_raw(loop, server, {},
      server_frame(kText, "early one") + server_frame(kText, "early two") + third.substr(0, 5));
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  ASSERT_TRUE(loop.wait([&] { return outcome->texts.size() >= 2; }));
  server.send(third.substr(5));
  ASSERT_TRUE(loop.wait([&] { return outcome->texts.size() >= 3; }));
  EXPECT_EQ(outcome->texts, (std::vector<std::string>{"early one", "early two", "early three"}));
  EXPECT_TRUE(outcome->closed.empty());
}

TEST(WebSocketClientFraming, AServerPingGetsAMaskedPongWithTheSamePayload)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  for (const std::string &payload : {std::string("are you there?"), std::string(), std::string(125, 'p')}) {
    server.send(server_frame(kPing, payload));
    WireFrame f;
    ASSERT_TRUE(server.read_frame(&f));
    EXPECT_EQ(f.opcode, kPong);
    EXPECT_TRUE(f.masked);
    EXPECT_TRUE(f.fin);
    EXPECT_EQ(f.payload, payload);
  }
  EXPECT_TRUE(outcome->closed.empty());
}

TEST(WebSocketClientFraming, KeepalivePingsAreSentAtTheInterval)
{
  ClientLoop loop;
  RawServer server(loop.context);
  net::WebSocketLimits limits;
  limits.keepalive_interval_ms = 100;
  auto outcome = open_to_raw(loop, server, limits);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  for (int i = 0; i < 2; i++) {
    WireFrame f;
    ASSERT_TRUE(server.read_frame(&f, 1000)) << "ping " << i << " within 1 s";
    EXPECT_EQ(f.opcode, kPing);
    EXPECT_TRUE(f.masked);
    EXPECT_TRUE(f.fin);
    EXPECT_LE(f.payload.size(), 125u);
    server.send(server_frame(kPong, f.payload));
  }
  EXPECT_TRUE(outcome->closed.empty());
}

TEST(WebSocketClientFraming, AServerCloseIsEchoedMaskedWithTheSameCode)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  server.send(server_frame(kClose, close_payload(4000, "bye")));
  WireFrame f;
  ASSERT_TRUE(server.read_frame(&f));
  EXPECT_EQ(f.opcode, kClose);
  EXPECT_TRUE(f.masked);
  EXPECT_TRUE(f.fin);
  EXPECT_EQ(f.close_code(), 4000);
  /* §7.1.1: the server closes the TCP connection first; the client waits for that. */
  loop.settle();
  EXPECT_TRUE(outcome->closed.empty()) << "the client waits for the server to end the TCP connection";
  server.drop_client();
  ASSERT_TRUE(loop.wait([&] { return !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->closed[0].code, 4000);
  EXPECT_EQ(outcome->closed[0].reason, "bye");
  EXPECT_EQ(outcome->closed[0].error, "");
  EXPECT_EQ(outcome->closed.size(), 1u);
}

/* A server that keeps the TCP connection after the closing handshake: the client closes it itself
 * after close_timeout_ms. */
TEST(WebSocketClientFraming, AfterTheClosingHandshakeTheClientClosesItselfWhenTheServerDoesNot)
{
  ClientLoop loop;
  RawServer server(loop.context);
  net::WebSocketLimits limits;
  limits.close_timeout_ms = 300;
  auto outcome = open_to_raw(loop, server, limits);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  server.send(server_frame(kClose, close_payload(1000)));
  WireFrame f;
  ASSERT_TRUE(server.read_frame(&f));
  EXPECT_EQ(f.opcode, kClose);
  ASSERT_TRUE(loop.wait([&] { return !outcome->closed.empty(); }, 2000));
  EXPECT_EQ(outcome->closed[0].code, 1000);
  EXPECT_EQ(outcome->closed[0].error, "");
  EXPECT_TRUE(server.wait_eof()) << "the client ended the TCP connection";
}

TEST(WebSocketClientFraming, AClientCloseIsMaskedAndEndsCleanlyWhenTheServerAnswers)
{
  ClientLoop loop;
  RawServer server(loop.context);
  auto outcome = open_to_raw(loop, server);
  ASSERT_NE(outcome->socket, nullptr) << outcome->error;
  net::web_socket_close(outcome->socket, 1000, "done");
  EXPECT_FALSE(net::web_socket_send_text(outcome->socket, "too late")) << "nothing is sent after our close";
  WireFrame f;
  ASSERT_TRUE(server.read_frame(&f));
  EXPECT_EQ(f.opcode, kClose);
  EXPECT_TRUE(f.masked);
  EXPECT_EQ(f.close_code(), 1000);
  EXPECT_EQ(f.close_reason(), "done");
  EXPECT_TRUE(outcome->closed.empty()) << "not closed before the server's answer";
  server.send(server_frame(kClose, close_payload(1000)));
  server.drop_client();   /* as a server does once both close frames are out (§7.1.1) */
  ASSERT_TRUE(loop.wait([&] { return !outcome->closed.empty(); }));
  EXPECT_EQ(outcome->closed[0].code, 1000);
  EXPECT_EQ(outcome->closed[0].reason, "done");
  EXPECT_EQ(outcome->closed[0].error, "");
  EXPECT_EQ(net::web_socket_state(outcome->socket), net::WebSocketState::Closed);
}

/* ======== net::WebSocketClient on its network thread ======== */

TEST(WebSocketClientOnNetThread, OpensSendsReceivesAndReportsTheServersClose)
{
  auto thread = net::NetThread::acquire();
  PeerOnThread server(thread);
  ASSERT_NE(server.peer->port, 0u);
  LibsoupPeer &peer = *server.peer;
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect(peer.url("/path?x=1"), {{"Authorization", "Bearer sk-test"}}, 5);
  ASSERT_TRUE(events.wait([&] { return events.opens > 0 || !events.failures.empty(); }));
  ASSERT_EQ(events.opens, 1) << events.describe();
  EXPECT_TRUE(client.is_open());
  ASSERT_TRUE(peer.wait_threaded([&] { return peer.conn_ != nullptr; }));
  EXPECT_TRUE(peer.check([&] { return peer.authorization == "Bearer sk-test" && peer.query == "x=1"; }));

  client.send_text("from the client");
  client.send_text(kNonAscii);
  ASSERT_TRUE(peer.wait_threaded([&] { return peer.texts.size() >= 2; }));
  EXPECT_TRUE(peer.check([&] { return peer.texts == std::vector<std::string>{"from the client", kNonAscii}; }));

  thread->invoke_sync([&] {
    peer.send_text("from the server");
    peer.send_text("again");
  });
  ASSERT_TRUE(events.wait([&] { return events.messages.size() >= 2; }));
  {
    std::lock_guard<std::mutex> lock(events.mu);
    EXPECT_EQ(events.messages, (std::vector<std::string>{"from the server", "again"}));
  }

  thread->invoke_sync([&] { peer.close(4000, "bye"); });
  ASSERT_TRUE(events.wait([&] { return !events.closes.empty(); }));
  {
    std::lock_guard<std::mutex> lock(events.mu);
    EXPECT_EQ(events.closes[0].first, 4000);
    EXPECT_EQ(events.closes[0].second, "bye");
  }
  EXPECT_FALSE(client.is_open());
  client.shutdown();
}

TEST(WebSocketClientOnNetThread, ACloseFromTheOwnerReachesTheServer)
{
  auto thread = net::NetThread::acquire();
  PeerOnThread server(thread);
  LibsoupPeer &peer = *server.peer;
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect(peer.url("/path"), {}, 5);
  ASSERT_TRUE(events.wait([&] { return events.opens > 0 || !events.failures.empty(); }));
  ASSERT_EQ(events.opens, 1) << events.describe();
  client.send_text("last words");
  client.close(1000, "done");
  ASSERT_TRUE(peer.wait_threaded([&] { return peer.closed; }));
  EXPECT_TRUE(peer.check([&] { return peer.texts == std::vector<std::string>{"last words"} && peer.close_code == 1000; }));
  ASSERT_TRUE(events.wait([&] { return !events.closes.empty(); }));
  EXPECT_TRUE(events.wait([&] { return events.closes[0].first == 1000; }, 0));
  client.shutdown();
}

TEST(WebSocketClientOnNetThread, ARefusedPortIsAConnectFailureWithStatus0)
{
  auto thread = net::NetThread::acquire();
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  const guint16 port = refused_port();
  ASSERT_NE(port, 0);
  client.connect("ws://127.0.0.1:" + std::to_string(port) + "/path", {}, 5);
  ASSERT_TRUE(events.wait([&] { return !events.failures.empty(); })) << events.describe();
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.failures[0].first, 0u);
  EXPECT_FALSE(events.failures[0].second.empty());
  EXPECT_EQ(events.opens, 0);
  EXPECT_EQ(events.failures.size(), 1u);
  EXPECT_FALSE(client.is_open());
}

TEST(WebSocketClientOnNetThread, A401IsAConnectFailureWithStatus401)
{
  auto thread = net::NetThread::acquire();
  PeerOnThread server(thread);
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect(server.peer->url("/deny"), {{"Authorization", "Bearer sk-wrong"}}, 5);
  ASSERT_TRUE(events.wait([&] { return !events.failures.empty() || events.opens > 0; })) << events.describe();
  std::lock_guard<std::mutex> lock(events.mu);
  ASSERT_EQ(events.failures.size(), 1u);
  EXPECT_EQ(events.failures[0].first, 401u);
  EXPECT_TRUE(contains(events.failures[0].second, "401")) << events.failures[0].second;
  EXPECT_FALSE(contains(events.failures[0].second, "sk-wrong")) << "never the credentials";
  EXPECT_EQ(events.opens, 0);
}

TEST(WebSocketClientOnNetThread, ABadUrlIsAConnectFailureWithStatus0)
{
  auto thread = net::NetThread::acquire();
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect("ftp://x", {}, 5);
  ASSERT_TRUE(events.wait([&] { return !events.failures.empty(); })) << events.describe();
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.failures[0].first, 0u);
  EXPECT_FALSE(events.failures[0].second.empty());
  EXPECT_EQ(events.opens, 0);
}

TEST(WebSocketClientOnNetThread, ASecondConnectSupersedesAPendingOne)
{
  auto thread = net::NetThread::acquire();
  RawServer silent(nullptr);   /* accepts, reads the request and never answers */
  PeerOnThread server(thread);
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect(silent.url(), {}, 5);
  ASSERT_TRUE(silent.take_request());
  client.connect(server.peer->url("/path"), {}, 5);
  ASSERT_TRUE(events.wait([&] { return events.opens > 0 || !events.failures.empty(); })) << events.describe();
  EXPECT_TRUE(silent.wait_eof()) << "the first handshake was given up";
  thread->invoke_sync([] {});
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.opens, 1);
  EXPECT_TRUE(events.failures.empty()) << "the superseded handshake is not reported";
}

TEST(WebSocketClientOnNetThread, AConnectionDroppedWithoutACloseFrameIsReportedAs1006)
{
  auto thread = net::NetThread::acquire();
  RawServer server(nullptr);
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect(server.url(), {}, 5);
  ASSERT_TRUE(server.take_request());
  server.send(server.good_answer());
  ASSERT_TRUE(events.wait([&] { return events.opens > 0 || !events.failures.empty(); })) << events.describe();
  client.send_text("hello");
  WireFrame f;
  ASSERT_TRUE(server.read_frame(&f));
  EXPECT_TRUE(f.masked);
  EXPECT_EQ(f.payload, "hello");
  server.drop_client();
  ASSERT_TRUE(events.wait([&] { return !events.closes.empty(); }));
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.closes[0].first, net::kCloseAbnormal);
  EXPECT_FALSE(client.is_open());
}

TEST(WebSocketClientOnNetThread, ShutdownDuringAPendingHandshakeMeansNoCallbackAfterIt)
{
  auto thread = net::NetThread::acquire();
  RawServer server(nullptr);   /* driven from this thread; the client runs on the network thread */
  ClientEvents events;
  net::WebSocketClient client(thread, events.callbacks());
  client.connect(server.url(), {}, 5);
  /* The handshake is under way: the request came, the client waits for the answer. */
  ASSERT_TRUE(server.take_request());
  client.shutdown();
  events.shutdown_returned = true;
  /* An answer now would be reported by a client that still listened. */
  server.send("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
  /* The handshake ends (its connection is closed) on the network thread; once that thread has also
   * run a closure queued after it, whatever that end would call has run. */
  EXPECT_TRUE(server.wait_eof()) << "the pending handshake was given up";
  thread->invoke_sync([] {});
  EXPECT_EQ(events.late.load(), 0) << "no callback after shutdown() returned: " << events.describe();
  EXPECT_FALSE(client.is_open());
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.opens, 0);
  EXPECT_TRUE(events.failures.empty());
}
