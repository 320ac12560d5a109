#define G_LOG_DOMAIN "clawvoice-openclaw"

#include "openclaw/gateway_client.h"

#include <libsoup/soup.h>

#include <map>
#include <mutex>
#include <unordered_map>

#include "common/json.h"
#include "openclaw/sse_parser.h"

namespace clawvoice::openclaw {

namespace {

constexpr gsize kReadSize = 16 * 1024;
constexpr gsize kMaxErrorBody = 64 * 1024;   /* an error body is a short JSON object */
constexpr gsize kMaxDrainBytes = 64 * 1024;  /* after [DONE]: read to the end so the connection is reused */
constexpr guint kMaxConnections = 1024;      /* one connection per answer in flight */
/* Idle connections are dropped before the gateway drops them (Node's keepAliveTimeout is 5 s), so
 * a request never goes out on a connection the server is closing at that moment. */
constexpr guint kIdleTimeoutS = 4;

const char *const kRefusedPrefixes[] = {"subagent:", "cron:", "acp:"};

}  // namespace

const char *gateway_error_kind_name(GatewayErrorKind kind)
{
  switch (kind) {
    case GatewayErrorKind::Unauthorized: return "unauthorized";
    case GatewayErrorKind::RateLimited: return "rate-limited";
    case GatewayErrorKind::ServerError: return "server-error";
    case GatewayErrorKind::Refused: return "refused";
    case GatewayErrorKind::Timeout: return "timeout";
    case GatewayErrorKind::MalformedStream: return "malformed-stream";
    case GatewayErrorKind::BadRequest: return "bad-request";
    case GatewayErrorKind::Cancelled: return "cancelled";
  }
  return "unknown";
}

std::string session_key_problem(const std::string &session_key)
{
  if (session_key.empty())
    return "a session key is required (without one every turn starts a fresh session)";
  for (const char *prefix : kRefusedPrefixes)
    if (g_str_has_prefix(session_key.c_str(), prefix))
      return std::string("session keys starting with '") + prefix + "' are reserved by the gateway";
  return "";
}

std::string build_chat_body(const GatewayOptions &options, const ChatRequest &request)
{
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "model");
  json_builder_add_string_value(builder, "openclaw");   /* the agent rides in x-openclaw-agent-id */
  json_builder_set_member_name(builder, "stream");
  json_builder_add_boolean_value(builder, TRUE);
  json_builder_set_member_name(builder, "messages");
  json_builder_begin_array(builder);
  for (const ChatMessage &m : request.messages) {
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "role");
    json_builder_add_string_value(builder, m.role.c_str());
    json_builder_set_member_name(builder, "content");
    json_builder_add_string_value(builder, m.content.c_str());
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);
  json_builder_end_object(builder);
  JsonNode *root = json_builder_get_root(builder);
  std::string text = json::to_string(root);
  json_node_unref(root);
  g_object_unref(builder);
  return text;
}

/* ---- the network side ---------------------------------------------------------------------- */

namespace {

/* One HTTP exchange in flight; network thread only. */
struct Request {
  GatewayClient::RequestId id = 0;
  bool is_hook = false;
  ChatCallbacks callbacks;
  std::function<void(bool, const std::string &)> hook_done;
  gint64 started_us = 0;

  SoupMessage *msg = nullptr;
  gulong wrote_headers_handler = 0;
  GCancellable *cancellable = nullptr;
  GInputStream *body = nullptr;
  GSource *timeout = nullptr;
  bool timed_out = false;
  bool sent_reported = false;

  enum class Phase { Sending, ReadingError, Streaming, Draining, Over } phase = Phase::Sending;
  guint status = 0;
  int retry_after_s = -1;
  std::string error_body;
  gsize drained = 0;
  SseParser parser;
  std::string text;
  bool finished_by_chunk = false;   /* a chunk carried a finish_reason */
  std::vector<char> buffer = std::vector<char>(kReadSize);

  void stop_timeout()
  {
    if (timeout) {
      g_source_destroy(timeout);
      g_source_unref(timeout);
      timeout = nullptr;
    }
  }

  /* Frees the libsoup objects; cancelling first aborts the exchange (the server sees the close). */
  void release(bool abort)
  {
    stop_timeout();
    if (abort && cancellable)
      g_cancellable_cancel(cancellable);
    if (msg && wrote_headers_handler)
      g_signal_handler_disconnect(msg, wrote_headers_handler);
    wrote_headers_handler = 0;
    if (body && !abort) {
      /* Closing a body read to its end hands the connection back to the session's pool. */
      g_input_stream_close_async(body, G_PRIORITY_DEFAULT, nullptr,
          [](GObject *source, GAsyncResult *result, gpointer) {
            g_input_stream_close_finish(G_INPUT_STREAM(source), result, nullptr);
            g_object_unref(source);
          },
          nullptr);
      body = nullptr;
    }
    g_clear_object(&body);
    g_clear_object(&msg);
    g_clear_object(&cancellable);
    phase = Phase::Over;
  }

  ~Request() { release(true); }
};

}  // namespace

struct GatewayClient::State {
  GatewayOptions options;
  SoupSession *session = nullptr;   /* created on the network thread, on first use */

  /* Network thread only. */
  GatewayClient *owner = nullptr;   /* cleared by the destructor: no callback after that */
  std::map<RequestId, std::shared_ptr<Request>> requests;

  /* Any thread: the requests whose callbacks may still run, and whether cancel() was asked. */
  std::mutex lock;
  std::unordered_map<RequestId, bool> live;   /* id → cancelled */
  bool closed = false;

  GCancellable *preconnecting = nullptr;

  ~State()
  {
    g_clear_object(&preconnecting);
    g_clear_object(&session);
  }

  /* True if a callback of @id may run now (the client lives and nobody cancelled the request). */
  bool may_call(RequestId id)
  {
    std::lock_guard<std::mutex> guard(lock);
    if (closed)
      return false;
    auto it = live.find(id);
    return it != live.end() && !it->second;
  }

  /* The request's outcome is decided: no callback after this one. Returns may_call() before. */
  bool settle(Request &request)
  {
    bool allowed;
    {
      std::lock_guard<std::mutex> guard(lock);
      auto it = live.find(request.id);
      allowed = !closed && it != live.end() && !it->second;
      if (it == live.end())
        return false;   /* already settled (or the client is closing) */
      live.erase(it);
    }
    if (owner)
      owner->in_flight_.fetch_sub(1);
    return allowed;
  }

  SoupSession *ensure_session()
  {
    if (!session) {
      /* No I/O timeout: an agent may think for minutes between chunks (see connect_timeout_s). */
      session = soup_session_new_with_options("max-conns", kMaxConnections,
          "max-conns-per-host", kMaxConnections, "timeout", 0, "idle-timeout", kIdleTimeoutS,
          "user-agent", "clawvoice-openclaw/" "0.1", "proxy-resolver", nullptr, nullptr);
    }
    return session;
  }

  void finish_done(const std::shared_ptr<Request> &request);
  void finish_error(const std::shared_ptr<Request> &request, GatewayError error);
  void forget(const std::shared_ptr<Request> &request, bool abort);
  /* Reads the rest of a finished answer without waiting; true when the body has ended. */
  bool drain_now(Request &request);
};

namespace {

using State = GatewayClient::State;

/* What a libsoup async callback needs: both kept alive until it has run. */
struct Ctx {
  std::shared_ptr<State> state;
  std::shared_ptr<Request> request;
};

std::string error_message_of(const std::string &body, guint status)
{
  std::string message;
  if (json::ObjectPtr root = json::parse_object(body)) {
    if (JsonObject *error = json::get_object(root.get(), "error"))
      message = json::get_string(error, "message");
    else
      message = json::get_string(root.get(), "error");   /* hooks answer {"ok":false,"error":"…"} */
  }
  if (message.empty())
    message = soup_status_get_phrase(status) ? soup_status_get_phrase(status) : "";
  return "HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message);
}

GatewayError error_for_status(guint status, int retry_after_s, const std::string &body)
{
  GatewayError error;
  error.http_status = status;
  error.message = error_message_of(body, status);
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
    error.kind = GatewayErrorKind::Unauthorized;
  } else if (status == 429) {
    error.kind = GatewayErrorKind::RateLimited;
    error.retry_after_s = retry_after_s;
  } else if (status >= 500) {
    error.kind = GatewayErrorKind::ServerError;
  } else if (status >= 400) {
    error.kind = GatewayErrorKind::BadRequest;
  } else {
    error.kind = GatewayErrorKind::MalformedStream;
    error.message = "unexpected " + error.message;
  }
  return error;
}

/* Retry-After is delta-seconds or an HTTP date. */
int parse_retry_after(SoupMessageHeaders *headers)
{
  const char *value = soup_message_headers_get_one(headers, "Retry-After");
  if (!value)
    return -1;
  char *end = nullptr;
  guint64 seconds = g_ascii_strtoull(value, &end, 10);
  if (end != value && *end == '\0')
    return (int) MIN(seconds, (guint64) G_MAXINT);
  GDateTime *date = soup_date_time_new_from_http_string(value);
  if (!date)
    return -1;
  GDateTime *now = g_date_time_new_now_utc();
  gint64 delta = g_date_time_difference(date, now) / G_USEC_PER_SEC;
  g_date_time_unref(now);
  g_date_time_unref(date);
  return (int) CLAMP(delta, 0, G_MAXINT);
}

GatewayError transport_error(const GError *error)
{
  GatewayError out;
  out.message = error ? error->message : "connection failed";
  if (error && (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND) ||
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
                error->domain == G_RESOLVER_ERROR)) {
    out.kind = GatewayErrorKind::Refused;
  } else if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
    out.kind = GatewayErrorKind::Timeout;
  } else {
    /* Connected, then closed without an answer. */
    out.kind = GatewayErrorKind::ServerError;
    out.message = "the gateway closed the connection without answering: " + out.message;
  }
  return out;
}

void read_next(const std::shared_ptr<State> &state, const std::shared_ptr<Request> &request);

/* One `data:` payload of the answer stream. Returns false when it ended the request. */
bool handle_event(const std::shared_ptr<State> &state, const std::shared_ptr<Request> &request,
                  const SseEvent &event)
{
  if (event.data == "[DONE]") {
    state->finish_done(request);
    return false;
  }
  std::string parse_error;
  json::ObjectPtr chunk = json::parse_object(event.data, &parse_error);
  if (!chunk) {
    GatewayError error{GatewayErrorKind::MalformedStream, request->status, -1,
                       "a chunk of the answer stream is not a JSON object: " +
                           event.data.substr(0, 80)};
    state->finish_error(request, std::move(error));
    return false;
  }
  if (JsonObject *failure = json::get_object(chunk.get(), "error")) {
    GatewayError error{GatewayErrorKind::ServerError, request->status, -1,
                       "the gateway reported an error mid-stream: " +
                           json::get_string(failure, "message", "(no message)")};
    state->finish_error(request, std::move(error));
    return false;
  }
  JsonArray *choices = json::get_array(chunk.get(), "choices");
  if (!choices || json_array_get_length(choices) == 0)
    return true;   /* e.g. a usage-only chunk */
  JsonNode *first = json_array_get_element(choices, 0);
  JsonObject *choice = JSON_NODE_HOLDS_OBJECT(first) ? json_node_get_object(first) : nullptr;
  if (choice && !json::get_string(choice, "finish_reason").empty())
    request->finished_by_chunk = true;
  JsonObject *delta = choice ? json::get_object(choice, "delta") : nullptr;
  if (!delta)
    return true;
  std::string content = json::get_string(delta, "content");
  if (content.empty())
    return true;   /* the role chunk, or an empty delta */
  request->text += content;
  if (state->may_call(request->id) && request->callbacks.on_delta)
    request->callbacks.on_delta(content);
  /* The callback may have cancelled the request or destroyed the client. */
  return request->phase == Request::Phase::Streaming;
}

void on_read(GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Ctx> ctx(static_cast<Ctx *>(data));
  const std::shared_ptr<State> &state = ctx->state;
  const std::shared_ptr<Request> &request = ctx->request;
  GError *error = nullptr;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (request->phase == Request::Phase::Over) {
    g_clear_error(&error);
    return;   /* cancelled meanwhile */
  }
  if (n < 0) {
    std::string why = error ? error->message : "read failed";
    g_clear_error(&error);
    switch (request->phase) {
      case Request::Phase::Draining:
        state->forget(request, true);
        return;
      case Request::Phase::ReadingError:
        state->finish_error(request, error_for_status(request->status, request->retry_after_s,
                                                      request->error_body));
        return;
      default:
        state->finish_error(request,
            {GatewayErrorKind::MalformedStream, request->status, -1,
             "the answer stream was cut short after " + std::to_string(request->text.size()) +
                 " characters: " + why});
        return;
    }
  }
  if (n == 0) {
    switch (request->phase) {
      case Request::Phase::Draining:
        state->forget(request, false);
        return;
      case Request::Phase::ReadingError:
        state->finish_error(request, error_for_status(request->status, request->retry_after_s,
                                                      request->error_body));
        return;
      default:
        /* The end of the body without [DONE]. libsoup reads a connection dropped between two
         * chunks as a clean end of a chunked body (soup-body-input-stream.c returns 0 on EOF at a
         * chunk-size line), so "ended cleanly" cannot be known from HTTP: the answer counts as
         * whole only if a chunk closed it with a finish_reason. */
        if (request->finished_by_chunk) {
          state->finish_done(request);
          state->forget(request, false);
        } else {
          state->finish_error(request, {GatewayErrorKind::MalformedStream, request->status, -1,
                                        "the answer stream ended without [DONE] after " +
                                            std::to_string(request->text.size()) +
                                            " characters (connection dropped?)"});
        }
        return;
    }
  }
  std::string_view bytes(request->buffer.data(), (size_t) n);
  switch (request->phase) {
    case Request::Phase::ReadingError:
      if (request->error_body.size() < kMaxErrorBody)
        request->error_body.append(bytes.substr(0, kMaxErrorBody - request->error_body.size()));
      break;
    case Request::Phase::Draining:
      request->drained += (gsize) n;
      if (request->drained > kMaxDrainBytes) {
        state->forget(request, true);
        return;
      }
      break;
    case Request::Phase::Streaming: {
      bool ok = request->parser.feed(bytes, [&](const SseEvent &event) {
        if (!handle_event(state, request, event))
          request->parser.stop();
      });
      if (!ok) {
        state->finish_error(request, {GatewayErrorKind::MalformedStream, request->status, -1,
                                      request->parser.error()});
        return;
      }
      break;
    }
    default:
      break;
  }
  if (request->phase != Request::Phase::Over)
    read_next(state, request);
}

void read_next(const std::shared_ptr<State> &state, const std::shared_ptr<Request> &request)
{
  g_input_stream_read_async(request->body, request->buffer.data(), request->buffer.size(),
                            G_PRIORITY_DEFAULT, request->cancellable, on_read,
                            new Ctx{state, request});
}

void on_sent(GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Ctx> ctx(static_cast<Ctx *>(data));
  const std::shared_ptr<State> &state = ctx->state;
  const std::shared_ptr<Request> &request = ctx->request;
  GError *error = nullptr;
  GInputStream *body = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (request->phase == Request::Phase::Over) {
    g_clear_error(&error);
    g_clear_object(&body);
    return;
  }
  request->stop_timeout();
  if (!body) {
    GatewayError failure = transport_error(error);
    if (request->timed_out) {
      failure.kind = GatewayErrorKind::Timeout;
      failure.message = "no answer from the gateway within " +
                        std::to_string(state->options.connect_timeout_s) + " s";
    }
    g_clear_error(&error);
    state->finish_error(request, std::move(failure));
    return;
  }
  request->body = body;
  request->status = soup_message_get_status(request->msg);
  SoupMessageHeaders *headers = soup_message_get_response_headers(request->msg);
  if (request->status != SOUP_STATUS_OK) {
    request->retry_after_s = parse_retry_after(headers);
    request->phase = Request::Phase::ReadingError;
    read_next(state, request);
    return;
  }
  const char *type = soup_message_headers_get_content_type(headers, nullptr);
  if (!type || g_ascii_strcasecmp(type, "text/event-stream") != 0) {
    state->finish_error(request, {GatewayErrorKind::MalformedStream, request->status, -1,
                                  std::string("expected text/event-stream, got ") +
                                      (type ? type : "no content type")});
    return;
  }
  request->phase = Request::Phase::Streaming;
  read_next(state, request);
}

void on_hook_answered(GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Ctx> ctx(static_cast<Ctx *>(data));
  const std::shared_ptr<State> &state = ctx->state;
  const std::shared_ptr<Request> &request = ctx->request;
  GError *error = nullptr;
  GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
  if (request->phase == Request::Phase::Over) {
    g_clear_error(&error);
    if (bytes)
      g_bytes_unref(bytes);
    return;
  }
  bool ok = false;
  std::string detail;
  if (!bytes) {
    detail = request->timed_out ? "no answer from the gateway within " +
                                      std::to_string(state->options.connect_timeout_s) + " s"
                                : transport_error(error).message;
  } else {
    gsize size = 0;
    const char *text = static_cast<const char *>(g_bytes_get_data(bytes, &size));
    std::string body(text ? text : "", size);
    guint status = soup_message_get_status(request->msg);
    json::ObjectPtr root = json::parse_object(body);
    if (status == SOUP_STATUS_OK && root && json::get_bool(root.get(), "ok")) {
      ok = true;
      detail = json::get_string(root.get(), "runId");
    } else {
      detail = error_message_of(body, status);
    }
    g_bytes_unref(bytes);
  }
  g_clear_error(&error);
  bool allowed = state->settle(*request);
  auto done = std::move(request->hook_done);
  state->forget(request, false);
  if (allowed && done)
    done(ok, detail);
}

gboolean on_timeout(gpointer data)
{
  auto *request = static_cast<Request *>(data);
  request->timed_out = true;
  g_source_unref(request->timeout);
  request->timeout = nullptr;
  if (request->cancellable)
    g_cancellable_cancel(request->cancellable);
  return G_SOURCE_REMOVE;
}

/* libsoup opens a new connection for every POST unless told it may reuse one: a handshake
 * (a round trip, more over a tailnet) before the first byte of every question. Our requests may
 * share connections: a gateway that closes a connection does so while it is idle, and libsoup checks
 * that an idle connection is still open before it reuses it. */
void reuse_connections(SoupMessage *msg)
{
  soup_message_add_flags(msg, SOUP_MESSAGE_IDEMPOTENT);
}

/* Bounds the connection and the wait for the response headers; 0 = no bound. */
void start_timeout(Request &request, unsigned seconds)
{
  if (seconds == 0)
    return;
  request.timeout = g_timeout_source_new(seconds * 1000);
  g_source_set_callback(request.timeout, on_timeout, &request, nullptr);
  g_source_attach(request.timeout, g_main_context_get_thread_default());
}

}  // namespace

void State::finish_done(const std::shared_ptr<Request> &request)
{
  bool allowed = settle(*request);
  auto done = std::move(request->callbacks.on_done);
  request->callbacks = {};
  /* Read what is left (normally just the end of the body) so the connection goes back to the
   * pool — at once when it is already there, so that a request made from on_done reuses it. */
  request->phase = Request::Phase::Draining;
  if (drain_now(*request))
    forget(request, false);
  if (allowed && done)
    done(request->text);
}

bool State::drain_now(Request &request)
{
  if (!request.body || !G_IS_POLLABLE_INPUT_STREAM(request.body) ||
      !g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(request.body)))
    return false;
  while (request.drained <= kMaxDrainBytes) {
    GError *error = nullptr;
    gssize n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(request.body),
        request.buffer.data(), request.buffer.size(), nullptr, &error);
    if (n > 0) {
      request.drained += (gsize) n;
      continue;
    }
    bool would_block = n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    g_clear_error(&error);
    return !would_block;   /* the end (or a failure: the connection is not reusable anyway) */
  }
  return false;
}

void State::finish_error(const std::shared_ptr<Request> &request, GatewayError error)
{
  bool allowed = settle(*request);
  auto report = std::move(request->callbacks.on_error);
  request->callbacks = {};
  g_debug("request %" G_GUINT64_FORMAT " failed (%s): %s", request->id,
          gateway_error_kind_name(error.kind), error.message.c_str());
  forget(request, true);
  if (allowed && report)
    report(error);
}

void State::forget(const std::shared_ptr<Request> &request, bool abort)
{
  request->release(abort);
  requests.erase(request->id);
}

/* ---- the public side ---------------------------------------------------------------------- */

GatewayClient::GatewayClient(std::shared_ptr<net::NetThread> thread, GatewayOptions options)
    : thread_(std::move(thread)), state_(std::make_shared<State>())
{
  while (!options.base_url.empty() && options.base_url.back() == '/')
    options.base_url.pop_back();
  state_->options = std::move(options);
  state_->owner = this;
}

GatewayClient::~GatewayClient()
{
  std::shared_ptr<State> state = std::move(state_);
  {
    std::lock_guard<std::mutex> guard(state->lock);
    state->closed = true;
    state->live.clear();
  }
  /* On the network thread, so that no callback is half-way through while we detach. */
  thread_->invoke_sync([state]() {
    state->owner = nullptr;
    if (state->preconnecting)
      g_cancellable_cancel(state->preconnecting);
    auto requests = std::move(state->requests);
    for (auto &[id, request] : requests)
      request->release(true);
  });
  /* Pending libsoup callbacks hold the state; make sure it dies on the network thread. */
  thread_->invoke([state]() mutable { state.reset(); });
}

GatewayClient::RequestId GatewayClient::chat(ChatRequest request, ChatCallbacks callbacks)
{
  RequestId id = next_id_.fetch_add(1);
  gint64 started_us = g_get_monotonic_time();
  {
    std::lock_guard<std::mutex> guard(state_->lock);
    state_->live.emplace(id, false);
  }
  in_flight_.fetch_add(1);

  std::string problem = session_key_problem(request.session_key);
  bool has_user = false;
  for (const ChatMessage &m : request.messages)
    has_user = has_user || m.role == "user";
  if (problem.empty() && !has_user)
    problem = "the request has no user message (the last one is the turn)";

  std::string body = problem.empty() ? build_chat_body(state_->options, request) : "";
  std::shared_ptr<State> state = state_;
  thread_->invoke([state, id, started_us, problem, body = std::move(body),
                   session_key = std::move(request.session_key),
                   callbacks = std::move(callbacks)]() mutable {
    auto req = std::make_shared<Request>();
    req->id = id;
    req->callbacks = std::move(callbacks);
    req->started_us = started_us;
    if (!state->owner || !state->may_call(id)) {
      if (state->owner)
        state->settle(*req);
      return;   /* cancelled before it started */
    }
    if (!problem.empty()) {
      state->finish_error(req, {GatewayErrorKind::BadRequest, 0, -1, problem});
      return;
    }
    const GatewayOptions &options = state->options;
    std::string url = options.base_url + "/v1/chat/completions";
    req->msg = soup_message_new(SOUP_METHOD_POST, url.c_str());
    if (!req->msg) {
      state->finish_error(req, {GatewayErrorKind::BadRequest, 0, -1,
                                "not a valid gateway URL: " + options.base_url});
      return;
    }
    SoupMessageHeaders *headers = soup_message_get_request_headers(req->msg);
    soup_message_headers_replace(headers, "Authorization", ("Bearer " + options.token).c_str());
    soup_message_headers_replace(headers, "Accept", "text/event-stream");
    soup_message_headers_replace(headers, "x-openclaw-agent-id", options.agent_id.c_str());
    soup_message_headers_replace(headers, "x-openclaw-session-key", session_key.c_str());
    soup_message_headers_replace(headers, "x-openclaw-message-channel",
                                 options.message_channel.c_str());
    GBytes *bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(req->msg, "application/json", bytes);
    g_bytes_unref(bytes);
    reuse_connections(req->msg);

    /* The first byte handed to the socket: libsoup writes the headers first. */
    req->wrote_headers_handler = g_signal_connect_data(req->msg, "wrote-headers",
        G_CALLBACK(+[](SoupMessage *, gpointer data) {
          auto *ctx = static_cast<Ctx *>(data);
          Request &r = *ctx->request;
          if (r.sent_reported)
            return;   /* a restarted message writes its headers again */
          r.sent_reported = true;
          if (ctx->state->owner)
            ctx->state->owner->send_delay_.add(g_get_monotonic_time() - r.started_us);
          if (r.callbacks.on_request_sent && ctx->state->may_call(r.id)) {
            auto sent = r.callbacks.on_request_sent;   /* a copy: the callback may cancel */
            sent();
          }
        }),
        new Ctx{state, req}, [](gpointer data, GClosure *) { delete static_cast<Ctx *>(data); },
        (GConnectFlags) 0);

    req->cancellable = g_cancellable_new();
    start_timeout(*req, options.connect_timeout_s);
    state->requests[id] = req;
    g_debug("request %" G_GUINT64_FORMAT " -> %s (agent %s)", id, url.c_str(),
            options.agent_id.c_str());
    soup_session_send_async(state->ensure_session(), req->msg, G_PRIORITY_DEFAULT,
                            req->cancellable, on_sent, new Ctx{state, req});
  });
  return id;
}

void GatewayClient::cancel(RequestId id)
{
  if (!state_)
    return;
  {
    std::lock_guard<std::mutex> guard(state_->lock);
    auto it = state_->live.find(id);
    if (it == state_->live.end())
      return;
    it->second = true;
  }
  std::shared_ptr<State> state = state_;
  thread_->invoke([state, id]() {
    auto it = state->requests.find(id);
    if (it == state->requests.end())
      return;   /* not started yet: chat()'s closure sees the flag; or already over */
    std::shared_ptr<Request> request = it->second;
    state->settle(*request);
    state->forget(request, true);
  });
}

void GatewayClient::cancel_all()
{
  if (!state_)
    return;
  {
    std::lock_guard<std::mutex> guard(state_->lock);
    for (auto &[id, cancelled] : state_->live)
      cancelled = true;
  }
  std::shared_ptr<State> state = state_;
  thread_->invoke([state]() {
    auto requests = state->requests;
    for (auto &[id, request] : requests) {
      state->settle(*request);
      state->forget(request, true);
    }
  });
}

void GatewayClient::preconnect()
{
  std::shared_ptr<State> state = state_;
  thread_->invoke([state]() {
    if (!state->owner)
      return;
    SoupMessage *msg = soup_message_new(SOUP_METHOD_POST,
                                        (state->options.base_url + "/v1/chat/completions").c_str());
    if (!msg)
      return;
    if (!state->preconnecting)
      state->preconnecting = g_cancellable_new();
    soup_session_preconnect_async(state->ensure_session(), msg, G_PRIORITY_DEFAULT,
        state->preconnecting,
        [](GObject *source, GAsyncResult *result, gpointer) {
          soup_session_preconnect_finish(SOUP_SESSION(source), result, nullptr);
        },
        nullptr);
    g_object_unref(msg);
  });
}

void GatewayClient::post_agent_hook(const std::string &hooks_token, const std::string &message,
                                    const std::string &session_key,
                                    std::function<void(bool ok, const std::string &detail)> done)
{
  RequestId id = next_id_.fetch_add(1);
  {
    std::lock_guard<std::mutex> guard(state_->lock);
    state_->live.emplace(id, false);
  }
  in_flight_.fetch_add(1);

  JsonObject *object = json_object_new();
  json_object_set_string_member(object, "message", message.c_str());
  json_object_set_string_member(object, "name", "Voice");
  if (!session_key.empty())
    json_object_set_string_member(object, "sessionKey", session_key.c_str());
  std::string body = json::to_string(object);
  json_object_unref(object);

  std::shared_ptr<State> state = state_;
  thread_->invoke([state, id, hooks_token, body = std::move(body), done = std::move(done)]() mutable {
    auto req = std::make_shared<Request>();
    req->id = id;
    req->is_hook = true;
    req->hook_done = std::move(done);
    if (!state->owner || !state->may_call(id)) {
      if (state->owner)
        state->settle(*req);
      return;
    }
    std::string url = state->options.base_url + "/hooks/agent";
    req->msg = soup_message_new(SOUP_METHOD_POST, url.c_str());
    if (!req->msg) {
      bool allowed = state->settle(*req);
      if (allowed && req->hook_done)
        req->hook_done(false, "not a valid gateway URL: " + state->options.base_url);
      return;
    }
    SoupMessageHeaders *headers = soup_message_get_request_headers(req->msg);
    soup_message_headers_replace(headers, "Authorization", ("Bearer " + hooks_token).c_str());
    GBytes *bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(req->msg, "application/json", bytes);
    g_bytes_unref(bytes);
    reuse_connections(req->msg);
    req->cancellable = g_cancellable_new();
    start_timeout(*req, state->options.connect_timeout_s);
    state->requests[id] = req;
    soup_session_send_and_read_async(state->ensure_session(), req->msg, G_PRIORITY_DEFAULT,
                                     req->cancellable, on_hook_answered, new Ctx{state, req});
  });
}

}  // namespace clawvoice::openclaw
