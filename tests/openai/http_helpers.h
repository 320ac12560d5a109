/* Test helpers for the openai suite: blocking HTTP requests (libsoup on a context of the calling
 * thread) and polling with a deadline. */
#pragma once

#include <glib.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace clawvoice::openai::test {

struct HttpReply {
  guint status = 0;
  std::string body;
  std::map<std::string, std::string> headers;   /* lower-case names */
  std::string error;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/* @method "GET" / "POST" / "DELETE"; @body sent as application/json when not empty. */
HttpReply http_request(const std::string &method, const std::string &url, const std::string &body = "",
                       const Headers &headers = {}, guint timeout_s = 10);
Headers bearer(const std::string &token);

/* Polls @done every 10 ms for up to @timeout_ms. */
bool wait_until(const std::function<bool()> &done, int timeout_ms);

}  // namespace clawvoice::openai::test
