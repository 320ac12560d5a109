/* A synchronous WebSocket client for the simulator tests: libsoup on a GMainContext of its own,
 * iterated by the test thread while it waits. Every server event it receives is checked against
 * the server-event schemas; the failures are kept for the fixture to assert on. */
#pragma once

#include "common/json.h"
#include "realtime/schema_validator.h"

#include <libsoup/soup.h>

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clawvoice::sim::test {

struct Event {
  std::string type;
  std::string text;
  json::ObjectPtr object;
  gint64 arrived_us = 0;   /* monotonic */
};

struct ConnectOptions {
  std::string api_key = "sk-test";   /* empty: no Authorization header */
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> protocols;
};

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(const WsClient &) = delete;
  WsClient &operator=(const WsClient &) = delete;

  bool connect(const std::string &url, const ConnectOptions &options = {}, int timeout_ms = 5000);
  guint http_status() const { return http_status_; }

  void send(const std::string &text);
  void send(JsonObject *event);
  void send_binary(const std::string &bytes);
  void close();

  /* The first event of @type at or after the cursor; moves the cursor past it. nullptr on
   * timeout. */
  const Event *wait_for(const std::string &type, int timeout_ms = 5000);
  bool wait_closed(int timeout_ms = 5000);
  void pump(int ms);   /* iterate the context for @ms */

  const std::deque<Event> &events() const { return events_; }
  std::vector<const Event *> of_type(const std::string &type) const;
  size_t cursor() const { return cursor_; }
  bool closed() const { return closed_; }
  gushort close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }
  const std::vector<std::string> &schema_failures() const { return schema_failures_; }

  /* GET over plain HTTP: status and body. */
  static std::pair<guint, std::string> http_get(const std::string &url,
                                                const std::string &api_key);

 private:
  static void on_connected(GObject *source, GAsyncResult *result, gpointer data);
  static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data);
  static void on_closed(SoupWebsocketConnection *conn, gpointer data);
  static std::optional<realtime::SchemaError> validate(JsonObject *event);
  void iterate_until(const std::function<bool()> &done, int timeout_ms);

  GMainContext *context_;
  SoupSession *session_;
  SoupWebsocketConnection *conn_ = nullptr;
  bool connecting_ = false;
  guint http_status_ = 0;
  std::deque<Event> events_;
  size_t cursor_ = 0;
  bool closed_ = false;
  gushort close_code_ = 0;
  std::string close_reason_;
  std::vector<std::string> schema_failures_;
};

}  // namespace clawvoice::sim::test
