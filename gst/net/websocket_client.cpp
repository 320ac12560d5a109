#include "net/websocket_client.h"

#include <libsoup/soup.h>

namespace clawvoice::net {

/* Everything libsoup owns; touched only on the network thread. */
struct WebSocketClient::State {
  WebSocketClient *owner = nullptr;   /* cleared by shutdown(): no callback after that */
  WebSocketCallbacks callbacks;
  SoupSession *session = nullptr;
  SoupWebsocketConnection *connection = nullptr;
  GCancellable *cancellable = nullptr;
  gulong message_handler = 0;
  gulong closed_handler = 0;
  gulong error_handler = 0;
  std::string last_error;

  void release_connection()
  {
    if (!connection)
      return;
    g_signal_handler_disconnect(connection, message_handler);
    g_signal_handler_disconnect(connection, closed_handler);
    g_signal_handler_disconnect(connection, error_handler);
    if (soup_websocket_connection_get_state(connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
    g_clear_object(&connection);
  }

  ~State()
  {
    release_connection();
    if (cancellable) {
      g_cancellable_cancel(cancellable);
      g_clear_object(&cancellable);
    }
    g_clear_object(&session);
  }
};

namespace {

struct ConnectData {
  std::shared_ptr<WebSocketClient::State> *state;
};

void on_ws_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
{
  auto *state = static_cast<WebSocketClient::State *>(data);
  if (!state->owner || !state->callbacks.on_message)
    return;
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    /* Binary frames are not part of any protocol we speak. */
    state->last_error = "unexpected binary frame";
    return;
  }
  gsize size = 0;
  const char *bytes = static_cast<const char *>(g_bytes_get_data(message, &size));
  state->callbacks.on_message(std::string(bytes, size));
}

void on_ws_error(SoupWebsocketConnection *, GError *error, gpointer data)
{
  auto *state = static_cast<WebSocketClient::State *>(data);
  state->last_error = error ? error->message : "unknown error";
}

}  // namespace

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
  thread_->invoke([this, state, url, headers, timeout_seconds]() {
    if (!state->owner)
      return;
    state->release_connection();
    if (state->cancellable) {
      g_cancellable_cancel(state->cancellable);
      g_clear_object(&state->cancellable);
    }
    if (!state->session) {
      /* Created here, on the network thread, so it belongs to the network context. */
      state->session = soup_session_new_with_options("timeout", timeout_seconds,
          "idle-timeout", 0, nullptr);
    }
    SoupMessage *msg = soup_message_new(SOUP_METHOD_GET, url.c_str());
    if (!msg) {
      if (state->callbacks.on_connect_failed)
        state->callbacks.on_connect_failed(0, "invalid URL");
      return;
    }
    SoupMessageHeaders *request_headers = soup_message_get_request_headers(msg);
    for (const auto &[name, value] : headers)
      soup_message_headers_replace(request_headers, name.c_str(), value.c_str());

    state->cancellable = g_cancellable_new();
    auto *keep = new std::shared_ptr<State>(state);
    soup_session_websocket_connect_async(state->session, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
        state->cancellable,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          std::unique_ptr<std::shared_ptr<State>> keep(static_cast<std::shared_ptr<State> *>(data));
          State *st = keep->get();
          GError *error = nullptr;
          SoupWebsocketConnection *conn =
              soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
          SoupMessage *m = soup_session_get_async_result_message(SOUP_SESSION(source), result);
          if (!conn) {
            bool cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
            std::string message = error ? error->message : "connection failed";
            g_clear_error(&error);
            guint status = m ? soup_message_get_status(m) : 0;
            if (!cancelled && st->owner && st->callbacks.on_connect_failed)
              st->callbacks.on_connect_failed(status, message);
            return;
          }
          if (!st->owner) {
            g_object_unref(conn);
            return;
          }
          st->connection = conn;
          /* The Realtime API's events (session.updated with long instructions, big audio
           * appends) exceed libsoup's 128 KiB default. */
          soup_websocket_connection_set_max_incoming_payload_size(conn, 16 * 1024 * 1024);
          soup_websocket_connection_set_keepalive_interval(conn, 20);
          st->message_handler = g_signal_connect(conn, "message", G_CALLBACK(on_ws_message), st);
          st->error_handler = g_signal_connect(conn, "error", G_CALLBACK(on_ws_error), st);
          st->closed_handler = g_signal_connect(conn, "closed",
              G_CALLBACK(+[](SoupWebsocketConnection *c, gpointer d) {
                auto *s = static_cast<State *>(d);
                gushort code = soup_websocket_connection_get_close_code(c);
                const char *reason = soup_websocket_connection_get_close_data(c);
                std::string why = reason ? reason : "";
                if (why.empty() && !s->last_error.empty())
                  why = s->last_error;
                if (code == 0)
                  code = SOUP_WEBSOCKET_CLOSE_ABNORMAL;
                if (s->owner)
                  s->owner->open_.store(false);
                /* Let go of the connection before telling the owner, who may reconnect. */
                s->release_connection();
                s->last_error.clear();
                if (s->owner && s->callbacks.on_closed)
                  s->callbacks.on_closed(code, why);
              }),
              st);
          st->owner->open_.store(true);
          if (st->callbacks.on_open)
            st->callbacks.on_open();
        },
        keep);
    g_object_unref(msg);
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
  if (!state->connection || soup_websocket_connection_get_state(state->connection) != SOUP_WEBSOCKET_STATE_OPEN) {
    dropped_.fetch_add(1);
    return;
  }
  soup_websocket_connection_send_text(state->connection, text.c_str());
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
    if (state->connection &&
        soup_websocket_connection_get_state(state->connection) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(state->connection, code, reason.empty() ? nullptr : reason.c_str());
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
