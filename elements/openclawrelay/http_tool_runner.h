/* clawvoice — httptools' HTTP side: one call of an HTTP tool, on the shared network thread.
 *
 * The model's arguments go out as the JSON body (POST/PUT/PATCH) or as query parameters (GET); the
 * output handed back to the model is the response body when it is JSON, else {"ok":true,"text":…};
 * every failure is a JSON object {"ok":false,"error":"…"} the model can read out honestly (HTTP
 * status, refused connection, timeout, bad arguments). */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

#include "net/net_thread.h"
#include "openclawrelay/http_tool_set.h"

namespace clawvoice::openclawrelay {

class HttpToolRunner {
 public:
  explicit HttpToolRunner(std::shared_ptr<net::NetThread> net);
  ~HttpToolRunner();   /* cancels every call; no callback after it returns */
  HttpToolRunner(const HttpToolRunner &) = delete;
  HttpToolRunner &operator=(const HttpToolRunner &) = delete;

  /* Any thread, never blocks. @done runs once on the network thread with the output, unless the
   * call is cancelled first. */
  void call(const HttpToolDefinition &tool, const std::string &arguments_json,
      std::function<void(const std::string &output)> done);
  /* Any thread, never blocks: drops every call in flight (no output for them). */
  void cancel_all();
  /* Calls in flight. */
  guint in_flight() const;

  struct State;

 private:
  std::shared_ptr<net::NetThread> net_;
  std::shared_ptr<State> state_;
};

/* {"ok":false,"error":@message} */
std::string http_tool_error(const std::string &message);

}  // namespace clawvoice::openclawrelay
