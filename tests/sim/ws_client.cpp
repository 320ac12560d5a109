#include "ws_client.h"

#include "realtime/schema_validator.h"

#include <functional>
#include <optional>

namespace clawvoice::sim::test {

WsClient::WsClient() : context_(g_main_context_new())
{
  g_main_context_push_thread_default(context_);
  session_ = soup_session_new();
  g_main_context_pop_thread_default(context_);
}

WsClient::~WsClient()
{
  g_main_context_push_thread_default(context_);
  if (conn_) {
    g_signal_handlers_disconnect_by_data(conn_, this);
    if (soup_websocket_connection_get_state(conn_) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(conn_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
    g_object_unref(conn_);
  }
  g_object_unref(session_);
  while (g_main_context_iteration(context_, FALSE)) {
  }
  g_main_context_pop_thread_default(context_);
  g_main_context_unref(context_);
}

void WsClient::iterate_until(const std::function<bool()> &done, int timeout_ms)
{
  g_main_context_push_thread_default(context_);
  const gint64 end = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (g_main_context_iteration(context_, FALSE)) {
  }
  while (!done() && g_get_monotonic_time() < end) {
    if (!g_main_context_iteration(context_, FALSE))
      g_usleep(500);
  }
  g_main_context_pop_thread_default(context_);
}

void WsClient::pump(int ms)
{
  iterate_until([] { return false; }, ms);
}

bool WsClient::connect(const std::string &url, const ConnectOptions &options, int timeout_ms)
{
  g_main_context_push_thread_default(context_);
  SoupMessage *msg = soup_message_new("GET", url.c_str());
  SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
  if (!options.api_key.empty())
    soup_message_headers_replace(headers, "Authorization", ("Bearer " + options.api_key).c_str());
  for (auto &h : options.headers)
    soup_message_headers_replace(headers, h.first.c_str(), h.second.c_str());
  std::vector<char *> protocols;
  for (auto &p : options.protocols)
    protocols.push_back((char *) p.c_str());
  protocols.push_back(nullptr);
  connecting_ = true;
  soup_session_websocket_connect_async(session_, msg, nullptr,
                                       options.protocols.empty() ? nullptr : protocols.data(),
                                       G_PRIORITY_DEFAULT, nullptr, on_connected, this);
  g_main_context_pop_thread_default(context_);
  iterate_until([this] { return !connecting_; }, timeout_ms);
  http_status_ = soup_message_get_status(msg);
  g_object_unref(msg);
  return conn_ != nullptr;
}

void WsClient::on_connected(GObject *source, GAsyncResult *result, gpointer data)
{
  auto *self = static_cast<WsClient *>(data);
  self->connecting_ = false;
  self->conn_ = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, nullptr);
  if (!self->conn_)
    return;
  soup_websocket_connection_set_max_incoming_payload_size(self->conn_, 0);
  g_signal_connect(self->conn_, "message", G_CALLBACK(on_message), self);
  g_signal_connect(self->conn_, "closed", G_CALLBACK(on_closed), self);
}

void WsClient::on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  auto *self = static_cast<WsClient *>(data);
  gsize size = 0;
  const char *bytes = (const char *) g_bytes_get_data(message, &size);
  Event e;
  e.text.assign(bytes ? bytes : "", size);
  e.arrived_us = g_get_monotonic_time();
  e.object = json::parse_object(e.text);
  e.type = json::get_string(e.object.get(), "type");
  if (!e.object)
    self->schema_failures_.push_back("not a JSON object: " + e.text.substr(0, 200));
  else if (auto err = validate(e.object.get()))
    self->schema_failures_.push_back(e.type + ": " + err->code + " " + err->message + " [" +
                                     err->param + "]");
  self->events_.push_back(std::move(e));
}

/* Every server event against the published schemas (the validator checks session.created/updated's
 * session as the response shape the service really sends). */
std::optional<realtime::SchemaError> WsClient::validate(JsonObject *event)
{
  return realtime::SchemaValidator::instance().validate_server_event(event);
}

void WsClient::on_closed(SoupWebsocketConnection *conn, gpointer data)
{
  auto *self = static_cast<WsClient *>(data);
  self->closed_ = true;
  self->close_code_ = soup_websocket_connection_get_close_code(conn);
  const char *reason = soup_websocket_connection_get_close_data(conn);
  self->close_reason_ = reason ? reason : "";
}

void WsClient::send(const std::string &text)
{
  if (conn_ && soup_websocket_connection_get_state(conn_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(conn_, text.c_str());
}

void WsClient::send(JsonObject *event)
{
  send(json::to_string(event));
}

void WsClient::send_binary(const std::string &bytes)
{
  if (conn_)
    soup_websocket_connection_send_binary(conn_, bytes.data(), bytes.size());
}

void WsClient::close()
{
  if (conn_ && soup_websocket_connection_get_state(conn_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(conn_, SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
  wait_closed(2000);
}

const Event *WsClient::wait_for(const std::string &type, int timeout_ms)
{
  const Event *found = nullptr;
  iterate_until(
      [&] {
        for (size_t i = cursor_; i < events_.size(); i++) {
          if (events_[i].type == type) {
            found = &events_[i];
            cursor_ = i + 1;
            return true;
          }
        }
        return false;
      },
      timeout_ms);
  return found;
}

bool WsClient::wait_closed(int timeout_ms)
{
  iterate_until([this] { return closed_; }, timeout_ms);
  return closed_;
}

std::vector<const Event *> WsClient::of_type(const std::string &type) const
{
  std::vector<const Event *> out;
  for (auto &e : events_)
    if (e.type == type)
      out.push_back(&e);
  return out;
}

std::pair<guint, std::string> WsClient::http_get(const std::string &url, const std::string &api_key)
{
  GMainContext *context = g_main_context_new();
  g_main_context_push_thread_default(context);
  SoupSession *session = soup_session_new();
  SoupMessage *msg = soup_message_new("GET", url.c_str());
  if (!api_key.empty())
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                 ("Bearer " + api_key).c_str());
  GBytes *body = soup_session_send_and_read(session, msg, nullptr, nullptr);
  std::pair<guint, std::string> result{soup_message_get_status(msg), ""};
  if (body) {
    gsize size = 0;
    const char *data = (const char *) g_bytes_get_data(body, &size);
    result.second.assign(data ? data : "", size);
    g_bytes_unref(body);
  }
  g_object_unref(msg);
  g_object_unref(session);
  while (g_main_context_iteration(context, FALSE)) {
  }
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
  return result;
}

}  // namespace clawvoice::sim::test
