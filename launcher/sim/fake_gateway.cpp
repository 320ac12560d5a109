/* The fake OpenClaw gateway: the door (method, auth, rate limit, content type), the agent and
 * session it picks, and the answers it writes — streamed as the gateway streams them: SSE headers at
 * once, a role chunk with the first content, content chunks, `data: [DONE]`, and no final
 * finish_reason:"stop" chunk (older gateways never send one). */
#include "fake_gateway.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/json.h"

namespace clawvoice::sim {

static const char kChatPath[] = "/v1/chat/completions";
static const char kHookPath[] = "/hooks/agent";
static const char kGarbageFrame[] = "data: {\"choices\":[{\"delta\": this is not json\n\n";
static const char kDoneFrame[] = "data: [DONE]\n\n";

struct FakeGateway::Answer {
  FakeGateway *gateway = nullptr;
  SoupServerMessage *msg = nullptr;   /* our reference */
  size_t record = 0;
  bool stream = true;
  std::string run_id;
  std::string model;
  std::string session_key;
  std::string question;
  std::string text;                   /* the whole answer */
  std::vector<std::string> pieces;    /* its content chunks */
  size_t next = 0;
  unsigned interval_ms = 0;
  AgentFault fault;

  GSource *timer = nullptr;
  GSource *watch = nullptr;           /* the client closing its end */
  gulong finished_handler = 0;
  gulong wrote_chunk_handler = 0;
  int appended = 0;
  int written = 0;
  int done_chunk = -1;                /* 1-based number of the [DONE] chunk */
  bool drop_when_written = false;
  bool complete = false;              /* the whole response is in libsoup's hands */
  bool client_closed = false;
  bool dropped = false;

  void stop_sources()
  {
    for (GSource **source : {&timer, &watch}) {
      if (*source) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = nullptr;
      }
    }
  }
};

/* ---- small helpers ------------------------------------------------------------------------ */

static std::string trimmed(const char *value)
{
  if (!value)
    return "";
  g_autofree char *copy = g_strstrip(g_strdup(value));
  return copy;
}

static std::string header(SoupServerMessage *msg, const char *name)
{
  return trimmed(soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name));
}

static std::string bearer(SoupServerMessage *msg)
{
  std::string auth = header(msg, "Authorization");
  if (auth.size() > 7 && g_ascii_strncasecmp(auth.c_str(), "Bearer ", 7) == 0)
    return trimmed(auth.c_str() + 7);
  return "";
}

static HeaderList masked_headers(SoupServerMessage *msg)
{
  HeaderList list;
  SoupMessageHeadersIter iter;
  soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
  const char *name = nullptr;
  const char *value = nullptr;
  while (soup_message_headers_iter_next(&iter, &name, &value)) {
    std::string shown = value;
    if (g_ascii_strcasecmp(name, "Authorization") == 0) {
      const char *space = strchr(value, ' ');
      shown = space ? std::string(value, space - value) + " ***" : "***";
    } else if (g_ascii_strcasecmp(name, "x-openclaw-token") == 0) {
      shown = "***";
    }
    list.emplace_back(name, shown);
  }
  return list;
}

static std::string request_body(SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  GBytes *bytes = soup_message_body_flatten(body);
  gsize size = 0;
  const char *data = static_cast<const char *>(g_bytes_get_data(bytes, &size));
  std::string text(data ? data : "", size);
  g_bytes_unref(bytes);
  return text;
}

static void respond(SoupServerMessage *msg, unsigned status, const std::string &body,
                    const char *type = "application/json; charset=utf-8")
{
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
}

static bool is_json(SoupServerMessage *msg)
{
  const char *type = soup_message_headers_get_content_type(
      soup_server_message_get_request_headers(msg), nullptr);
  return type && g_ascii_strcasecmp(type, "application/json") == 0;
}

static std::string new_id(const char *prefix)
{
  g_autofree char *uuid = g_uuid_string_random();
  return std::string(prefix) + uuid;
}

/* "You asked: <question>. Here is the answer." — with the session's previous question, so a test
 * (or the demo) hears that the session remembers. */
static std::string default_answer(const AgentRequest &request)
{
  auto bare = [](std::string q) {
    while (!q.empty() && strchr(".?! ", q.back()))
      q.pop_back();
    return q;
  };
  std::string text = "You asked: " + bare(request.question) + ".";
  if (!request.history.empty())
    text += " Before that you asked: " + bare(request.history.back().question) + ".";
  return text + " Here is the answer.";
}

/* Splits @text into pieces of @chars characters (UTF-8 aware). */
static std::vector<std::string> split_chunks(const std::string &text, unsigned chars)
{
  std::vector<std::string> pieces;
  if (chars == 0 || !g_utf8_validate(text.data(), (gssize) text.size(), nullptr)) {
    if (!text.empty())
      pieces.push_back(text);
    return pieces;
  }
  const char *p = text.c_str();
  const char *end = p + text.size();
  while (p < end) {
    const char *q = p;
    for (unsigned i = 0; i < chars && q < end; i++)
      q = g_utf8_next_char(q);
    pieces.emplace_back(p, q - p);
    p = q;
  }
  return pieces;
}

/* One chunk: delta {@member: @value} (empty delta when @member is null); finish_reason null,
 * absent (the role chunk), or @finish. */
static std::string chunk_frame(const FakeGateway::Answer &a, const char *member,
                               const std::string &value, bool finish_null,
                               const char *finish = nullptr)
{
  JsonObject *delta = json_object_new();
  if (member)
    json_object_set_string_member(delta, member, value.c_str());
  JsonObject *choice = json_object_new();
  json_object_set_int_member(choice, "index", 0);
  json_object_set_object_member(choice, "delta", delta);
  if (finish)
    json_object_set_string_member(choice, "finish_reason", finish);
  else if (finish_null)
    json_object_set_null_member(choice, "finish_reason");
  JsonArray *choices = json_array_new();
  json_array_add_object_element(choices, choice);
  JsonObject *root = json_object_new();
  json_object_set_string_member(root, "id", a.run_id.c_str());
  json_object_set_string_member(root, "object", "chat.completion.chunk");
  json_object_set_int_member(root, "created", g_get_real_time() / G_USEC_PER_SEC);
  json_object_set_string_member(root, "model", a.model.c_str());
  json_object_set_array_member(root, "choices", choices);
  std::string text = "data: " + json::to_string(root) + "\n\n";
  json_object_unref(root);
  return text;
}

static std::string completion_body(const FakeGateway::Answer &a)
{
  JsonObject *message = json_object_new();
  json_object_set_string_member(message, "role", "assistant");
  json_object_set_string_member(message, "content", a.text.c_str());
  JsonObject *choice = json_object_new();
  json_object_set_int_member(choice, "index", 0);
  json_object_set_object_member(choice, "message", message);
  json_object_set_string_member(choice, "finish_reason", "stop");
  JsonArray *choices = json_array_new();
  json_array_add_object_element(choices, choice);
  JsonObject *usage = json_object_new();
  json_object_set_int_member(usage, "prompt_tokens", 0);
  json_object_set_int_member(usage, "completion_tokens", 0);
  json_object_set_int_member(usage, "total_tokens", 0);
  JsonObject *root = json_object_new();
  json_object_set_string_member(root, "id", a.run_id.c_str());
  json_object_set_string_member(root, "object", "chat.completion");
  json_object_set_int_member(root, "created", g_get_real_time() / G_USEC_PER_SEC);
  json_object_set_string_member(root, "model", a.model.c_str());
  json_object_set_array_member(root, "choices", choices);
  json_object_set_object_member(root, "usage", usage);
  std::string text = json::to_string(root);
  json_object_unref(root);
  return text;
}

/* ---- lifecycle and records ---------------------------------------------------------------- */

FakeGateway::FakeGateway(AgentOptions options) : options_(std::move(options))
{
  if (options_.agents.empty())
    options_.agents.push_back("main");
}

FakeGateway::~FakeGateway()
{
  shutdown();
}

void FakeGateway::attach(SoupServer *server, GMainContext *context)
{
  context_ = context;
  soup_server_add_handler(server, kChatPath, on_chat, this, nullptr);
  soup_server_add_handler(server, kHookPath, on_hook, this, nullptr);
}

void FakeGateway::shutdown()
{
  while (!answers_.empty()) {
    Answer *a = answers_.front().get();
    a->stop_sources();
    /* Close the connection under the answer so the client sees the end, then let libsoup go on. */
    if (GSocket *socket = soup_server_message_get_socket(a->msg))
      g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    if (!a->complete) {
      if (soup_server_message_get_status(a->msg) == 0)
        soup_server_message_set_status(a->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
      soup_message_body_complete(soup_server_message_get_response_body(a->msg));
      soup_server_message_unpause(a->msg);
    }
    finish_answer(a);
  }
}

std::vector<AgentRequestRecord> FakeGateway::requests() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return records_;
}

std::vector<AgentHookRecord> FakeGateway::hooks() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return hooks_;
}

std::vector<AgentTurn> FakeGateway::session(const std::string &session_key) const
{
  std::lock_guard<std::mutex> guard(lock_);
  auto it = sessions_.find(session_key);
  return it == sessions_.end() ? std::vector<AgentTurn>{} : it->second;
}

void FakeGateway::remember(const std::string &session_key, AgentTurn turn)
{
  std::lock_guard<std::mutex> guard(lock_);
  sessions_[session_key].push_back(std::move(turn));
}

void FakeGateway::update_record(size_t index,
                                const std::function<void(AgentRequestRecord &)> &change)
{
  std::lock_guard<std::mutex> guard(lock_);
  if (index < records_.size())
    change(records_[index]);
}

/* ---- the door ----------------------------------------------------------------------------- */

/* Counts failed authentications per client address; after max_auth_failures the address gets
 * 429 with Retry-After (whatever it presents) until lockout_s have passed, as the gateway's
 * auth rate limiter does. */
FakeGateway::Door FakeGateway::check_auth(SoupServerMessage *msg, const std::string &token,
                                          bool allow_any, bool token_header, int *retry_after_s)
{
  const char *host = soup_server_message_get_remote_host(msg);
  Failures &f = failures_[host ? host : "?"];
  gint64 now = g_get_monotonic_time();
  if (f.locked_until_us > now) {
    *retry_after_s = (int) ((f.locked_until_us - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
    return Door::RateLimited;
  }
  if (f.locked_until_us != 0)
    f = Failures{};
  std::string presented = bearer(msg);
  if (presented.empty() && token_header)
    presented = header(msg, "x-openclaw-token");
  if (!presented.empty() && (allow_any || presented == token)) {
    f.count = 0;
    return Door::Open;
  }
  if (++f.count >= options_.max_auth_failures)
    f.locked_until_us = now + (gint64) options_.lockout_s * G_USEC_PER_SEC;
  return Door::Unauthorized;
}

void FakeGateway::on_chat(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                          gpointer self)
{
  static_cast<FakeGateway *>(self)->handle_chat(msg, path);
}

void FakeGateway::on_hook(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                          gpointer self)
{
  static_cast<FakeGateway *>(self)->handle_hook(msg, path);
}

void FakeGateway::handle_chat(SoupServerMessage *msg, const char *path)
{
  AgentRequestRecord record;
  record.method = soup_server_message_get_method(msg);
  record.path = path;
  record.headers = masked_headers(msg);
  record.body = request_body(msg);
  record.received_us = g_get_monotonic_time();
  size_t index;
  {
    std::lock_guard<std::mutex> guard(lock_);
    record.number = (int) records_.size() + 1;
    records_.push_back(record);
    index = records_.size() - 1;
  }
  auto refuse = [&](unsigned status, const std::string &message, const std::string &body,
                    const char *type = "application/json; charset=utf-8") {
    respond(msg, status, body, type);
    update_record(index, [&](AgentRequestRecord &r) {
      r.status = status;
      r.error = message;
    });
  };

  if (strcmp(path, kChatPath) != 0) {
    refuse(SOUP_STATUS_NOT_FOUND, "Not Found", "Not Found", "text/plain; charset=utf-8");
    return;
  }
  if (record.method != "POST") {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
    refuse(SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed", "Method Not Allowed",
           "text/plain; charset=utf-8");
    return;
  }
  int retry_after_s = 0;
  switch (check_auth(msg, options_.token, options_.token.empty(), false, &retry_after_s)) {
    case Door::Open:
      break;
    case Door::Unauthorized:
      refuse(SOUP_STATUS_UNAUTHORIZED, "Unauthorized", gateway_status_body(401));
      return;
    case Door::RateLimited:
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   std::to_string(retry_after_s).c_str());
      refuse(429, "rate limited", gateway_status_body(429));
      return;
  }
  /* Chosen: 415 for a body that is not declared JSON (the gateway reads JSON only). */
  if (!is_json(msg)) {
    std::string message = "Content-Type must be application/json.";
    refuse(SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, message,
           gateway_error_body(message, "invalid_request_error"));
    return;
  }
  ChatCall call;
  GatewayRefusal refusal;
  AgentRequest request;
  if (!parse_chat_call(record.body, &call, &refusal) ||
      !resolve_agent(header(msg, "x-openclaw-agent-id"), call.model, options_.agents,
                     &request.agent_id, &refusal) ||
      !resolve_session(header(msg, "x-openclaw-session-key"), call.user, request.agent_id,
                       &request.session_key, &refusal)) {
    refuse(refusal.status, refusal.message, gateway_error_body(refusal.message, refusal.type));
    return;
  }
  request.index = accepted_++;
  request.message_channel = header(msg, "x-openclaw-message-channel");
  if (request.message_channel.empty())
    request.message_channel = "webchat";
  request.question = call.question;
  request.system_prompt = call.system_prompt;
  request.messages = call.messages;
  request.history = session(request.session_key);
  request.stream = call.stream;
  update_record(index, [&](AgentRequestRecord &r) {
    r.agent_id = request.agent_id;
    r.session_key = request.session_key;
    r.message_channel = request.message_channel;
    r.question = request.question;
    r.stream = request.stream;
  });

  AgentReply reply = reply_for(request);
  if (reply.fault.kind == AgentFault::Kind::HttpStatus) {
    unsigned status = reply.fault.status;
    std::string body = reply.fault.body.empty() ? gateway_status_body(status) : reply.fault.body;
    if (reply.fault.retry_after_s >= 0)
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   std::to_string(reply.fault.retry_after_s).c_str());
    refuse(status, "fault: HTTP " + std::to_string(status), body);
    return;
  }
  if (call.stream)
    start_answer(msg, index, call, request, reply);
  else
    answer_whole(msg, index, call, request, reply);
}

AgentReply FakeGateway::reply_for(const AgentRequest &request)
{
  AgentReply reply;
  if (options_.on_request) {
    reply = options_.on_request(request);
  } else {
    reply.first_chunk_delay_ms = options_.first_chunk_delay_ms;
    reply.chunk_interval_ms = options_.chunk_interval_ms;
    reply.text = options_.reply_text;
  }
  if (reply.text.empty())
    reply.text = default_answer(request);
  return reply;
}

/* ---- answers ------------------------------------------------------------------------------ */

static void append(FakeGateway::Answer *a, const std::string &frame)
{
  soup_message_body_append(soup_server_message_get_response_body(a->msg), SOUP_MEMORY_COPY,
                           frame.data(), frame.size());
  a->appended++;
}

static void complete_body(FakeGateway::Answer *a)
{
  soup_message_body_complete(soup_server_message_get_response_body(a->msg));
  a->complete = true;
}

/* The client's end closed while we still owe it an answer: a readable socket that has nothing to
 * read. (The client sends nothing more on this connection while it waits.) */
static gboolean on_client_socket(GSocket *socket, GIOCondition condition, gpointer data)
{
  auto *a = static_cast<FakeGateway::Answer *>(data);
  char byte;
  ssize_t n = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(condition & (G_IO_HUP | G_IO_ERR)))
    return G_SOURCE_CONTINUE;
  g_source_unref(a->watch);
  a->watch = nullptr;
  if (n > 0)
    return G_SOURCE_REMOVE;   /* a pipelined request: not our business */
  a->client_closed = true;
  if (a->timer) {
    g_source_destroy(a->timer);
    g_source_unref(a->timer);
    a->timer = nullptr;
  }
  /* Let libsoup write into the closed socket and finish the message. */
  if (!a->complete) {
    if (soup_server_message_get_status(a->msg) == 0)
      soup_server_message_set_status(a->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, nullptr);
    complete_body(a);
  }
  soup_server_message_unpause(a->msg);
  return G_SOURCE_REMOVE;
}

static void on_wrote_chunk(SoupServerMessage *msg, gpointer data)
{
  auto *a = static_cast<FakeGateway::Answer *>(data);
  a->written++;
  if (a->written == a->done_chunk) {
    gint64 now = g_get_monotonic_time();
    a->gateway->update_record(a->record, [now](AgentRequestRecord &r) { r.last_chunk_us = now; });
  }
  if (a->drop_when_written && a->written == a->appended) {
    a->drop_when_written = false;
    a->dropped = true;
    if (GSocket *socket = soup_server_message_get_socket(msg))
      g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    complete_body(a);
    soup_server_message_unpause(msg);
  }
}

void FakeGateway::on_timer_step(Answer *a)
{
  g_source_unref(a->timer);
  a->timer = nullptr;
  FakeGateway *self = a->gateway;
  if (!a->stream) {
    /* A plain chat.completion, all at once. */
    if (a->fault.kind == AgentFault::Kind::DropMidStream) {
      a->dropped = true;
      if (GSocket *socket = soup_server_message_get_socket(a->msg))
        g_socket_shutdown(socket, TRUE, TRUE, nullptr);
      respond(a->msg, SOUP_STATUS_OK, "");
    } else if (a->fault.kind == AgentFault::Kind::GarbageStream) {
      respond(a->msg, SOUP_STATUS_OK, "this is not json");
    } else {
      respond(a->msg, SOUP_STATUS_OK, completion_body(*a));
      self->remember(a->session_key, {a->question, a->text});
      std::string text = a->text;
      self->update_record(a->record, [text](AgentRequestRecord &r) {
        r.status = SOUP_STATUS_OK;
        r.answer = text;
      });
    }
    a->complete = true;
    soup_server_message_unpause(a->msg);
    return;
  }

  if (a->next == 0)
    append(a, chunk_frame(*a, "role", "assistant", false));
  if (a->next < a->pieces.size()) {
    const std::string &piece = a->pieces[a->next++];
    append(a, chunk_frame(*a, "content", piece, true));
    self->update_record(a->record, [&piece](AgentRequestRecord &r) { r.answer += piece; });
  }
  bool at_fault = a->next >= a->fault.after_chunks || a->next == a->pieces.size();
  if (a->fault.kind == AgentFault::Kind::GarbageStream && at_fault) {
    append(a, kGarbageFrame);
    append(a, kDoneFrame);
    a->done_chunk = a->appended;
    complete_body(a);
  } else if (a->fault.kind == AgentFault::Kind::DropMidStream && at_fault) {
    a->drop_when_written = true;
  } else if (a->next >= a->pieces.size()) {
    if (a->fault.kind == AgentFault::Kind::EndWithoutDone)
      append(a, chunk_frame(*a, nullptr, "", false, "stop"));
    else
      append(a, kDoneFrame);
    a->done_chunk = a->appended;
    complete_body(a);
    self->remember(a->session_key, {a->question, a->text});
  } else {
    a->timer = g_timeout_source_new(a->interval_ms);
    g_source_set_callback(a->timer, [](gpointer d) -> gboolean {
          on_timer_step(static_cast<Answer *>(d));
          return G_SOURCE_REMOVE;
        }, a, nullptr);
    g_source_attach(a->timer, self->context_);
  }
  soup_server_message_unpause(a->msg);
}

static void on_answer_finished(SoupServerMessage *msg, gpointer data)
{
  auto *a = static_cast<FakeGateway::Answer *>(data);
  bool completed = a->complete && !a->client_closed && !a->dropped && a->written >= a->done_chunk;
  bool client_closed = a->client_closed || (!a->dropped && !completed);
  a->gateway->update_record(a->record, [&](AgentRequestRecord &r) {
    r.completed = completed;
    r.client_closed = client_closed;
    if (r.status == 0)
      r.status = soup_server_message_get_status(msg);
  });
  a->gateway->finish_answer(a);
}

static FakeGateway::Answer *new_answer(FakeGateway *self, SoupServerMessage *msg, size_t record,
                                       const ChatCall &call, const AgentRequest &request,
                                       const AgentReply &reply)
{
  auto *a = new FakeGateway::Answer();
  a->gateway = self;
  a->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  a->record = record;
  a->stream = call.stream;
  a->run_id = new_id("chatcmpl_");
  a->model = call.model;
  a->session_key = request.session_key;
  a->question = request.question;
  a->text = reply.text;
  a->pieces = split_chunks(reply.text, reply.chunk_chars);
  a->interval_ms = reply.chunk_interval_ms;
  a->fault = reply.fault;
  a->finished_handler = g_signal_connect(msg, "finished", G_CALLBACK(on_answer_finished), a);
  a->wrote_chunk_handler = g_signal_connect(msg, "wrote-chunk", G_CALLBACK(on_wrote_chunk), a);
  if (GSocket *socket = soup_server_message_get_socket(msg)) {
    a->watch = g_socket_create_source(socket, (GIOCondition) (G_IO_IN | G_IO_HUP | G_IO_ERR),
                                      nullptr);
    g_source_set_callback(a->watch, (GSourceFunc) (void (*)()) on_client_socket, a, nullptr);
  }
  return a;
}

void FakeGateway::launch(Answer *a, unsigned delay_ms)
{
  answers_.emplace_back(a);
  if (a->watch)
    g_source_attach(a->watch, context_);
  soup_server_message_pause(a->msg);
  if (a->fault.kind == AgentFault::Kind::Hang)
    return;   /* no timer: it never answers */
  a->timer = g_timeout_source_new(delay_ms);
  g_source_set_callback(a->timer, [](gpointer d) -> gboolean {
        on_timer_step(static_cast<Answer *>(d));
        return G_SOURCE_REMOVE;
      }, a, nullptr);
  g_source_attach(a->timer, context_);
}

void FakeGateway::start_answer(SoupServerMessage *msg, size_t record, const ChatCall &call,
                               const AgentRequest &request, const AgentReply &reply)
{
  Answer *a = new_answer(this, msg, record, call, request, reply);
  if (reply.fault.kind != AgentFault::Kind::Hang) {
    /* The SSE headers go out at once, before the agent starts thinking. */
    soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
    soup_message_headers_replace(headers, "Content-Type", "text/event-stream; charset=utf-8");
    soup_message_headers_replace(headers, "Cache-Control", "no-cache");
    update_record(record, [](AgentRequestRecord &r) { r.status = SOUP_STATUS_OK; });
  }
  launch(a, reply.first_chunk_delay_ms);
  if (reply.fault.kind != AgentFault::Kind::Hang)
    soup_server_message_unpause(msg);   /* write the headers now; the body waits for its chunks */
}

void FakeGateway::answer_whole(SoupServerMessage *msg, size_t record, const ChatCall &call,
                               const AgentRequest &request, const AgentReply &reply)
{
  launch(new_answer(this, msg, record, call, request, reply), reply.first_chunk_delay_ms);
}

void FakeGateway::finish_answer(Answer *a)
{
  a->stop_sources();
  g_signal_handler_disconnect(a->msg, a->finished_handler);
  g_signal_handler_disconnect(a->msg, a->wrote_chunk_handler);
  g_clear_object(&a->msg);
  answers_.remove_if([a](const std::unique_ptr<Answer> &p) { return p.get() == a; });
}

/* ---- hooks -------------------------------------------------------------------------------- */

void FakeGateway::handle_hook(SoupServerMessage *msg, const char *path)
{
  AgentHookRecord record;
  record.headers = masked_headers(msg);
  record.body = request_body(msg);
  record.received_us = g_get_monotonic_time();
  auto answer = [&](unsigned status, const std::string &body, const char *type) {
    respond(msg, status, body, type);
    record.status = status;
    std::lock_guard<std::mutex> guard(lock_);
    hooks_.push_back(record);
  };
  const char *json_type = "application/json; charset=utf-8";
  /* Hooks are off unless a hooks token is configured (as on the gateway). */
  if (options_.hooks_token.empty() || strcmp(path, kHookPath) != 0) {
    answer(SOUP_STATUS_NOT_FOUND, "Not Found", "text/plain; charset=utf-8");
    return;
  }
  if (strcmp(soup_server_message_get_method(msg), "POST") != 0) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "POST");
    answer(SOUP_STATUS_METHOD_NOT_ALLOWED, "Method Not Allowed", "text/plain; charset=utf-8");
    return;
  }
  int retry_after_s = 0;
  switch (check_auth(msg, options_.hooks_token, false, true, &retry_after_s)) {
    case Door::Open:
      break;
    case Door::Unauthorized:
      answer(SOUP_STATUS_UNAUTHORIZED, gateway_status_body(401), json_type);
      return;
    case Door::RateLimited:
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   std::to_string(retry_after_s).c_str());
      answer(429, gateway_status_body(429), json_type);
      return;
  }
  if (!is_json(msg)) {
    answer(SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
           R"({"ok":false,"error":"Content-Type must be application/json"})", json_type);
    return;
  }
  json::ObjectPtr body = json::parse_object(record.body);
  if (!body) {
    answer(SOUP_STATUS_BAD_REQUEST, R"({"ok":false,"error":"body must be a JSON object"})",
           json_type);
    return;
  }
  std::optional<std::string> message = json::get_optional_string(body.get(), "message");
  if (!message || trimmed(message->c_str()).empty()) {
    answer(SOUP_STATUS_BAD_REQUEST, R"({"ok":false,"error":"message required"})", json_type);
    return;
  }
  record.message = *message;
  record.name = json::get_string(body.get(), "name", "Hook");
  record.session_key = json::get_string(body.get(), "sessionKey");
  record.run_id = new_id("");
  answer(SOUP_STATUS_OK, R"({"ok":true,"runId":")" + record.run_id + "\"}", json_type);
}

}  // namespace clawvoice::sim
