#include "http_helpers.h"

#include <libsoup/soup.h>

namespace clawvoice::openai::test {

HttpReply http_request(const std::string &method, const std::string &url, const std::string &body,
                       const Headers &headers, guint timeout_s)
{
  HttpReply reply;
  GMainContext *context = g_main_context_new();
  g_main_context_push_thread_default(context);
  SoupSession *session = soup_session_new_with_options("timeout", timeout_s, "proxy-resolver", nullptr, nullptr);
  SoupMessage *message = soup_message_new(method.c_str(), url.c_str());
  if (!message) {
    reply.error = "bad URL " + url;
  } else {
    SoupMessageHeaders *request_headers = soup_message_get_request_headers(message);
    for (const auto &[name, value] : headers)
      soup_message_headers_replace(request_headers, name.c_str(), value.c_str());
    if (!body.empty()) {
      GBytes *bytes = g_bytes_new(body.data(), body.size());
      soup_message_set_request_body_from_bytes(message, "application/json", bytes);
      g_bytes_unref(bytes);
    }
    GError *error = nullptr;
    GBytes *answer = soup_session_send_and_read(session, message, nullptr, &error);
    if (answer) {
      gsize size = 0;
      const char *data = (const char *) g_bytes_get_data(answer, &size);
      reply.body.assign(data ? data : "", size);
      reply.status = soup_message_get_status(message);
      SoupMessageHeadersIter iter;
      const char *name, *value;
      soup_message_headers_iter_init(&iter, soup_message_get_response_headers(message));
      while (soup_message_headers_iter_next(&iter, &name, &value)) {
        g_autofree gchar *lower = g_ascii_strdown(name, -1);
        reply.headers[lower] = value;
      }
      g_bytes_unref(answer);
    } else {
      reply.error = error ? error->message : "no answer";
      g_clear_error(&error);
    }
    g_object_unref(message);
  }
  g_object_unref(session);
  while (g_main_context_iteration(context, FALSE)) {
  }
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
  return reply;
}

Headers bearer(const std::string &token)
{
  return {{"Authorization", "Bearer " + token}};
}

bool wait_until(const std::function<bool()> &done, int timeout_ms)
{
  gint64 end = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > end)
      return false;
    g_usleep(10 * 1000);
  }
  return true;
}

}  // namespace clawvoice::openai::test
