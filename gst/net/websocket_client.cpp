#include "net/websocket_client.h"

#include "net/web_socket_connect.h"

namespace clawvoice::net {

/* The connection and the handshake under way; touched only on the network thread. */
struct WebSocketClient::State {
  WebSocketClient *owner = nullptr;   /* cleared by shutdown(): no callback after that */
  WebSocketCallbacks callbacks;
  ClawvoiceWebSocket *connection = nullptr;
  GCancellable *cancellable = nullptr;   /* the handshake's */

  void release_connection()
  {
    if (!connection)
      return;
    web_socket_set_handlers(connection, {});
    web_socket_close(connection, kCloseGoingAway, "");
    g_clear_object(&connection);
  }

  ~State()
  {
    release_connection();
    if (cancellable) {
      g_cancellable_cancel(cancellable);
      g_clear_object(&cancellable);
    }
  }
};

WebSocketClient::WebSocketClient(std::shared_ptr<NetThread> thread, WebSocketCallbacks callbacks)
    : thread_(std::move(thread)), state_(std::make_shared<State>())
{
  state_->owner = this;
  state_->callbacks = std::move(callbacks);
}

WebSocketClient::~WebSocketClient()
{
  shutdown();
}

void WebSocketClient::connect(const std::string &url, const Headers &headers, guint timeout_seconds)
{
  if (!state_)
    return;
  std::shared_ptr<State> state = state_;
  thread_->invoke([state, url, headers, timeout_seconds]() {
    if (!state->owner)
      return;
    state->release_connection();
    if (state->cancellable) {
      g_cancellable_cancel(state->cancellable);
      g_clear_object(&state->cancellable);
    }
    WebSocketLimits limits;
    /* The Realtime API's events (session.updated with long instructions, big audio appends) are
     * far larger than the 128 KiB a media stream needs. */
    limits.max_message = 16 * 1024 * 1024;
    limits.keepalive_interval_ms = 20 * 1000;
    GCancellable *cancellable = g_cancellable_new();
    state->cancellable = cancellable;
    /* Created here, on the network thread, so the connection belongs to the network context. */
    web_socket_connect(url, headers, timeout_seconds, limits, cancellable,
        [state, cancellable](ClawvoiceWebSocket *conn, guint status, std::string error) {
          const bool current = state->cancellable == cancellable && !g_cancellable_is_cancelled(cancellable);
          if (state->cancellable == cancellable)
            g_clear_object(&state->cancellable);
          if (!current || !state->owner) {
            if (conn)
              g_object_unref(conn);   /* a newer connect() or shutdown() came first */
            return;
          }
          if (!conn) {
            if (state->callbacks.on_connect_failed)
              state->callbacks.on_connect_failed(status, error);
            return;
          }
          state->connection = conn;
          WebSocketHandlers handlers;
          State *st = state.get();   /* the handlers go (release_connection) before the state does */
          handlers.on_text = [st](std::string text) {
            if (st->owner && st->callbacks.on_message)
              st->callbacks.on_message(std::move(text));
          };
          /* Binary frames are not part of any protocol we speak: dropped. */
          handlers.on_closed = [st](gushort code, std::string reason, std::string error) {
            std::string why = !reason.empty() ? reason : error;
            if (st->owner)
              st->owner->open_.store(false);
            /* Let go of the connection before telling the owner, who may reconnect. */
            st->release_connection();
            if (st->owner && st->callbacks.on_closed)
              st->callbacks.on_closed(code, why);
          };
          web_socket_set_handlers(conn, std::move(handlers));
          state->owner->open_.store(true);
          if (state->callbacks.on_open)
            state->callbacks.on_open();
        });
  });
}

void WebSocketClient::send_text(std::string text)
{
  if (!state_) {
    dropped_.fetch_add(1);
    return;
  }
  gint64 queued_at = g_get_monotonic_time();
  /* On the connection's own thread with nothing queued ahead of it (the caller's audio, pushed from
   * the media socket in the same network context): send now, which spares the context a wake-up
   * per frame. */
  if (queued_.load() == 0 && thread_->is_current()) {
    hand_to_socket(state_.get(), text, queued_at);
    return;
  }
  pending_.fetch_add(1);
  pending_bytes_.fetch_add(text.size());
  queued_.fetch_add(1);
  std::shared_ptr<State> state = state_;
  thread_->invoke([this, state, queued_at, text = std::move(text)]() {
    if (!state->owner)
      return;   /* the owner is gone; its counters with it */
    queued_.fetch_sub(1);
    pending_.fetch_sub(1);
    pending_bytes_.fetch_sub(text.size());
    hand_to_socket(state.get(), text, queued_at);
  });
}

void WebSocketClient::hand_to_socket(State *state, const std::string &text, gint64 queued_at)
{
  if (!state->owner)
    return;
  if (!state->connection || !web_socket_send_text(state->connection, text)) {
    dropped_.fetch_add(1);
    return;
  }
  send_delay_.add(g_get_monotonic_time() - queued_at);
}

void WebSocketClient::close(gushort code, const std::string &reason)
{
  if (!state_)
    return;
  std::shared_ptr<State> state = state_;
  queued_.fetch_add(1);   /* a frame sent after it must not overtake it */
  thread_->invoke([this, state, code, reason]() {
    if (!state->owner)
      return;
    queued_.fetch_sub(1);
    if (state->connection)
      web_socket_close(state->connection, code, reason);
  });
}

void WebSocketClient::shutdown()
{
  if (!state_)
    return;
  std::shared_ptr<State> state = std::move(state_);
  /* Runs on the network thread so that no callback is half-way through while we detach. */
  thread_->invoke_sync([state]() {
    state->owner = nullptr;
    state->release_connection();
    if (state->cancellable)
      g_cancellable_cancel(state->cancellable);
  });
  open_.store(false);
  /* The last reference to State may now be dropped here or in a pending closure; either way its
   * destructor only touches objects that are no longer in use. Make sure it dies on the network
   * thread, where its soup objects live. */
  thread_->invoke([state]() mutable { state.reset(); });
}

}  // namespace clawvoice::net
