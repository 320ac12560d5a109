#include "http_server.h"

#include "net/websocket_upgrade.h"

#include <json-glib/json-glib.h>

namespace clawvoice::launcher {

HttpServer::HttpServer(std::shared_ptr<net::NetThread> thread) : thread_(std::move(thread))
{
  thread_->invoke_sync([this]() {
    server_ = soup_server_new("server-header", "clawvoice-launcher", nullptr);
  });
}

HttpServer::~HttpServer()
{
  stop();
  thread_->invoke_sync([this]() { g_clear_object(&server_); });
}

bool HttpServer::listen(const ListenAddress &address, std::string *error)
{
  bool ok = false;
  thread_->invoke_sync([&]() {
    GInetAddress *inet = g_inet_address_new_from_string(address.host.c_str());
    if (!inet) {
      *error = "not an IP address: " + address.host;
      return;
    }
    GSocketAddress *socket_address = g_inet_socket_address_new(inet, address.port);
    g_object_unref(inet);
    GError *err = nullptr;
    ok = soup_server_listen(server_, socket_address, (SoupServerListenOptions) 0, &err);
    g_object_unref(socket_address);
    if (!ok) {
      *error = std::string("cannot listen on ") + address.to_string() + ": " + err->message;
      g_error_free(err);
      return;
    }
    GSList *uris = soup_server_get_uris(server_);
    if (uris)
      port_ = (guint16) g_uri_get_port((GUri *) uris->data);
    g_slist_free_full(uris, (GDestroyNotify) g_uri_unref);
  });
  return ok;
}

void HttpServer::add_handler(const std::string &path, Handler handler)
{
  auto *heap = new Handler(std::move(handler));
  thread_->invoke_sync([&]() {
    soup_server_add_handler(server_, path.c_str(),
        [](SoupServer *, SoupServerMessage *message, const char *p, GHashTable *, gpointer data) {
          (*static_cast<Handler *>(data))(message, p);
        },
        heap, [](gpointer data) { delete static_cast<Handler *>(data); });
  });
}

void HttpServer::add_websocket(const std::string &path, WebSocketHandler handler)
{
  auto *heap = new WebSocketHandler(std::move(handler));
  thread_->invoke_sync([&]() {
    soup_server_add_websocket_handler(server_, path.c_str(), nullptr, nullptr,
        [](SoupServer *, SoupServerMessage *message, const char *, SoupWebsocketConnection *connection,
           gpointer data) { (*static_cast<WebSocketHandler *>(data))(message, connection); },
        heap, [](gpointer data) { delete static_cast<WebSocketHandler *>(data); });
  });
}

void HttpServer::add_pooled_websocket(const std::string &path, PooledWebSocketHandler handler)
{
  auto shared = std::make_shared<PooledWebSocketHandler>(std::move(handler));
  add_handler(path, [shared](SoupServerMessage *message, const std::string &) {
    std::string peer = peer_of(message);
    net::upgrade_websocket(message, nullptr, false, [shared, peer](std::unique_ptr<net::StolenWebSocket> socket) {
      auto thread = net::NetThread::acquire_pooled();
      std::shared_ptr<net::StolenWebSocket> held(std::move(socket));
      thread->invoke([thread, shared, peer, held]() {
        ClawvoiceWebSocket *connection = held->connect_own();
        thread->mark(G_OBJECT(connection));
        (*shared)(thread, connection, peer);
        g_object_unref(connection);
      });
    });
  });
}

void HttpServer::stop()
{
  thread_->invoke_sync([this]() {
    if (server_)
      soup_server_disconnect(server_);
  });
}

void respond(SoupServerMessage *message, guint status, const std::string &content_type, const std::string &body)
{
  soup_server_message_set_status(message, status, nullptr);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_server_message_set_response(message, content_type.c_str(), SOUP_MEMORY_COPY, body.data(), body.size());
}

void respond_json(SoupServerMessage *message, guint status, const std::string &json)
{
  respond(message, status, "application/json", json);
}

void respond_error(SoupServerMessage *message, guint status, const std::string &text)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_add_string_value(b, text.c_str());
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  gchar *body = json_to_string(root, FALSE);
  respond_json(message, status, body);
  g_free(body);
  json_node_unref(root);
  g_object_unref(b);
}

std::string request_body(SoupServerMessage *message)
{
  SoupMessageBody *body = soup_server_message_get_request_body(message);
  GBytes *bytes = soup_message_body_flatten(body);
  gsize size = 0;
  const char *data = (const char *) g_bytes_get_data(bytes, &size);
  std::string out(data ? data : "", size);
  g_bytes_unref(bytes);
  return out;
}

std::string request_header(SoupServerMessage *message, const char *name)
{
  const char *value = soup_message_headers_get_one(soup_server_message_get_request_headers(message), name);
  return value ? value : "";
}

bool secrets_equal(const std::string &a, const std::string &b)
{
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); i++)
    diff |= (unsigned char) (a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

bool has_bearer(SoupServerMessage *message, const std::string &token)
{
  if (token.empty())
    return false;
  std::string header = request_header(message, "Authorization");
  const std::string prefix = "Bearer ";
  if (header.compare(0, prefix.size(), prefix) != 0)
    return false;
  return secrets_equal(header.substr(prefix.size()), token);
}

std::string peer_of(SoupServerMessage *message)
{
  GSocketAddress *address = soup_server_message_get_remote_address(message);
  if (!address || !G_IS_INET_SOCKET_ADDRESS(address))
    return "";
  GInetAddress *inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(address));
  gchar *ip = g_inet_address_to_string(inet);
  std::string out = std::string(ip) + ":" + std::to_string(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address)));
  g_free(ip);
  return out;
}

}  // namespace clawvoice::launcher
