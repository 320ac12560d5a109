#include "mulawbridge/stream_socket.h"

#include <libsoup/soup.h>

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
  SoupWebsocketConnection *connection = nullptr;
  bool had_stream = false;   /* listen mode takes one stream per start */
  gulong message_handler = 0, closed_handler = 0, error_handler = 0;
  std::string last_error;
  std::deque<Held> backlog;
  std::list<SoupWebsocketConnection *> refused;   /* closing with a policy error */
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

  void release_connection(gushort code, const char *reason, bool from_its_signal = false)
  {
    if (!connection)
      return;
    g_signal_handler_disconnect(connection, message_handler);
    g_signal_handler_disconnect(connection, closed_handler);
    g_signal_handler_disconnect(connection, error_handler);
    if (soup_websocket_connection_get_state(connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(connection, code, reason);
    if (from_its_signal)
      unref_later(connection);
    else
      g_object_unref(connection);
    connection = nullptr;
  }

  void attach(SoupWebsocketConnection *conn);

  ~State()
  {
    release_connection(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
    for (SoupWebsocketConnection *c : refused) {
      g_signal_handlers_disconnect_by_data(c, this);
      g_object_unref(c);
    }
    if (server) {
      soup_server_disconnect(server);
      g_clear_object(&server);
    }
  }
};

namespace {

void on_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
{
  auto *state = static_cast<StreamSocket::State *>(data);
  using Held = StreamSocket::State::Held;
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    state->hand({Held::Kind::Binary, {}, 0});
    return;
  }
  gsize size = 0;
  const char *bytes = static_cast<const char *>(g_bytes_get_data(message, &size));
  state->hand({Held::Kind::Text, std::string(bytes, size), 0});
}

void on_error(SoupWebsocketConnection *, GError *error, gpointer data)
{
  static_cast<StreamSocket::State *>(data)->last_error = error ? error->message : "unknown error";
}

void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
  auto *state = static_cast<StreamSocket::State *>(data);
  gushort code = soup_websocket_connection_get_close_code(conn);
  const char *reason = soup_websocket_connection_get_close_data(conn);
  std::string why = reason && *reason ? reason : state->last_error;
  if (code == 0)
    code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;
  state->release_connection(code, nullptr, true);
  state->hand({StreamSocket::State::Held::Kind::Closed, why, code});
}

std::string peer_of(SoupServerMessage *msg)
{
  GSocketAddress *address = msg ? soup_server_message_get_remote_address(msg) : nullptr;
  if (!address || !G_IS_INET_SOCKET_ADDRESS(address))
    return "unknown";
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(address);
  g_autofree gchar *host = g_inet_address_to_string(g_inet_socket_address_get_address(inet));
  return std::string(host) + ":" + std::to_string(g_inet_socket_address_get_port(inet));
}

void on_websocket(SoupServer *, SoupServerMessage *msg, const char *, SoupWebsocketConnection *conn, gpointer data)
{
  auto *state = static_cast<StreamSocket::State *>(data);
  std::string peer = peer_of(msg);
  if (!state->active)
    return;
  if (state->had_stream) {
    /* One call per element: turn the next one away with a reason it can log. */
    g_object_ref(conn);
    state->refused.push_back(conn);
    g_signal_connect(conn, "closed", G_CALLBACK(+[](SoupWebsocketConnection *c, gpointer d) {
      auto *st = static_cast<StreamSocket::State *>(d);
      st->refused.remove(c);
      g_signal_handlers_disconnect_by_data(c, d);
      unref_later(c);
    }), state);
    soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
        "this mulawbridge takes one stream, and it has one");
    if (state->callbacks.on_refused)
      state->callbacks.on_refused(peer);
    return;
  }
  state->attach(conn);
  if (state->callbacks.on_accepted)
    state->callbacks.on_accepted(peer);
}

}  // namespace

void StreamSocket::State::attach(SoupWebsocketConnection *conn)
{
  had_stream = true;
  connection = SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn));
  message_handler = g_signal_connect(conn, "message", G_CALLBACK(on_message), this);
  error_handler = g_signal_connect(conn, "error", G_CALLBACK(on_error), this);
  closed_handler = g_signal_connect(conn, "closed", G_CALLBACK(on_closed), this);
  if (soup_websocket_connection_get_state(conn) == SOUP_WEBSOCKET_STATE_CLOSED) {
    /* Closed before we got it: say so, or nobody ever would. */
    gushort code = soup_websocket_connection_get_close_code(conn);
    release_connection(SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    hand({Held::Kind::Closed, "closed before the hand-over", code ? code : (gushort) SOUP_WEBSOCKET_CLOSE_ABNORMAL});
  }
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

void StreamSocket::adopt(SoupWebsocketConnection *connection)
{
  std::shared_ptr<State> state = state_;
  if (!state || !connection)
    return;
  net_->invoke_sync([state, connection]() {
    if (!state->active)
      return;
    state->release_connection(SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
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
    soup_server_add_websocket_handler(state->server, path.c_str(), nullptr, nullptr, on_websocket, state.get(),
        nullptr);
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
    if (!state->active || !state->connection ||
        soup_websocket_connection_get_state(state->connection) != SOUP_WEBSOCKET_STATE_OPEN) {
      state->frames_dropped += texts.size();
      return;
    }
    for (const std::string &text : texts)
      soup_websocket_connection_send_text(state->connection, text.c_str());
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
    if (state->connection && soup_websocket_connection_get_state(state->connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(state->connection, code, reason.empty() ? nullptr : reason.c_str());
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
    state->release_connection(code, reason.empty() ? nullptr : reason.c_str());
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
