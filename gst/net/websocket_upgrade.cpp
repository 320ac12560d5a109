#include "net/websocket_upgrade.h"

namespace clawvoice::net {

StolenWebSocket::StolenWebSocket(GIOStream *stream, GUri *uri, std::string origin, std::string protocol,
                                 GList *extensions)
    : stream_(stream), uri_(uri), origin_(std::move(origin)), protocol_(std::move(protocol)), extensions_(extensions)
{
}

StolenWebSocket::~StolenWebSocket()
{
  if (stream_) {
    g_io_stream_close(stream_, nullptr, nullptr);   /* never made a connection: nobody else will close it */
    g_object_unref(stream_);
  }
  if (uri_)
    g_uri_unref(uri_);
  g_list_free_full(extensions_, g_object_unref);
}

SoupWebsocketConnection *StolenWebSocket::connect()
{
  g_return_val_if_fail(stream_ != nullptr, nullptr);
  SoupWebsocketConnection *connection = soup_websocket_connection_new(stream_, uri_, SOUP_WEBSOCKET_CONNECTION_SERVER,
      origin_.empty() ? nullptr : origin_.c_str(), protocol_.empty() ? nullptr : protocol_.c_str(), extensions_);
  extensions_ = nullptr;   /* taken */
  g_clear_object(&stream_);
  g_clear_pointer(&uri_, g_uri_unref);
  return connection;
}

ClawvoiceWebSocket *StolenWebSocket::connect_own()
{
  g_return_val_if_fail(stream_ != nullptr, nullptr);
  g_return_val_if_fail(extensions_ == nullptr, nullptr);   /* we frame without any */
  ClawvoiceWebSocket *socket = web_socket_new_server(stream_);
  g_clear_object(&stream_);
  g_clear_pointer(&uri_, g_uri_unref);
  return socket;
}

namespace {
struct Upgrade {
  TakeWebSocket take;
  GList *extensions;   /* accepted at the handshake, until the 101 is written */
};

void free_upgrade(gpointer data, GClosure *)
{
  auto *upgrade = static_cast<Upgrade *>(data);
  g_list_free_full(upgrade->extensions, g_object_unref);
  delete upgrade;
}

void on_wrote_informational(SoupServerMessage *message, gpointer data)
{
  auto *upgrade = static_cast<Upgrade *>(data);
  if (soup_server_message_get_status(message) != SOUP_STATUS_SWITCHING_PROTOCOLS || !upgrade->take)
    return;
  const char *origin = soup_message_headers_get_one(soup_server_message_get_request_headers(message), "Origin");
  const char *protocol =
      soup_message_headers_get_one(soup_server_message_get_response_headers(message), "Sec-WebSocket-Protocol");
  GUri *uri = g_uri_ref(soup_server_message_get_uri(message));
  std::string origin_text = origin ? origin : "", protocol_text = protocol ? protocol : "";
  GIOStream *stream = soup_server_message_steal_connection(message);
  GList *extensions = upgrade->extensions;
  upgrade->extensions = nullptr;
  TakeWebSocket take = std::move(upgrade->take);
  take(std::make_unique<StolenWebSocket>(stream, uri, std::move(origin_text), std::move(protocol_text), extensions));
}
}  // namespace

bool upgrade_websocket(SoupServerMessage *message, const char *const *protocols, bool deflate, TakeWebSocket take)
{
  GPtrArray *supported = nullptr;
  if (deflate) {
    supported = g_ptr_array_new_with_free_func(g_type_class_unref);
    g_ptr_array_add(supported, g_type_class_ref(SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE));
  }
  GList *accepted = nullptr;
  gboolean ok = soup_websocket_server_process_handshake(message, nullptr, const_cast<char **>(protocols), supported,
                                                        supported ? &accepted : nullptr);
  if (supported)
    g_ptr_array_unref(supported);
  if (!ok)
    return false;
  g_signal_connect_data(message, "wrote-informational", G_CALLBACK(on_wrote_informational),
                        new Upgrade{std::move(take), accepted}, free_upgrade, (GConnectFlags) 0);
  return true;
}

}  // namespace clawvoice::net
