#include "relay_pipeline_support.h"

#include <gtest/gtest.h>
#include <libsoup/soup.h>

#include <condition_variable>

#include "clawvoice-contract.h"
#include "common/json.h"

namespace clawvoice::test {

struct CalendarServer::Impl {
  Options options;
  GMainContext *context = nullptr;
  GMainLoop *loop = nullptr;
  GThread *thread = nullptr;
  SoupServer *server = nullptr;
  unsigned port = 0;
  mutable std::mutex lock;
  std::vector<Request> requests;
  int events = 0;

  static void handle(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer data)
  {
    auto *self = static_cast<Impl *>(data);
    SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    Request r;
    r.method = soup_server_message_get_method(msg);
    r.path = path;
    GUri *uri = soup_server_message_get_uri(msg);
    r.query = g_uri_get_query(uri) ? g_uri_get_query(uri) : "";
    r.body = body->data ? std::string(body->data, body->length) : "";
    const char *auth = soup_message_headers_get_one(headers, "Authorization");
    r.authorization = auth ? auth : "";
    const char *type = soup_message_headers_get_content_type(headers, nullptr);
    r.content_type = type ? type : "";
    {
      std::lock_guard<std::mutex> guard(self->lock);
      self->requests.push_back(r);
    }

    unsigned status = 200;
    std::string answer;
    json::ObjectPtr args = json::parse_object(r.body);
    if (!self->options.bearer.empty() && r.authorization != "Bearer " + self->options.bearer) {
      status = 401;
      answer = R"({"ok":false,"error":"unauthorized"})";
    } else if (self->options.fail_status) {
      status = self->options.fail_status;
      answer = R"({"ok":false,"error":"the calendar is down"})";
    } else if (r.method == "POST" && !args) {
      status = 400;
      answer = R"({"ok":false,"error":"body must be a JSON object"})";
    } else if (r.path == "/calendar/find-slots") {
      std::string day = json::get_string(args.get(), "date", "2026-11-23");
      answer = R"({"ok":true,"slots":[{"start":")" + day + R"(T10:00","end":")" + day +
          R"(T10:30"},{"start":")" + day + R"(T14:00","end":")" + day + R"(T14:30"}]})";
    } else if (r.path == "/calendar/check-slot") {
      answer = R"({"ok":true,"free":)" + std::string(json::get_string(args.get(), "start").find("T10:00") !=
          std::string::npos ? "true" : "false") + "}";
    } else if (r.path == "/calendar/create-event") {
      std::lock_guard<std::mutex> guard(self->lock);
      answer = R"({"ok":true,"event_id":"evt-)" + std::to_string(++self->events) + R"("})";
    } else if (r.path == "/calendar/plain") {
      soup_server_message_set_status(msg, 200, nullptr);
      soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, "all good", 8);
      return;
    } else {
      status = 404;
      answer = R"({"ok":false,"error":"no such endpoint"})";
    }
    soup_server_message_set_status(msg, status, nullptr);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, answer.data(), answer.size());
    if (self->options.delay_ms) {
      soup_server_message_pause(msg);
      g_object_ref(msg);
      GSource *timer = g_timeout_source_new(self->options.delay_ms);
      g_source_set_callback(timer, [](gpointer m) -> gboolean {
        soup_server_message_unpause(SOUP_SERVER_MESSAGE(m));
        g_object_unref(m);
        return G_SOURCE_REMOVE;
      }, msg, nullptr);
      g_source_attach(timer, self->context);
      g_source_unref(timer);
    }
  }
};

CalendarServer::CalendarServer(Options options) : impl_(std::make_unique<Impl>())
{
  impl_->options = std::move(options);
  impl_->context = g_main_context_new();
  impl_->loop = g_main_loop_new(impl_->context, FALSE);
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  struct Start {
    Impl *impl;
    std::mutex *m;
    std::condition_variable *cv;
    bool *ready;
  } start{impl_.get(), &m, &cv, &ready};
  impl_->thread = g_thread_new("calendar-server", [](gpointer data) -> gpointer {
    auto *s = static_cast<Start *>(data);
    Impl *impl = s->impl;
    g_main_context_push_thread_default(impl->context);
    impl->server = soup_server_new(nullptr, nullptr);
    soup_server_add_handler(impl->server, "/", Impl::handle, impl, nullptr);
    GError *error = nullptr;
    if (soup_server_listen_local(impl->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error)) {
      GSList *uris = soup_server_get_uris(impl->server);
      impl->port = (unsigned) g_uri_get_port(static_cast<GUri *>(uris->data));
      g_slist_free_full(uris, (GDestroyNotify) g_uri_unref);
    } else {
      g_clear_error(&error);
    }
    {
      std::lock_guard<std::mutex> guard(*s->m);
      *s->ready = true;
      s->cv->notify_one();
    }
    g_main_loop_run(impl->loop);
    soup_server_disconnect(impl->server);
    g_clear_object(&impl->server);
    while (g_main_context_iteration(impl->context, FALSE)) {
    }
    g_main_context_pop_thread_default(impl->context);
    return nullptr;
  }, &start);
  std::unique_lock<std::mutex> guard(m);
  cv.wait(guard, [&] { return ready; });
  EXPECT_NE(impl_->port, 0u) << "the calendar server could not listen";
}

CalendarServer::~CalendarServer()
{
  GMainLoop *loop = impl_->loop;
  GSource *quit = g_idle_source_new();
  g_source_set_callback(quit, [](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop *>(l));
    return G_SOURCE_REMOVE;
  }, loop, nullptr);
  g_source_attach(quit, impl_->context);
  g_source_unref(quit);
  g_thread_join(impl_->thread);
  g_main_loop_unref(impl_->loop);
  g_main_context_unref(impl_->context);
}

std::string CalendarServer::url() const
{
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::vector<CalendarServer::Request> CalendarServer::requests() const
{
  std::lock_guard<std::mutex> guard(impl_->lock);
  return impl_->requests;
}

bool wait_for(const std::function<bool()> &predicate, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time() < deadline) {
    if (predicate())
      return true;
    g_usleep(10000);
  }
  return predicate();
}

GstBuffer *tool_call_buffer(const std::string &call_id, const std::string &name, const std::string &arguments)
{
  json::ObjectPtr o(json_object_new());
  json_object_set_string_member(o.get(), "call_id", call_id.c_str());
  json_object_set_string_member(o.get(), "name", name.c_str());
  json_object_set_string_member(o.get(), "arguments", arguments.c_str());
  std::string text = json::to_string(o.get());
  return gst_buffer_new_memdup(text.data(), text.size());
}

UpstreamEvent parse_upstream_event(GstEvent *event)
{
  UpstreamEvent e;
  e.at_us = g_get_monotonic_time();
  const GstStructure *s = gst_event_get_structure(event);
  if (!s)
    return e;
  e.name = gst_structure_get_name(s);
  auto str = [s](const char *field) {
    const gchar *v = gst_structure_get_string(s, field);
    return std::string(v ? v : "");
  };
  e.call_id = str("call-id");
  e.output = str("output");
  e.text = str("text");
  e.role = str("role");
  gboolean b = FALSE;
  if (gst_structure_get_boolean(s, "urgent", &b))
    e.urgent = b;
  if (gst_structure_get_boolean(s, "respond", &b))
    e.respond = b;
  return e;
}

}  // namespace clawvoice::test
