#include "routes/openai_compat_route.h"

#include "common/json.h"
#include "json_log.h"
#include "openai/random_token.h"
#include "openai/speech_chunker.h"
#include "routes/openai_agent_tasks.h"

namespace clawvoice::launcher {

static constexpr size_t kMaxBodyBytes = 1 << 20;

std::string openai_error_json(const std::string &message, const std::string &type, const std::string &code,
                              const std::string &param)
{
  json::ObjectPtr error(json_object_new());
  json_object_set_string_member(error.get(), "message", message.c_str());
  json_object_set_string_member(error.get(), "type", type.c_str());
  if (param.empty())
    json_object_set_null_member(error.get(), "param");
  else
    json_object_set_string_member(error.get(), "param", param.c_str());
  if (code.empty())
    json_object_set_null_member(error.get(), "code");
  else
    json_object_set_string_member(error.get(), "code", code.c_str());
  json::ObjectPtr body(json_object_new());
  json_object_set_object_member(body.get(), "error", error.release());
  return json::to_string(body.get());
}

/* One request being answered; network thread only. Held by the gateway callbacks, the filler
 * timer and the message's "finished" handler; whichever is last frees it. */
struct OpenAICompatRoute::Exchange {
  OpenAICompatRoute *route = nullptr;
  std::shared_ptr<bool> alive;
  SoupServerMessage *message = nullptr;
  gulong finished_handler = 0;
  bool stream = false;
  std::string id;
  std::string model;
  gint64 created = 0;
  gint64 started_us = 0;
  gint64 first_content_us = 0;
  std::string peer;
  int token = -1;
  size_t question_chars = 0;
  openclaw::GatewayClient::RequestId request = 0;
  guint filler_timer = 0;
  bool filler_sent = false;
  bool done = false;          /* the answer is complete (or failed) on our side */
  bool client_gone = false;   /* libsoup finished the message (sent, or the client left) */
  openai::SpeechChunker chunker;
  std::string spoken;         /* everything sent as content */

  ~Exchange()
  {
    if (message)
      g_object_unref(message);
  }

  std::string chunk(const char *delta_json, const char *finish_reason) const
  {
    std::string out = "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" +
                      std::to_string(created) + ",\"model\":" + json_quote(model) +
                      ",\"choices\":[{\"index\":0,\"delta\":" + delta_json + ",\"logprobs\":null,\"finish_reason\":" +
                      (finish_reason ? "\"" + std::string(finish_reason) + "\"" : "null") + "}]}";
    return "data: " + out + "\n\n";
  }
  static std::string json_quote(const std::string &text)
  {
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(node, text.c_str());
    std::string out = json::to_string(node);
    json_node_unref(node);
    return out;
  }
  void write(const std::string &frame)
  {
    if (client_gone)
      return;
    soup_message_body_append(soup_server_message_get_response_body(message), SOUP_MEMORY_COPY, frame.data(),
                             frame.size());
    soup_server_message_unpause(message);
  }
  void send_content(const std::string &text)
  {
    if (text.empty())
      return;
    if (!first_content_us)
      first_content_us = g_get_monotonic_time();
    spoken += text;
    if (stream)
      write(chunk(("{\"content\":" + json_quote(text) + "}").c_str(), nullptr));
  }
  void cancel_filler()
  {
    if (filler_timer)
      route->server_.thread()->cancel_timer(filler_timer);
    filler_timer = 0;
  }
};

OpenAICompatRoute::OpenAICompatRoute(const RouteContext &context)
    : config_(context.config), route_(context.route), server_(context.server), limiter_(context.route.rate_limit_per_minute)
{
  openclaw::GatewayOptions options;
  options.base_url = context.agent.url;
  options.token = context.agent.token;
  options.agent_id = context.agent.agent_id;
  options.message_channel = "voice";
  client_ = std::make_unique<openclaw::GatewayClient>(context.server.thread(), options);
}

OpenAICompatRoute::~OpenAICompatRoute()
{
  server_.thread()->invoke_sync([this]() { *alive_ = false; });
  client_.reset();
}

bool OpenAICompatRoute::install(std::string *error)
{
  (void) error;
  server_.add_handler("/v1/chat/completions", [this](SoupServerMessage *m, const std::string &p) { on_completions(m, p); });
  server_.add_handler("/v1/models", [this](SoupServerMessage *m, const std::string &p) { on_models(m, p); });
  client_->preconnect();
  return true;
}

std::vector<std::string> OpenAICompatRoute::banner() const
{
  /* Printed only by the embedded default, whose token is made up for the demo (docs/config.md). */
  std::string key = route_.bearer_tokens.empty() ? "" : "   (demo API key: " + route_.bearer_tokens.front() + ")";
  return {"OpenAI-compatible: " + config_.public_url + "/v1/chat/completions" + key};
}

static void respond_openai_error(SoupServerMessage *message, guint status, const std::string &text,
                                 const std::string &type, const std::string &code, const std::string &param = "")
{
  respond_json(message, status, openai_error_json(text, type, code, param));
}

static void audit(const std::string &peer, int token, bool stream, guint status, size_t question_chars,
                  double first_content_ms, double total_ms, bool filler, const std::string &error)
{
  log_event(status < 400 ? LogLevel::Info : LogLevel::Warning, "openai_compat.request",
            {{"peer", peer}, {"token", token >= 0 ? "#" + std::to_string(token) : std::string("none")},
             {"stream", stream}, {"status", status}, {"question_chars", (long long) question_chars},
             {"first_content_ms", first_content_ms}, {"total_ms", total_ms}, {"filler", filler}, {"error", error}});
}

int OpenAICompatRoute::admit(SoupServerMessage *message, const std::string &peer)
{
  std::string address = address_of_peer(peer);
  int retry = failures_.locked_for(address);
  int token = retry ? -1 : matching_bearer(message, route_.bearer_tokens);
  if (!retry && token < 0) {
    bool locked = failures_.failed(address);
    audit(peer, -1, false, SOUP_STATUS_UNAUTHORIZED, 0, 0, 0, false, "bad or missing bearer token");
    if (!locked) {
      /* Never echo what was sent: OpenAI quotes part of a wrong key, we do not. */
      respond_openai_error(message, SOUP_STATUS_UNAUTHORIZED, "Incorrect API key provided.", "invalid_request_error",
                           "invalid_api_key");
      return -1;
    }
    retry = failures_.locked_for(address);
  }
  if (!retry && limiter_.allow("token#" + std::to_string(token), &retry))
    return token;
  soup_message_headers_replace(soup_server_message_get_response_headers(message), "Retry-After",
                               std::to_string(retry).c_str());
  audit(peer, token, false, 429, 0, 0, 0, false, "rate limited");
  respond_openai_error(message, 429,
                       "Rate limit reached for requests. Please try again in " + std::to_string(retry) + "s.",
                       "requests", "rate_limit_exceeded");
  return -1;
}

void OpenAICompatRoute::on_models(SoupServerMessage *message, const std::string &path)
{
  std::string peer = peer_of(message);
  if (admit(message, peer) < 0)
    return;
  const std::string one = "/v1/models/" + route_.compat_model;
  json::ObjectPtr model(json_object_new());
  json_object_set_string_member(model.get(), "id", route_.compat_model.c_str());
  json_object_set_string_member(model.get(), "object", "model");
  json_object_set_int_member(model.get(), "created", 0);
  json_object_set_string_member(model.get(), "owned_by", "clawvoice");
  if (path == one) {
    respond_json(message, SOUP_STATUS_OK, json::to_string(model.get()));
    return;
  }
  if (path != "/v1/models") {
    respond_openai_error(message, SOUP_STATUS_NOT_FOUND, "The model does not exist.", "invalid_request_error",
                         "model_not_found", "model");
    return;
  }
  std::string body = "{\"object\":\"list\",\"data\":[" + json::to_string(model.get()) + "]}";
  respond_json(message, SOUP_STATUS_OK, body);
}

/* The text of a message's content: a string, or the text parts of an array of parts. */
static std::string content_text(JsonObject *message)
{
  JsonNode *content = json_object_get_member(message, "content");
  if (!content)
    return "";
  if (JSON_NODE_HOLDS_VALUE(content) && json_node_get_value_type(content) == G_TYPE_STRING)
    return json_node_get_string(content);
  std::string out;
  if (JSON_NODE_HOLDS_ARRAY(content)) {
    JsonArray *parts = json_node_get_array(content);
    for (guint i = 0; i < json_array_get_length(parts); i++) {
      JsonNode *part = json_array_get_element(parts, i);
      if (JSON_NODE_HOLDS_OBJECT(part) && json::get_string(json_node_get_object(part), "type") == "text")
        out += (out.empty() ? "" : "\n") + json::get_string(json_node_get_object(part), "text");
    }
  }
  return out;
}

void OpenAICompatRoute::on_completions(SoupServerMessage *message, const std::string &path)
{
  std::string peer = peer_of(message);
  if (path != "/v1/chat/completions") {
    respond_openai_error(message, SOUP_STATUS_NOT_FOUND, "Invalid URL (" + path + ")", "invalid_request_error", "");
    return;
  }
  if (g_strcmp0(soup_server_message_get_method(message), "POST") != 0) {
    respond_openai_error(message, SOUP_STATUS_METHOD_NOT_ALLOWED, "Use POST.", "invalid_request_error", "");
    return;
  }
  int token = admit(message, peer);
  if (token < 0)
    return;
  std::string body = request_body(message);
  std::string why;
  json::ObjectPtr request = body.size() <= kMaxBodyBytes ? json::parse_object(body, &why) : nullptr;
  auto bad_request = [&](const std::string &text, const std::string &param) {
    audit(peer, token, false, SOUP_STATUS_BAD_REQUEST, 0, 0, 0, false, text);
    respond_openai_error(message, SOUP_STATUS_BAD_REQUEST, text, "invalid_request_error",
                         param.empty() ? "" : "invalid_value", param);
  };
  if (!request)
    return bad_request("We could not parse the JSON body of your request.", "");
  JsonNode *messages = json_object_get_member(request.get(), "messages");
  if (!messages || !JSON_NODE_HOLDS_ARRAY(messages) || json_array_get_length(json_node_get_array(messages)) == 0)
    return bad_request("'messages' must be a non-empty array.", "messages");
  JsonNode *stream_node = json_object_get_member(request.get(), "stream");
  if (stream_node && !(JSON_NODE_HOLDS_VALUE(stream_node) && json_node_get_value_type(stream_node) == G_TYPE_BOOLEAN) &&
      !JSON_NODE_HOLDS_NULL(stream_node))
    return bad_request("'stream' must be a boolean.", "stream");
  /* The turn is the last user message; ElevenLabs' history and system prompt stay with ElevenLabs. */
  std::string question;
  JsonArray *list = json_node_get_array(messages);
  for (guint i = json_array_get_length(list); i > 0 && question.empty(); i--) {
    JsonNode *item = json_array_get_element(list, i - 1);
    if (JSON_NODE_HOLDS_OBJECT(item) && json::get_string(json_node_get_object(item), "role") == "user")
      question = content_text(json_node_get_object(item));
  }
  if (question.empty())
    return bad_request("'messages' has no user message with text.", "messages");

  auto x = std::make_shared<Exchange>();
  x->route = this;
  x->alive = alive_;
  x->message = SOUP_SERVER_MESSAGE(g_object_ref(message));
  x->stream = stream_node && JSON_NODE_HOLDS_VALUE(stream_node) && json_node_get_boolean(stream_node);
  x->id = "chatcmpl-" + openai::random_hex(12);
  x->model = json::get_string(request.get(), "model", route_.compat_model);
  x->created = g_get_real_time() / G_USEC_PER_SEC;
  x->started_us = g_get_monotonic_time();
  x->peer = peer;
  x->token = token;
  x->question_chars = question.size();

  soup_server_message_pause(message);
  if (x->stream) {
    soup_server_message_set_status(message, SOUP_STATUS_OK, nullptr);
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(message);
    soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
    soup_message_headers_replace(headers, "Content-Type", "text/event-stream; charset=utf-8");
    soup_message_headers_replace(headers, "Cache-Control", "no-cache");
    soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
    x->write(x->chunk("{\"role\":\"assistant\",\"content\":\"\"}", nullptr));   /* headers and a first chunk at once */
  }
  /* The message's end: sent, or the client went away (then the agent's answer is not wanted). */
  auto *holder = new std::shared_ptr<Exchange>(x);
  x->finished_handler = g_signal_connect_data(message, "finished",
      G_CALLBACK(+[](SoupServerMessage *msg, gpointer data) {
        std::shared_ptr<Exchange> ex = *static_cast<std::shared_ptr<Exchange> *>(data);
        /* The handler holds the exchange and the exchange the message: let go, or neither is freed. */
        g_signal_handler_disconnect(msg, ex->finished_handler);
        ex->client_gone = true;
        ex->cancel_filler();
        if (!ex->done && *ex->alive) {
          ex->done = true;
          ex->route->client_->cancel(ex->request);
          audit(ex->peer, ex->token, ex->stream, 499, ex->question_chars, 0,
                (g_get_monotonic_time() - ex->started_us) / 1000.0, ex->filler_sent, "client closed the connection");
        }
      }),
      holder, [](gpointer data, GClosure *) { delete static_cast<std::shared_ptr<Exchange> *>(data); },
      (GConnectFlags) 0);

  if (x->stream && !route_.filler_text.empty()) {
    std::weak_ptr<Exchange> weak = x;
    std::string filler = route_.filler_text;
    x->filler_timer = server_.thread()->add_timer(route_.filler_after_ms, [weak, filler]() {
      auto ex = weak.lock();
      if (!ex)
        return;
      ex->filler_timer = 0;
      if (ex->done || ex->first_content_us || !*ex->alive)
        return;
      ex->filler_sent = true;
      ex->send_content(filler + " ");
    });
  }

  auto finish = [x](guint status, const std::string &error) {
    x->done = true;
    x->cancel_filler();
    double first_ms = x->first_content_us ? (x->first_content_us - x->started_us) / 1000.0 : 0;
    double total_ms = (g_get_monotonic_time() - x->started_us) / 1000.0;
    audit(x->peer, x->token, x->stream, status, x->question_chars, first_ms, total_ms, x->filler_sent, error);
    if (x->client_gone)
      return;
    if (x->stream) {
      x->write(x->chunk("{}", "stop"));
      x->write("data: [DONE]\n\n");
      soup_message_body_complete(soup_server_message_get_response_body(x->message));
      soup_server_message_unpause(x->message);
    } else if (status >= 400) {
      respond_openai_error(x->message, status, "The agent could not answer: " + error, "server_error", "agent_unavailable");
      soup_server_message_unpause(x->message);
    } else {
      std::string content = x->spoken;
      while (!content.empty() && content.back() == ' ')
        content.pop_back();
      std::string out = "{\"id\":\"" + x->id + "\",\"object\":\"chat.completion\",\"created\":" +
                        std::to_string(x->created) + ",\"model\":" + Exchange::json_quote(x->model) +
                        ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" +
                        Exchange::json_quote(content) + ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}]," +
                        "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}}";
      respond_json(x->message, SOUP_STATUS_OK, out);
      soup_server_message_unpause(x->message);
    }
  };

  openclaw::ChatRequest chat;
  chat.session_key = route_.session_key;
  chat.messages = {{"system", kVoiceAnswerPrompt}, {"user", question}};
  openclaw::ChatCallbacks callbacks;
  callbacks.on_delta = [x](const std::string &delta) {
    if (!x->done)
      x->send_content(x->chunker.feed(delta));
  };
  callbacks.on_done = [x, finish](const std::string &) {
    if (x->done)
      return;
    x->send_content(x->chunker.finish());
    finish(SOUP_STATUS_OK, "");
  };
  callbacks.on_error = [x, finish](const openclaw::GatewayError &error) {
    if (x->done)
      return;
    std::string why = std::string(openclaw::gateway_error_kind_name(error.kind)) + ": " + error.message;
    if (x->stream) {
      /* The voice is already talking: it says so instead of going silent. */
      x->send_content(x->chunker.finish());
      x->send_content("Sorry, I could not reach your agent just now.");
      finish(SOUP_STATUS_OK, why);
    } else {
      finish(SOUP_STATUS_BAD_GATEWAY, why);
    }
  };
  x->request = client_->chat(std::move(chat), std::move(callbacks));
}

}  // namespace clawvoice::launcher
