#include "mulawbridge/stream_socket.h"

#include <libsoup/soup.h>

#include "net/websocket_upgrade.h"

#include <atomic>
#include <deque>
#include <list>

namespace clawvoice::mulawbridge {

namespace {
/* About 20 s of 20 ms media messages: the element is expected to start well before that. */
constexpr size_t kMaxBacklog = 1000;

/* Drops a reference from an idle callback of the current (network) context: inside a connection's
 * own signal libsoup may still use the object after the handler returns. */
void unref_later(gpointer object)
{
  GSource *source = g_idle_source_new();
  g_source_set_callback(source, [](gpointer o) -> gboolean { g_object_unref(o); return G_SOURCE_REMOVE; },
      object, nullptr);
  g_source_attach(source, g_main_context_get_thread_default());
  g_source_unref(source);
}
}  // namespace

struct StreamSocket::State {
  struct Held {
    enum class Kind { Text, Binary, Closed } kind;
    std::string text;
    gushort code = 0;
  };

  bool active = true;        /* cleared by shutdown(): no callback after that */
  bool delivering = false;
  StreamSocketCallbacks callbacks;
  SoupServer *server = nullptr;
  ClawvoiceWebSocket *connection = nullptr;
  bool had_stream = false;   /* listen mode takes one stream per start */
  std::deque<Held> backlog;
  std::list<ClawvoiceWebSocket *> refused;   /* closing with a policy error */
  std::atomic<guint64> frames_dropped{0};
  std::atomic<guint64> backlog_dropped{0};
  std::atomic<int> sends_queued{0};   /* send() closures not run yet: a direct send must wait its turn */

  void hand(Held held)
  {
    if (!active)
      return;
    if (!delivering) {
      if (backlog.size() >= kMaxBacklog && held.kind != Held::Kind::Closed) {
        backlog_dropped++;
        return;
      }
      backlog.push_back(std::move(held));
      return;
    }
    switch (held.kind) {
      case Held::Kind::Text:
        if (callbacks.on_text)
          callbacks.on_text(std::move(held.text));
        break;
      case Held::Kind::Binary:
        if (callbacks.on_binary)
          callbacks.on_binary();
        break;
      case Held::Kind::Closed:
        if (callbacks.on_closed)
          callbacks.on_closed(held.code, held.text);
        break;
    }
  }

  /* Lets the connection go, closing it with @code first if it is still open. Safe from inside
   * one of its handlers (it holds a reference while it calls them). */
  void release_connection(gushort code, const std::string &reason)
  {
    if (!connection)
      return;
    net::web_socket_set_handlers(connection, {});
    net::web_socket_close(connection, code, reason);
    g_clear_object(&connection);
  }

  void attach(ClawvoiceWebSocket *conn);

  ~State()
  {
    release_connection(net::kCloseGoingAway, "");
    for (ClawvoiceWebSocket *c : refused) {
      net::web_socket_set_handlers(c, {});
      g_object_unref(c);
    }
    if (server) {
      soup_server_disconnect(server);
      g_clear_object(&server);
    }
  }
};

namespace {

std::string peer_of(SoupServerMessage *msg)
{
  GSocketAddress *address = msg ? soup_server_message_get_remote_address(msg) : nullptr;
  if (!address || !G_IS_INET_SOCKET_ADDRESS(address))
    return "unknown";
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(address);
  g_autofree gchar *host = g_inet_address_to_string(g_inet_socket_address_get_address(inet));
  return std::string(host) + ":" + std::to_string(g_inet_socket_address_get_port(inet));
}

/* Listen mode: a stream was upgraded by our own server (on the network thread). */
void on_websocket(StreamSocket::State *state, ClawvoiceWebSocket *conn, const std::string &peer)
{
  if (!state->active) {
    g_object_unref(conn);
    return;
  }
  if (state->had_stream) {
    /* One call per element: turn the next one away with a reason it can log. */
    state->refused.push_back(conn);
    net::WebSocketHandlers handlers;
    handlers.on_closed = [state, conn](gushort, std::string, std::string) {
      state->refused.remove(conn);
      net::web_socket_set_handlers(conn, {});
      unref_later(conn);
    };
    net::web_socket_set_handlers(conn, std::move(handlers));
    net::web_socket_close(conn, net::kClosePolicyViolation, "this mulawbridge takes one stream, and it has one");
    if (state->callbacks.on_refused)
      state->callbacks.on_refused(peer);
    return;
  }
  state->attach(conn);
  g_object_unref(conn);
  if (state->callbacks.on_accepted)
    state->callbacks.on_accepted(peer);
}

}  // namespace

void StreamSocket::State::attach(ClawvoiceWebSocket *conn)
{
  had_stream = true;
  connection = CLAWVOICE_WEB_SOCKET(g_object_ref(conn));
  if (net::web_socket_state(conn) == net::WebSocketState::Closed) {
    /* Closed before we got it: say so, or nobody ever would. */
    release_connection(net::kCloseNormal, "");
    hand({Held::Kind::Closed, "closed before the hand-over", net::kCloseAbnormal});
    return;
  }
  net::WebSocketHandlers handlers;
  handlers.on_text = [this](std::string text) { hand({Held::Kind::Text, std::move(text), 0}); };
  handlers.on_binary = [this](std::string) { hand({Held::Kind::Binary, {}, 0}); };
  handlers.on_closed = [this](gushort code, std::string reason, std::string error) {
    std::string why = !reason.empty() ? reason : error;
    release_connection(code, "");
    hand({Held::Kind::Closed, why, code});
  };
  net::web_socket_set_handlers(conn, std::move(handlers));
}

StreamSocket::StreamSocket(std::shared_ptr<net::NetThread> net, StreamSocketCallbacks callbacks)
    : net_(std::move(net)), state_(std::make_shared<State>())
{
  state_->callbacks = std::move(callbacks);
}

StreamSocket::~StreamSocket()
{
  shutdown(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "");
}

void StreamSocket::adopt(ClawvoiceWebSocket *connection)
{
  std::shared_ptr<State> state = state_;
  if (!state || !connection)
    return;
  net_->invoke_sync([state, connection]() {
    if (!state->active)
      return;
    state->release_connection(net::kCloseNormal, "");
    state->attach(connection);
  });
}

bool StreamSocket::listen(const std::string &address, guint port, const std::string &path, guint *bound_port,
    std::string *error)
{
  std::shared_ptr<State> state = state_;
  if (!state)
    return false;
  bool ok = false;
  net_->invoke_sync([&]() {
    state->delivering = true;
    if (state->server) {
      soup_server_disconnect(state->server);
      g_clear_object(&state->server);
    }
    GInetAddress *inet = g_inet_address_new_from_string(address.c_str());
    if (!inet) {
      *error = "address " + address + " is not an IP address";
      return;
    }
    /* Created here so that its sources belong to the network thread's context. */
    state->server = soup_server_new("server-header", "clawvoice-mulawbridge", nullptr);
    State *raw = state.get();   /* the server goes before the state does (~State, shutdown) */
    soup_server_add_handler(state->server, path.c_str(),
        [](SoupServer *, SoupServerMessage *msg, const char *, GHashTable *, gpointer data) {
          auto *st = static_cast<State *>(data);
          std::string peer = peer_of(msg);
          /* As libsoup's own WebSocket handler, minus permessage-deflate (Twilio never offers it). */
          net::upgrade_websocket(msg, nullptr, false, [st, peer](std::unique_ptr<net::StolenWebSocket> socket) {
            on_websocket(st, socket->connect_own(), peer);
          });
        },
        raw, nullptr);
    GSocketAddress *socket_address = g_inet_socket_address_new(inet, (guint16) port);
    g_object_unref(inet);
    GError *err = nullptr;
    if (!soup_server_listen(state->server, socket_address, (SoupServerListenOptions) 0, &err)) {
      *error = err ? err->message : "cannot listen";
      g_clear_error(&err);
      g_object_unref(socket_address);
      g_clear_object(&state->server);
      return;
    }
    g_object_unref(socket_address);
    /* From the listening socket itself (soup_server_get_uris() leaks in libsoup 3.2). */
    *bound_port = port;
    GSList *listeners = soup_server_get_listeners(state->server);
    if (listeners) {
      GSocketAddress *local = g_socket_get_local_address(G_SOCKET(listeners->data), nullptr);
      if (local && G_IS_INET_SOCKET_ADDRESS(local))
        *bound_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
      g_clear_object(&local);
    }
    g_slist_free(listeners);
    ok = true;
  });
  return ok;
}

void StreamSocket::deliver()
{
  std::shared_ptr<State> state = state_;
  if (!state)
    return;
  net_->invoke([state]() {
    state->delivering = true;
    std::deque<State::Held> held;
    held.swap(state->backlog);
    for (State::Held &h : held)
      state->hand(std::move(h));
  });
}

void StreamSocket::send(std::vector<std::string> texts)
{
  std::shared_ptr<State> state = state_;
  if (!state)
    return;
  auto send_now = [state](const std::vector<std::string> &texts) {
    /* All of them in one write: a media message and its mark cost one syscall, not two. */
    if (!state->active || !state->connection || !net::web_socket_send_texts(state->connection, texts))
      state->frames_dropped += texts.size();
  };
  /* On the socket's own thread (a reply pushed from it) and with nothing queued before: at once,
   * without a round through the thread's queue. */
  if (net_->is_current() && state->sends_queued.load() == 0) {
    send_now(texts);
    return;
  }
  state->sends_queued++;
  net_->invoke([state, send_now, texts = std::move(texts)]() {
    state->sends_queued--;
    send_now(texts);
  });
}

void StreamSocket::close(gushort code, const std::string &reason)
{
  std::shared_ptr<State> state = state_;
  if (!state)
    return;
  net_->invoke([state, code, reason]() {
    if (state->connection)
      net::web_socket_close(state->connection, code, reason);
  });
}

void StreamSocket::shutdown(gushort code, const std::string &reason)
{
  if (!state_)
    return;
  std::shared_ptr<State> state = std::move(state_);
  net_->invoke_sync([state, code, reason]() {
    state->active = false;
    state->backlog.clear();
    state->release_connection(code, reason);
    if (state->server)
      soup_server_disconnect(state->server);
  });
  /* Let the last reference (and libsoup's objects) go on the network thread. */
  net_->invoke([state]() mutable { state.reset(); });
}

guint64 StreamSocket::frames_dropped() const
{
  return state_ ? state_->frames_dropped.load() : 0;
}

guint64 StreamSocket::backlog_dropped() const
{
  return state_ ? state_->backlog_dropped.load() : 0;
}

}  // namespace clawvoice::mulawbridge
