/* Twilio emulator self-tests — a small server that plays the bridge's part.
 *
 * A SoupServer on 127.0.0.1:0, on its own thread (an EmulatorThread used as a plain loop thread,
 * apart from the emulator's): WebSocket at /stream, records every frame with its arrival time and
 * lets a test send anything back; HTTP at /voice and /status, records the request and answers
 * with what the test set. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emulator_thread.h"
#include "pi_mutex.h"

namespace clawvoice::test::twilio_emu {

struct BridgeFrame {
  gint64 time_us;
  bool binary;
  std::string data;
  std::string event;   /* the JSON "event" member, "" if none */
};

struct BridgeConnection {
  std::vector<BridgeFrame> frames;
  size_t count(const std::string &event) const;
  bool closed = false;
  gushort close_code = 0;   /* as libsoup reports it on our side */
  bool close_frame_received = false;
  gint64 closed_us = 0;
};

struct HttpRequestSeen {
  std::string method;
  std::string path;
  std::string content_type;
  std::string signature;   /* X-Twilio-Signature, "" when absent */
  bool has_signature = false;
  std::string body;
};

class TestBridge {
 public:
  TestBridge();
  ~TestBridge();

  std::string ws_url() const;                        /* ws://127.0.0.1:PORT/stream */
  std::string http_url(const std::string &path) const;

  /* Copies of what was seen so far. */
  std::vector<BridgeConnection> connections() const;
  std::vector<HttpRequestSeen> requests() const;
  bool wait_for(const std::function<bool(const std::vector<BridgeConnection> &)> &predicate,
                guint timeout_ms) const;

  void send_text(size_t connection, std::string text);
  void send_binary(size_t connection, std::vector<guint8> data);
  void close(size_t connection, gushort code = SOUP_WEBSOCKET_CLOSE_NORMAL);
  /* Runs @fn on the bridge thread with the connection (to send several frames at one instant). */
  void with_connection(size_t connection, std::function<void(SoupWebsocketConnection *)> fn);

  void set_http_reply(guint status, std::string content_type, std::string body);
  /* A loopback bridge: every caller `media` frame is sent straight back as outbound media. */
  void set_echo_media(bool echo) { echo_media_ = echo; }

 private:
  struct Conn;
  static void on_websocket(SoupServer *, SoupServerMessage *, const char *,
                           SoupWebsocketConnection *, gpointer);
  static void on_ws_message(SoupWebsocketConnection *, gint, GBytes *, gpointer);
  static void on_ws_closed(SoupWebsocketConnection *, gpointer);
  static void on_http(SoupServer *, SoupServerMessage *, const char *, GHashTable *, gpointer);

  EmulatorThread thread_{"test-bridge"};
  SoupServer *server_ = nullptr;
  guint port_ = 0;
  std::atomic<bool> echo_media_{false};

  mutable PiMutex mutex_;
  mutable std::condition_variable_any changed_;
  std::vector<BridgeConnection> seen_;
  std::vector<SoupWebsocketConnection *> sockets_;   /* bridge thread only */
  std::vector<Conn *> conns_;                        /* bridge thread only */
  std::vector<HttpRequestSeen> requests_;
  guint reply_status_ = 200;
  std::string reply_type_ = "text/xml";
  std::string reply_body_ = "<Response/>";
};

/* Path of a file in tests/data. */
std::string data_path(const std::string &name);

}  // namespace clawvoice::test::twilio_emu
