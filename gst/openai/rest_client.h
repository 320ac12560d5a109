/* clawvoice — a small client for OpenAI's REST endpoints beside the Realtime WebSocket: call
 * control (accept, reject, refer, hangup) and client secrets (see call_control.h for the bodies).
 *
 * One SoupSession on the shared network thread, connections kept alive between requests (a
 * webhook must be answered quickly, and the accept should not pay a TLS handshake each time).
 * post() may be called from any thread and never blocks; @done runs on the network thread.
 * The API key goes in the Authorization header only and is never logged or reported. */
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "net/net_thread.h"

namespace clawvoice::openai {

struct RestAnswer {
  unsigned status = 0;     /* 0: no HTTP answer (refused, timed out, cancelled) */
  std::string body;
  std::string error;       /* transport error or the API's error.message, for logs */
  double elapsed_ms = 0;   /* post() to answer */
  bool ok() const { return status >= 200 && status < 300; }
};

class RestClient {
 public:
  /* @base_url: "https://api.openai.com/v1" (see rest_base_of_realtime_url()). */
  RestClient(std::shared_ptr<net::NetThread> thread, std::string base_url, std::string api_key,
             unsigned timeout_s = 10);
  ~RestClient();   /* cancels what is in flight; no @done after it returns */
  RestClient(const RestClient &) = delete;
  RestClient &operator=(const RestClient &) = delete;

  /* POST @path (relative to the base, e.g. "/realtime/client_secrets") with a JSON @body ("" sends
   * no body). */
  void post(const std::string &path, const std::string &body, std::function<void(const RestAnswer &)> done);
  /* Opens a connection ahead of the first request (optional). */
  void preconnect();
  const std::string &base_url() const { return base_url_; }

  struct State;

 private:
  std::shared_ptr<net::NetThread> thread_;
  std::string base_url_;
  std::shared_ptr<State> state_;
};

}  // namespace clawvoice::openai
