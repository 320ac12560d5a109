#include "sim_calls.h"

#include "common/json.h"
#include "openai/call_control.h"
#include "openai/random_token.h"
#include "openai/webhook_signature.h"
#include "realtime/schema_validator.h"
#include "session_config.h"
#include "sim_events.h"
#include "sim_http.h"

#include <cstring>

namespace clawvoice::sim {

static const char kCallsPath[] = "/v1/realtime/calls";
static const char kSecretsPath[] = "/v1/realtime/client_secrets";

SimCalls::SimCalls(std::string api_key) : api_key_(std::move(api_key)) {}

SimCalls::~SimCalls() = default;

void SimCalls::attach(SoupServer *server, std::function<void(const std::string &)> close_sideband)
{
  close_sideband_ = std::move(close_sideband);
  soup_server_add_handler(server, kCallsPath,
      [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        static_cast<SimCalls *>(self)->handle_calls(msg, path);
      }, this, nullptr);
  soup_server_add_handler(server, kSecretsPath,
      [](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        if (strcmp(path, kSecretsPath) != 0) {
          soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, nullptr);
          return;
        }
        static_cast<SimCalls *>(self)->handle_client_secrets(msg);
      }, this, nullptr);
}

void SimCalls::shutdown()
{
  if (webhooks_) {
    soup_session_abort(webhooks_);
    g_clear_object(&webhooks_);
  }
}

/* ---- answering ------------------------------------------------------------------------------ */

static std::string error_body(const std::string &type, const std::string &code, const std::string &message,
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

void SimCalls::answer(SoupServerMessage *msg, SimRestRecord record, unsigned status, const std::string &body)
{
  soup_server_message_set_status(msg, status, nullptr);
  if (!body.empty())
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(), body.size());
  record.status = status;
  std::lock_guard<std::mutex> guard(lock_);
  requests_.push_back(std::move(record));
}

void SimCalls::fail(SoupServerMessage *msg, SimRestRecord record, unsigned status, const std::string &type,
                    const std::string &code, const std::string &message, const std::string &param)
{
  record.error_code = code.empty() ? type : code;
  answer(msg, std::move(record), status, error_body(type, code, message, param));
}

static std::string body_of(SoupServerMessage *msg)
{
  GBytes *bytes = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  gsize size = 0;
  const char *data = (const char *) g_bytes_get_data(bytes, &size);
  std::string out(data ? data : "", size);
  g_bytes_unref(bytes);
  return out;
}

/* The checks every endpoint shares: POST, the API key (never an ephemeral one: those are for the
 * browser), and a JSON object body validated against @schema when there is a body. On failure the
 * answer is sent and nullptr returned; *body_node is null when there was no body. */
struct ParsedBody {
  bool ok = false;
  json::NodePtr node;
};

static ParsedBody parse_checked_body(const std::string &body, const char *schema, std::string *code,
                                     std::string *message, std::string *param)
{
  ParsedBody out;
  std::string why;
  out.node = json::parse(body, &why);
  if (!out.node || !JSON_NODE_HOLDS_OBJECT(out.node.get())) {
    *code = "invalid_json";
    *message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
               "HTTP library correctly. The OpenAI API expects a JSON payload.)";
    return out;
  }
  if (auto error = realtime::SchemaValidator::instance().validate(schema, out.node.get())) {
    *code = error->code;
    *message = error->message;
    *param = error->param;
    return out;
  }
  out.ok = true;
  return out;
}

/* ---- /v1/realtime/calls/{id}/{verb} ---------------------------------------------------------- */

void SimCalls::handle_calls(SoupServerMessage *msg, const std::string &path)
{
  if (path == kCallsPath && offer_handler_)
    return offer_handler_(msg);   /* the WebRTC offer: its own bearer rules (ek_ keys), CORS, SDP */
  SimRestRecord record;
  record.method = soup_server_message_get_method(msg);
  record.path = path;
  record.body = body_of(msg);
  std::string key = bearer_of(msg);
  if (key.empty() || (!api_key_.empty() && key != api_key_)) {
    return fail(msg, std::move(record), SOUP_STATUS_UNAUTHORIZED, "invalid_request_error", "invalid_api_key",
                "Incorrect API key provided.");
  }
  if (record.method != "POST")
    return fail(msg, std::move(record), SOUP_STATUS_METHOD_NOT_ALLOWED, "invalid_request_error", "method_not_allowed",
                "Method " + record.method + " is not allowed on " + path + ".");

  /* /v1/realtime/calls/<id>/<verb> */
  std::string rest = path.size() > strlen(kCallsPath) ? path.substr(strlen(kCallsPath) + 1) : "";
  size_t slash = rest.find('/');
  if (rest.empty() || slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos) {
    /* POST /v1/realtime/calls (browser WebRTC with an SDP offer) is not simulated yet. */
    return fail(msg, std::move(record), SOUP_STATUS_NOT_FOUND, "invalid_request_error", "not_found",
                "Invalid URL (POST " + path + ")");
  }
  g_autofree gchar *unescaped = g_uri_unescape_string(rest.substr(0, slash).c_str(), nullptr);
  std::string call_id = unescaped ? unescaped : "";
  std::string verb = rest.substr(slash + 1);

  static const std::map<std::string, const char *> schemas = {
      {"accept", "RealtimeSessionCreateRequestGA"},
      {"reject", "RealtimeCallRejectRequest"},
      {"refer", "RealtimeCallReferRequest"},
      {"hangup", nullptr},
  };
  auto schema = schemas.find(verb);
  if (schema == schemas.end())
    return fail(msg, std::move(record), SOUP_STATUS_NOT_FOUND, "invalid_request_error", "not_found",
                "Invalid URL (POST " + path + ")");

  SimCallRecord call;
  if (!this->call(call_id, &call) && verb == "hangup" && webrtc_hangup_) {   /* a browser's WebRTC call? */
    if (!record.body.empty())
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "unknown_parameter",
                  "This endpoint takes no request body.");
    std::string result = webrtc_hangup_(call_id);
    if (result == "hung_up")
      return answer(msg, std::move(record), SOUP_STATUS_OK, "");
    if (result == "over")
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "call_not_active",
                  "Call '" + call_id + "' is already ended.");
  }
  if (!this->call(call_id, &call))
    return fail(msg, std::move(record), SOUP_STATUS_NOT_FOUND, "invalid_request_error", "call_not_found",
                "Call '" + call_id + "' not found.", "call_id");

  bool body_required = verb == "accept" || verb == "refer";
  bool has_body = !record.body.empty();
  if (has_body && !schema->second)
    return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "unknown_parameter",
                "This endpoint takes no request body.");
  if (!has_body && body_required)
    return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                "missing_required_parameter", "A JSON request body is required.");
  json::NodePtr node;
  if (has_body) {
    const char *type = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
    if (!type || g_ascii_strcasecmp(type, "application/json") != 0)
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "invalid_content_type",
                  "Content-Type must be application/json.");
    std::string code, message, param;
    ParsedBody parsed = parse_checked_body(record.body, schema->second, &code, &message, &param);
    if (!parsed.ok)
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", code, message, param);
    node = std::move(parsed.node);
  }
  JsonObject *object = node ? json_node_get_object(node.get()) : nullptr;

  if (verb == "accept" || verb == "reject") {
    if (call.state != "incoming")
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "call_not_pending",
                  "Call '" + call_id + "' is " + call.state + "; only an incoming call can be " + verb + "ed.");
    if (verb == "accept") {
      if (json::get_string(object, "type") != "realtime")
        return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "invalid_value",
                    "session.type must be 'realtime' to accept a call.", "type");
      std::string session = record.body;
      update(call_id, [&](SimCallRecord &c) {
        c.state = "accepted";
        c.accepted_us = g_get_monotonic_time();
        c.accept_body = session;
      });
    } else {
      gint64 status = object && json_object_has_member(object, "status_code")
                          ? json_object_get_int_member(object, "status_code") : 603;
      if (status < 300 || status > 699)
        return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "invalid_value",
                    "status_code must be a SIP final status from 300 to 699.", "status_code");
      update(call_id, [&](SimCallRecord &c) {
        c.state = "rejected";
        c.reject_status = (int) status;
      });
    }
  } else if (verb == "refer") {
    std::string target = json::get_string(object, "target_uri");
    if (!g_str_has_prefix(target.c_str(), "tel:") && !g_str_has_prefix(target.c_str(), "sip:") &&
        !g_str_has_prefix(target.c_str(), "sips:"))
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "invalid_value",
                  "target_uri must be a tel:, sip: or sips: URI.", "target_uri");
    if (call.state != "accepted")
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "call_not_active",
                  "Call '" + call_id + "' is " + call.state + "; only an accepted call can be referred.");
    update(call_id, [&](SimCallRecord &c) { c.refers.push_back(target); });
  } else {   /* hangup */
    if (call.state == "ended" || call.state == "rejected")
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "call_not_active",
                  "Call '" + call_id + "' is already " + call.state + ".");
    update(call_id, [&](SimCallRecord &c) {
      c.state = "ended";
      c.ended_by = "api";
    });
    if (close_sideband_)
      close_sideband_(call_id);
  }
  answer(msg, std::move(record), SOUP_STATUS_OK, "");
}

/* ---- /v1/realtime/client_secrets ------------------------------------------------------------- */

void SimCalls::handle_client_secrets(SoupServerMessage *msg)
{
  SimRestRecord record;
  record.method = soup_server_message_get_method(msg);
  record.path = kSecretsPath;
  record.body = body_of(msg);
  std::string key = bearer_of(msg);
  if (key.empty() || (!api_key_.empty() && key != api_key_))
    return fail(msg, std::move(record), SOUP_STATUS_UNAUTHORIZED, "invalid_request_error", "invalid_api_key",
                "Incorrect API key provided.");
  if (record.method != "POST")
    return fail(msg, std::move(record), SOUP_STATUS_METHOD_NOT_ALLOWED, "invalid_request_error", "method_not_allowed",
                "Method " + record.method + " is not allowed on " + kSecretsPath + ".");
  std::string code, message, param;
  ParsedBody parsed = parse_checked_body(record.body.empty() ? "{}" : record.body, "RealtimeCreateClientSecretRequest",
                                         &code, &message, &param);
  if (!parsed.ok)
    return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", code, message, param);
  JsonObject *request = json_node_get_object(parsed.node.get());

  gint64 seconds = 600;
  if (JsonObject *expires = json::get_object(request, "expires_after")) {
    seconds = json::get_int(expires, "seconds", 600);
    if (seconds < 10 || seconds > 7200)
      return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "integer_out_of_range",
                  "Invalid 'expires_after.seconds': must be from 10 to 7200.", "expires_after.seconds");
  }
  JsonObject *asked = json::get_object(request, "session");
  if (asked && json::get_string(asked, "type") != "realtime")
    return fail(msg, std::move(record), SOUP_STATUS_BAD_REQUEST, "invalid_request_error", "invalid_value",
                "Only realtime sessions are simulated (session.type 'realtime').", "session.type");

  const gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  SimClientSecret secret;
  secret.value = "ek_" + openai::random_hex(16);
  secret.expires_at = now + seconds;
  secret.request_body = record.body;

  /* The session the service would create: its defaults with the requested members over them. */
  std::string model = asked ? json::get_string(asked, "model", "gpt-realtime") : "gpt-realtime";
  json::ObjectPtr session = default_session(model, "marin", 0);
  if (asked) {
    json::ObjectPtr patch = json::copy_object(asked);
    json_object_remove_member(patch.get(), "model");
    merge_session(session.get(), patch.get());
  }
  json::ObjectPtr body(json_object_new());
  json_object_set_string_member(body.get(), "value", secret.value.c_str());
  json_object_set_int_member(body.get(), "expires_at", secret.expires_at);
  json_object_set_object_member(body.get(), "session", session.release());
  {
    std::lock_guard<std::mutex> guard(lock_);
    secrets_.push_back(secret);
  }
  answer(msg, std::move(record), SOUP_STATUS_OK, json::to_string(body.get()));
}

bool SimCalls::valid_client_secret(const std::string &key) const
{
  if (!g_str_has_prefix(key.c_str(), "ek_"))
    return false;
  const gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  std::lock_guard<std::mutex> guard(lock_);
  for (const SimClientSecret &s : secrets_)
    if (s.value == key)
      return s.expires_at > now;
  return false;
}

/* ---- the SIP side ------------------------------------------------------------------------- */

struct WebhookSend {
  SimCalls *calls;
  std::string call_id;
  SoupMessage *message;
};

std::string SimCalls::place_call(const SipCallRequest &request)
{
  openai::IncomingCall incoming;
  incoming.call_id = "rtc_" + openai::random_hex(16);
  incoming.event_id = "evt_" + openai::random_hex(12);
  incoming.created_at = g_get_real_time() / G_USEC_PER_SEC;
  incoming.sip_headers = {{"From", request.from}, {"To", request.to},
                          {"Call-ID", openai::random_hex(8) + "@sim.invalid"}, {"CSeq", "1 INVITE"},
                          {"Content-Type", "application/sdp"}};
  for (const auto &h : request.extra_headers)
    incoming.sip_headers.push_back(h);
  std::string body = openai::build_call_incoming(incoming);

  SimCallRecord record;
  record.call_id = incoming.call_id;
  {
    std::lock_guard<std::mutex> guard(lock_);
    calls_[record.call_id] = record;
    order_.push_back(record.call_id);
  }

  SoupMessage *message = soup_message_new(SOUP_METHOD_POST, request.webhook_url.c_str());
  if (!message) {
    update(incoming.call_id, [](SimCallRecord &c) { c.webhook_error = "not a URL"; });
    return incoming.call_id;
  }
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  std::string webhook_id = "wh_" + openai::random_hex(12);
  int64_t timestamp = incoming.created_at + request.timestamp_offset_s;
  soup_message_headers_replace(headers, "webhook-id", webhook_id.c_str());
  soup_message_headers_replace(headers, "webhook-timestamp", std::to_string(timestamp).c_str());
  openai::WebhookSecret secret;
  std::string why;
  if (!request.webhook_secret.empty() && openai::WebhookSecret::parse(request.webhook_secret, &secret, &why))
    soup_message_headers_replace(headers, "webhook-signature",
                                 openai::sign_webhook(secret, webhook_id, timestamp, body).c_str());
  GBytes *bytes = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(message, "application/json", bytes);
  g_bytes_unref(bytes);

  if (!webhooks_)
    webhooks_ = soup_session_new_with_options("timeout", 10, "proxy-resolver", nullptr, nullptr);
  update(incoming.call_id, [](SimCallRecord &c) { c.webhook_sent_us = g_get_monotonic_time(); });
  auto *send = new WebhookSend{this, incoming.call_id, message};
  soup_session_send_and_read_async(webhooks_, message, G_PRIORITY_DEFAULT, nullptr,
      [](GObject *source, GAsyncResult *result, gpointer data) {
        auto *s = static_cast<WebhookSend *>(data);
        GError *error = nullptr;
        GBytes *answer = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
        unsigned status = answer ? soup_message_get_status(s->message) : 0;
        std::string failure = error ? error->message : "";
        if (error && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
          s->calls->update(s->call_id, [&](SimCallRecord &c) {
            c.webhook_error = failure;
            c.webhook_answered_us = g_get_monotonic_time();
          });
        else if (answer)
          s->calls->update(s->call_id, [&](SimCallRecord &c) {
            c.webhook_status = status;
            c.webhook_answered_us = g_get_monotonic_time();
          });
        g_clear_error(&error);
        if (answer)
          g_bytes_unref(answer);
        g_object_unref(s->message);
        delete s;
      }, send);
  return incoming.call_id;
}

bool SimCalls::caller_hangs_up(const std::string &call_id)
{
  SimCallRecord call;
  if (!this->call(call_id, &call) || call.state == "ended" || call.state == "rejected")
    return false;
  update(call_id, [](SimCallRecord &c) {
    c.state = "ended";
    c.ended_by = "caller";
  });
  if (close_sideband_)
    close_sideband_(call_id);
  return true;
}

void SimCalls::sideband_opened(const std::string &call_id)
{
  update(call_id, [](SimCallRecord &c) { c.sideband_connections++; });
}

void SimCalls::caller_spoke(const std::string &call_id, const std::string &transcript)
{
  update(call_id, [&](SimCallRecord &c) { c.caller_said.push_back(transcript); });
}

void SimCalls::function_called(const std::string &call_id, const std::string &fn_call_id, const std::string &name,
                               const std::string &arguments)
{
  update(call_id, [&](SimCallRecord &c) { c.function_calls.push_back({fn_call_id, name, arguments, "", false}); });
}

void SimCalls::function_answered(const std::string &call_id, const std::string &fn_call_id, const std::string &output)
{
  update(call_id, [&](SimCallRecord &c) {
    for (SimCallFunctionCall &fc : c.function_calls)
      if (fc.call_id == fn_call_id && !fc.answered) {
        fc.output = output;
        fc.answered = true;
        return;
      }
  });
}

void SimCalls::assistant_spoke(const std::string &call_id, const std::string &transcript)
{
  update(call_id, [&](SimCallRecord &c) { c.assistant_said.push_back(transcript); });
}

void SimCalls::update(const std::string &call_id, const std::function<void(SimCallRecord &)> &change)
{
  std::lock_guard<std::mutex> guard(lock_);
  auto it = calls_.find(call_id);
  if (it != calls_.end())
    change(it->second);
}

std::vector<SimCallRecord> SimCalls::calls() const
{
  std::lock_guard<std::mutex> guard(lock_);
  std::vector<SimCallRecord> out;
  for (const std::string &id : order_)
    out.push_back(calls_.at(id));
  return out;
}

bool SimCalls::call(const std::string &call_id, SimCallRecord *out) const
{
  std::lock_guard<std::mutex> guard(lock_);
  auto it = calls_.find(call_id);
  if (it == calls_.end())
    return false;
  *out = it->second;
  return true;
}

std::vector<SimClientSecret> SimCalls::client_secrets() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return secrets_;
}

std::vector<SimRestRecord> SimCalls::rest_requests() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return requests_;
}

}  // namespace clawvoice::sim
