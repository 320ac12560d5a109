#include "test_bridge.h"

#include <json-glib/json-glib.h>

namespace clawvoice::test::twilio_emu {

struct TestBridge::Conn {
  TestBridge *bridge;
  size_t index;
  std::string stream_sid;
};

namespace {
/* Reads the frame's event; for the loopback bridge, remembers the streamSid from `start` and
 * answers `media` with media. */
std::string inspect(SoupWebsocketConnection *ws, std::string *stream_sid, const std::string &text,
                    bool echo)
{
  std::string event_name;
  JsonParser *parser = json_parser_new();
  if (json_parser_load_from_data(parser, text.data(), text.size(), nullptr) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    const char *event = json_object_get_string_member_with_default(o, "event", "");
    event_name = event;
    if (!echo) {
    } else if (g_str_equal(event, "start")) {
      *stream_sid = json_object_get_string_member_with_default(o, "streamSid", "");
    } else if (g_str_equal(event, "media")) {
      const char *payload = json_object_get_string_member_with_default(
          json_object_get_object_member(o, "media"), "payload", "");
      std::string reply = std::string(R"({"event":"media","streamSid":")") + *stream_sid +
                          R"(","media":{"payload":")" + payload + R"("}})";
      soup_websocket_connection_send_text(ws, reply.c_str());
    }
  }
  g_object_unref(parser);
  return event_name;
}
}  // namespace

size_t BridgeConnection::count(const std::string &event) const
{
  size_t n = 0;
  for (const auto &f : frames)
    n += f.event == event;
  return n;
}

TestBridge::TestBridge()
{
  thread_.invoke_sync([this]() {
    server_ = soup_server_new("server-header", "test-bridge", nullptr);
    soup_server_add_websocket_handler(server_, "/stream", nullptr, nullptr, &TestBridge::on_websocket,
                                      this, nullptr);
    soup_server_add_handler(server_, "/voice", &TestBridge::on_http, this, nullptr);
    soup_server_add_handler(server_, "/status", &TestBridge::on_http, this, nullptr);
    GInetAddress *loopback = g_inet_address_new_from_string("127.0.0.1");
    GSocketAddress *address = g_inet_socket_address_new(loopback, 0);
    GError *error = nullptr;
    if (!soup_server_listen(server_, address, static_cast<SoupServerListenOptions>(0), &error)) {
      g_warning("test bridge cannot listen: %s", error->message);
      g_error_free(error);
    }
    g_object_unref(address);
    g_object_unref(loopback);
    /* The port from the listening socket (soup_server_get_uris leaks an address in libsoup 3.2). */
    GSList *listeners = soup_server_get_listeners(server_);
    if (listeners) {
      GSocketAddress *local = g_socket_get_local_address(G_SOCKET(listeners->data), nullptr);
      if (local) {
        port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
        g_object_unref(local);
      }
    }
    g_slist_free(listeners);
  });
}

TestBridge::~TestBridge()
{
  thread_.invoke_sync([this]() {
    for (size_t i = 0; i < sockets_.size(); i++) {
      SoupWebsocketConnection *ws = sockets_[i];
      g_signal_handlers_disconnect_by_data(ws, conns_[i]);
      if (soup_websocket_connection_get_state(ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, nullptr);
      g_object_unref(ws);
      delete conns_[i];
    }
    sockets_.clear();
    conns_.clear();
    soup_server_disconnect(server_);
    g_clear_object(&server_);
  });
}

std::string TestBridge::ws_url() const
{
  return "ws://127.0.0.1:" + std::to_string(port_) + "/stream";
}

std::string TestBridge::http_url(const std::string &path) const
{
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void TestBridge::on_websocket(SoupServer *, SoupServerMessage *, const char *,
                              SoupWebsocketConnection *ws, gpointer data)
{
  auto *self = static_cast<TestBridge *>(data);
  g_object_ref(ws);
  auto *conn = new Conn{self, self->sockets_.size()};
  self->sockets_.push_back(ws);
  self->conns_.push_back(conn);
  {
    std::lock_guard<PiMutex> lock(self->mutex_);
    self->seen_.emplace_back();
  }
  self->changed_.notify_all();

  g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), conn);
  g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), conn);
}

void TestBridge::on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer d)
{
  auto *c = static_cast<Conn *>(d);
  gsize len = 0;
  const char *bytes = static_cast<const char *>(g_bytes_get_data(message, &len));
  BridgeFrame frame{g_get_monotonic_time(), type == SOUP_WEBSOCKET_DATA_BINARY,
                    std::string(bytes ? bytes : "", len), ""};
  if (!frame.binary)
    frame.event = inspect(ws, &c->stream_sid, frame.data, c->bridge->echo_media_);
  {
    std::lock_guard<PiMutex> lock(c->bridge->mutex_);
    c->bridge->seen_[c->index].frames.push_back(std::move(frame));
  }
  c->bridge->changed_.notify_all();
}

void TestBridge::on_ws_closed(SoupWebsocketConnection *ws, gpointer d)
{
  auto *c = static_cast<Conn *>(d);
  {
    std::lock_guard<PiMutex> lock(c->bridge->mutex_);
    auto &seen = c->bridge->seen_[c->index];
    seen.closed = true;
    seen.close_code = soup_websocket_connection_get_close_code(ws);
    seen.close_frame_received = seen.close_code != 0;
    seen.closed_us = g_get_monotonic_time();
  }
  c->bridge->changed_.notify_all();
}

void TestBridge::on_http(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                         gpointer data)
{
  auto *self = static_cast<TestBridge *>(data);
  HttpRequestSeen seen;
  seen.method = soup_server_message_get_method(msg);
  seen.path = path;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  const char *type = soup_message_headers_get_content_type(headers, nullptr);
  seen.content_type = type ? type : "";
  const char *signature = soup_message_headers_get_one(headers, "X-Twilio-Signature");
  seen.has_signature = signature != nullptr;
  seen.signature = signature ? signature : "";
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  GBytes *bytes = soup_message_body_flatten(body);
  gsize len = 0;
  const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &len));
  seen.body.assign(text ? text : "", len);
  g_bytes_unref(bytes);

  std::lock_guard<PiMutex> lock(self->mutex_);
  self->requests_.push_back(std::move(seen));
  soup_server_message_set_status(msg, self->reply_status_, nullptr);
  soup_server_message_set_response(msg, self->reply_type_.c_str(), SOUP_MEMORY_COPY,
                                   self->reply_body_.data(), self->reply_body_.size());
}

std::vector<BridgeConnection> TestBridge::connections() const
{
  std::lock_guard<PiMutex> lock(mutex_);
  return seen_;
}

std::vector<HttpRequestSeen> TestBridge::requests() const
{
  std::lock_guard<PiMutex> lock(mutex_);
  return requests_;
}

bool TestBridge::wait_for(
    const std::function<bool(const std::vector<BridgeConnection> &)> &predicate,
    guint timeout_ms) const
{
  std::unique_lock<PiMutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&]() { return predicate(seen_); });
}

void TestBridge::with_connection(size_t connection,
                                 std::function<void(SoupWebsocketConnection *)> fn)
{
  thread_.invoke_sync([this, connection, &fn]() {
    if (connection < sockets_.size() &&
        soup_websocket_connection_get_state(sockets_[connection]) == SOUP_WEBSOCKET_STATE_OPEN)
      fn(sockets_[connection]);
  });
}

void TestBridge::send_text(size_t connection, std::string text)
{
  with_connection(connection, [&](SoupWebsocketConnection *ws) {
    soup_websocket_connection_send_text(ws, text.c_str());
  });
}

void TestBridge::send_binary(size_t connection, std::vector<guint8> data)
{
  with_connection(connection, [&](SoupWebsocketConnection *ws) {
    soup_websocket_connection_send_binary(ws, data.data(), data.size());
  });
}

void TestBridge::close(size_t connection, gushort code)
{
  with_connection(connection, [&](SoupWebsocketConnection *ws) {
    soup_websocket_connection_close(ws, code, nullptr);
  });
}

void TestBridge::set_http_reply(guint status, std::string content_type, std::string body)
{
  std::lock_guard<PiMutex> lock(mutex_);
  reply_status_ = status;
  reply_type_ = std::move(content_type);
  reply_body_ = std::move(body);
}

std::string data_path(const std::string &name)
{
  return std::string(CLAWVOICE_TEST_DATA_DIR) + "/" + name;
}

}  // namespace clawvoice::test::twilio_emu
