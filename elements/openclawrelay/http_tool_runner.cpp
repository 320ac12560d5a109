#include "openclawrelay/http_tool_runner.h"

#include <libsoup/soup.h>

#include <map>
#include <mutex>

#include "common/json.h"

namespace clawvoice::openclawrelay {

namespace {

/* What the model gets of a response at most: tool outputs go into its context. */
constexpr gsize kMaxOutputBytes = 32 * 1024;

struct Call {
  guint64 id = 0;
  GCancellable *cancellable = nullptr;
  guint timer = 0;
  bool timed_out = false;
  guint timeout_ms = 0;
  std::function<void(const std::string &)> done;
  ~Call()
  {
    if (cancellable)
      g_object_unref(cancellable);
  }
};

std::string query_from(JsonObject *args)
{
  std::string query;
  if (!args)
    return query;
  g_autoptr(GList) members = json_object_get_members(args);
  for (GList *m = members; m; m = m->next) {
    const char *name = static_cast<const char *>(m->data);
    JsonNode *node = json_object_get_member(args, name);
    std::string value = JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
        ? json_node_get_string(node) : json::to_string(node);
    g_autofree gchar *k = g_uri_escape_string(name, nullptr, FALSE);
    g_autofree gchar *v = g_uri_escape_string(value.c_str(), nullptr, FALSE);
    query += (query.empty() ? "" : "&") + std::string(k) + "=" + v;
  }
  return query;
}

std::string output_from(guint status, const std::string &reason, GBytes *body)
{
  gsize size = 0;
  const char *data = body ? static_cast<const char *>(g_bytes_get_data(body, &size)) : nullptr;
  std::string text = data ? std::string(data, size) : "";
  if (!g_utf8_validate(text.c_str(), (gssize) text.size(), nullptr)) {
    g_autofree gchar *fixed = g_utf8_make_valid(text.c_str(), (gssize) text.size());
    text = fixed;
  }
  bool too_long = text.size() > kMaxOutputBytes;
  if (status < 200 || status >= 300) {
    std::string detail = "HTTP " + std::to_string(status) + " " + reason;
    json::ObjectPtr parsed = json::parse_object(text);
    std::string message = parsed ? json::get_string(parsed.get(), "error",
        json::get_string(json::get_object(parsed.get(), "error"), "message")) : "";
    if (!message.empty())
      detail += ": " + message;
    json::ObjectPtr o(json_object_new());
    json_object_set_boolean_member(o.get(), "ok", FALSE);
    json_object_set_string_member(o.get(), "error", detail.c_str());
    json_object_set_int_member(o.get(), "status", status);
    return json::to_string(o.get());
  }
  if (!too_long && json::parse(text))
    return text;   /* the service's own JSON answer, as is */
  if (too_long) {
    const gchar *end = g_utf8_find_prev_char(text.c_str(), text.c_str() + kMaxOutputBytes);
    text = text.substr(0, end ? (size_t) (end - text.c_str()) : kMaxOutputBytes);
  }
  json::ObjectPtr o(json_object_new());
  json_object_set_boolean_member(o.get(), "ok", TRUE);
  json_object_set_string_member(o.get(), "text", text.c_str());
  if (too_long)
    json_object_set_boolean_member(o.get(), "truncated", TRUE);
  return json::to_string(o.get());
}

}  // namespace

std::string http_tool_error(const std::string &message)
{
  json::ObjectPtr o(json_object_new());
  json_object_set_boolean_member(o.get(), "ok", FALSE);
  json_object_set_string_member(o.get(), "error", message.c_str());
  return json::to_string(o.get());
}

struct HttpToolRunner::State {
  std::shared_ptr<net::NetThread> net;
  SoupSession *session = nullptr;   /* network thread */
  mutable std::mutex lock;
  std::map<guint64, std::shared_ptr<Call>> calls;   /* guarded by lock; touched on the network thread */
  guint64 next_id = 1;
  bool closed = false;

  ~State()
  {
    if (session)
      g_object_unref(session);
  }

  /* Network thread: takes the call out (exactly once) and stops its timer. */
  std::shared_ptr<Call> take(guint64 id)
  {
    std::lock_guard<std::mutex> guard(lock);
    auto it = calls.find(id);
    if (it == calls.end())
      return nullptr;
    std::shared_ptr<Call> call = it->second;
    calls.erase(it);
    net->cancel_timer(call->timer);
    call->timer = 0;
    return call;
  }

  void cancel_everything()
  {
    std::map<guint64, std::shared_ptr<Call>> all;
    {
      std::lock_guard<std::mutex> guard(lock);
      all.swap(calls);
    }
    for (auto &[id, call] : all) {
      net->cancel_timer(call->timer);
      g_cancellable_cancel(call->cancellable);
    }
  }
};

HttpToolRunner::HttpToolRunner(std::shared_ptr<net::NetThread> net)
    : net_(std::move(net)), state_(std::make_shared<State>())
{
  state_->net = net_;
}

HttpToolRunner::~HttpToolRunner()
{
  std::shared_ptr<State> state = std::move(state_);
  net_->invoke_sync([state]() {
    {
      std::lock_guard<std::mutex> guard(state->lock);
      state->closed = true;
    }
    state->cancel_everything();
  });
  /* The soup session dies on the network thread, where it lives. */
  net_->invoke([state]() mutable { state.reset(); });
}

void HttpToolRunner::call(const HttpToolDefinition &tool, const std::string &arguments_json,
    std::function<void(const std::string &output)> done)
{
  auto call = std::make_shared<Call>();
  call->cancellable = g_cancellable_new();
  call->timeout_ms = tool.timeout_ms;
  call->done = std::move(done);
  {
    std::lock_guard<std::mutex> guard(state_->lock);
    if (state_->closed)
      return;
    call->id = state_->next_id++;
    state_->calls.emplace(call->id, call);
  }
  std::shared_ptr<State> state = state_;
  net_->invoke([state, call, tool, arguments_json]() {
    {
      std::lock_guard<std::mutex> guard(state->lock);
      if (!state->calls.count(call->id))
        return;   /* cancelled before it started */
    }
    auto finish = [state](guint64 id, const std::string &output) {
      std::shared_ptr<Call> c = state->take(id);
      if (c && c->done)
        c->done(output);
    };
    json::ObjectPtr args = json::parse_object(arguments_json.empty() ? "{}" : arguments_json);
    if (!args) {
      finish(call->id, http_tool_error("the arguments were not a JSON object"));
      return;
    }
    std::string url = tool.url;
    if (tool.method == "GET") {
      std::string query = query_from(args.get());
      if (!query.empty())
        url += (url.find('?') == std::string::npos ? "?" : "&") + query;
    }
    SoupMessage *msg = soup_message_new(tool.method.c_str(), url.c_str());
    if (!msg) {
      finish(call->id, http_tool_error("the tool's URL is not valid"));
      return;
    }
    SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
    for (const auto &[name, value] : tool.headers)
      soup_message_headers_replace(headers, name.c_str(), value.c_str());
    soup_message_headers_replace(headers, "Accept", "application/json");
    if (tool.method != "GET") {
      std::string body = json::to_string(args.get());
      GBytes *bytes = g_bytes_new(body.data(), body.size());
      soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
      g_bytes_unref(bytes);
    }
    if (!state->session)
      state->session = soup_session_new_with_options("timeout", 0, "idle-timeout", 30, nullptr);

    guint64 id = call->id;
    call->timer = state->net->add_timer(call->timeout_ms, [state, id]() {
      std::shared_ptr<Call> c;
      {
        std::lock_guard<std::mutex> guard(state->lock);
        auto it = state->calls.find(id);
        if (it == state->calls.end())
          return;
        c = it->second;
        c->timer = 0;   /* fired */
        c->timed_out = true;
      }
      g_cancellable_cancel(c->cancellable);   /* the read callback reports the timeout */
    });

    struct Pending {
      std::shared_ptr<State> state;
      std::shared_ptr<Call> call;
    };
    soup_session_send_and_read_async(state->session, msg, G_PRIORITY_DEFAULT, call->cancellable,
        [](GObject *source, GAsyncResult *result, gpointer data) {
          std::unique_ptr<Pending> pending(static_cast<Pending *>(data));
          GError *error = nullptr;
          GBytes *body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
          SoupMessage *m = soup_session_get_async_result_message(SOUP_SESSION(source), result);
          std::string output;
          if (body) {
            const char *reason = soup_message_get_reason_phrase(m);
            output = output_from(soup_message_get_status(m), reason ? reason : "", body);
            g_bytes_unref(body);
          } else if (pending->call->timed_out) {
            output = http_tool_error("no answer within " + std::to_string(pending->call->timeout_ms) + " ms");
          } else {
            output = http_tool_error(std::string("could not reach the service: ") +
                (error ? error->message : "unknown error"));
          }
          g_clear_error(&error);
          /* take() is empty when cancel_all() dropped it: no output then. */
          std::shared_ptr<Call> c = pending->state->take(pending->call->id);
          if (c && c->done)
            c->done(output);
        },
        new Pending{state, call});
    g_object_unref(msg);
  });
}

void HttpToolRunner::cancel_all()
{
  std::shared_ptr<State> state = state_;
  net_->invoke([state]() { state->cancel_everything(); });
}

guint HttpToolRunner::in_flight() const
{
  std::lock_guard<std::mutex> guard(state_->lock);
  return (guint) state_->calls.size();
}

}  // namespace clawvoice::openclawrelay
