#include "openai/rest_client.h"

#include <libsoup/soup.h>

#include <set>

#include "common/json.h"

namespace clawvoice::openai {

/* Network thread only. */
struct RestClient::State {
  std::string base_url;
  std::string api_key;
  unsigned timeout_s = 10;
  SoupSession *session = nullptr;
  std::set<GCancellable *> in_flight;
  bool alive = true;

  SoupSession *ensure_session()
  {
    if (!session)
      session = soup_session_new_with_options("timeout", timeout_s, "idle-timeout", 60, "max-conns-per-host", 16,
          "user-agent", "clawvoice/0.1", "proxy-resolver", nullptr, nullptr);
    return session;
  }
};

struct PendingPost {
  std::shared_ptr<RestClient::State> state;
  std::function<void(const RestAnswer &)> done;
  SoupMessage *message = nullptr;
  GCancellable *cancellable = nullptr;
  gint64 started_us = 0;
};

RestClient::RestClient(std::shared_ptr<net::NetThread> thread, std::string base_url, std::string api_key,
                       unsigned timeout_s)
    : thread_(std::move(thread)), base_url_(std::move(base_url)), state_(std::make_shared<State>())
{
  state_->base_url = base_url_;
  state_->api_key = std::move(api_key);
  state_->timeout_s = timeout_s;
}

RestClient::~RestClient()
{
  std::shared_ptr<State> state = state_;
  thread_->invoke_sync([state]() {
    state->alive = false;
    for (GCancellable *c : state->in_flight)
      g_cancellable_cancel(c);
  });
  /* The session goes once the cancelled requests have called back (they hold the state). */
  thread_->invoke([state]() mutable {
    if (state->in_flight.empty())
      g_clear_object(&state->session);
    state.reset();
  });
}

static std::string api_error_message(const std::string &body)
{
  json::ObjectPtr object = json::parse_object(body);
  if (object && json_object_has_member(object.get(), "error")) {
    JsonNode *error = json_object_get_member(object.get(), "error");
    if (JSON_NODE_HOLDS_OBJECT(error))
      return json::get_string(json_node_get_object(error), "message");
  }
  return "";
}

static void on_answered(GObject *source, GAsyncResult *result, gpointer data)
{
  auto *pending = static_cast<PendingPost *>(data);
  GError *error = nullptr;
  GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
  RestAnswer answer;
  answer.elapsed_ms = (double) (g_get_monotonic_time() - pending->started_us) / 1000.0;
  if (bytes) {
    gsize size = 0;
    const char *data_text = (const char *) g_bytes_get_data(bytes, &size);
    answer.body.assign(data_text ? data_text : "", size);
    answer.status = soup_message_get_status(pending->message);
    if (!answer.ok())
      answer.error = api_error_message(answer.body);
    if (answer.error.empty() && !answer.ok())
      answer.error = std::string("HTTP ") + std::to_string(answer.status);
    g_bytes_unref(bytes);
  } else {
    answer.error = error ? error->message : "no answer";
    g_clear_error(&error);
  }
  std::shared_ptr<RestClient::State> state = pending->state;
  state->in_flight.erase(pending->cancellable);
  if (state->alive && pending->done)
    pending->done(answer);
  if (!state->alive && state->in_flight.empty())
    g_clear_object(&state->session);
  g_object_unref(pending->message);
  g_object_unref(pending->cancellable);
  delete pending;
}

void RestClient::post(const std::string &path, const std::string &body, std::function<void(const RestAnswer &)> done)
{
  std::shared_ptr<State> state = state_;
  gint64 started_us = g_get_monotonic_time();
  thread_->invoke([state, path, body, done = std::move(done), started_us]() mutable {
    RestAnswer refused;
    if (!state->alive)
      return;
    std::string url = state->base_url + path;
    SoupMessage *message = soup_message_new(SOUP_METHOD_POST, url.c_str());
    if (!message) {
      refused.error = "not a valid URL: " + url;
      if (done)
        done(refused);
      return;
    }
    SoupMessageHeaders *headers = soup_message_get_request_headers(message);
    soup_message_headers_replace(headers, "Authorization", ("Bearer " + state->api_key).c_str());
    if (!body.empty()) {
      GBytes *bytes = g_bytes_new(body.data(), body.size());
      soup_message_set_request_body_from_bytes(message, "application/json", bytes);
      g_bytes_unref(bytes);
    }
    auto *pending = new PendingPost{state, std::move(done), message, g_cancellable_new(), started_us};
    state->in_flight.insert(pending->cancellable);
    soup_session_send_and_read_async(state->ensure_session(), message, G_PRIORITY_DEFAULT, pending->cancellable,
                                     on_answered, pending);
  });
}

void RestClient::preconnect()
{
  std::shared_ptr<State> state = state_;
  thread_->invoke([state]() {
    if (!state->alive)
      return;
    SoupMessage *message = soup_message_new(SOUP_METHOD_HEAD, state->base_url.c_str());
    if (!message)
      return;
    soup_session_preconnect_async(state->ensure_session(), message, G_PRIORITY_DEFAULT, nullptr, nullptr, nullptr);
    g_object_unref(message);
  });
}

}  // namespace clawvoice::openai
