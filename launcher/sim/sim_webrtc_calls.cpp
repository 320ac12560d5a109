#include "sim_webrtc_calls.h"

#include "common/json.h"
#include "openai/random_token.h"
#include "sim_http.h"
#include "webrtc/sdp_offer.h"

#include <cstring>

namespace clawvoice::sim {

SimWebRtcCalls::SimWebRtcCalls(Context context, GMainContext *main_context)
    : context_(std::move(context)), main_context_(main_context)
{
}

SimWebRtcCalls::~SimWebRtcCalls()
{
  shutdown();
}

static void allow_cross_origin(SoupServerMessage *msg)
{
  /* The page that calls is never on our origin (it is the launcher's, or anyone's with a key). */
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(headers, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace(headers, "Access-Control-Expose-Headers", "Location");
}

void SimWebRtcCalls::fail(SoupServerMessage *msg, unsigned status, const std::string &code, const std::string &message,
                          const std::string &param)
{
  json::ObjectPtr error(json_object_new());
  json_object_set_string_member(error.get(), "message", message.c_str());
  json_object_set_string_member(error.get(), "type", status >= 500 ? "server_error" : "invalid_request_error");
  if (param.empty())
    json_object_set_null_member(error.get(), "param");
  else
    json_object_set_string_member(error.get(), "param", param.c_str());
  json_object_set_string_member(error.get(), "code", code.c_str());
  json::ObjectPtr body(json_object_new());
  json_object_set_object_member(body.get(), "error", error.release());
  std::string text = json::to_string(body.get());
  allow_cross_origin(msg);
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text.data(), text.size());
}

/* The sdp and session parts of a multipart/form-data request. */
static bool multipart_parts(SoupServerMessage *msg, std::string *sdp, std::string *session)
{
  GBytes *body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  SoupMultipart *multipart = soup_multipart_new_from_message(soup_server_message_get_request_headers(msg), body);
  g_bytes_unref(body);
  if (!multipart)
    return false;
  for (int i = 0; i < soup_multipart_get_length(multipart); i++) {
    SoupMessageHeaders *headers = nullptr;
    GBytes *part = nullptr;
    if (!soup_multipart_get_part(multipart, i, &headers, &part))
      continue;
    GHashTable *params = nullptr;
    const char *name = nullptr;
    if (soup_message_headers_get_content_disposition(headers, nullptr, &params))
      name = (const char *) g_hash_table_lookup(params, "name");
    gsize size = 0;
    const char *data = (const char *) g_bytes_get_data(part, &size);
    if (g_strcmp0(name, "sdp") == 0)
      sdp->assign(data ? data : "", size);
    else if (g_strcmp0(name, "session") == 0)
      session->assign(data ? data : "", size);
    if (params)
      g_hash_table_destroy(params);
  }
  soup_multipart_free(multipart);
  return !sdp->empty();
}

void SimWebRtcCalls::handle(SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_strcmp0(method, "OPTIONS") == 0) {   /* CORS preflight */
    SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
    allow_cross_origin(msg);
    soup_message_headers_replace(headers, "Access-Control-Allow-Methods", "POST, OPTIONS");
    soup_message_headers_replace(headers, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    soup_message_headers_replace(headers, "Access-Control-Max-Age", "600");
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
    return;
  }
  if (g_strcmp0(method, "POST") != 0)
    return fail(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                std::string("Method ") + method + " is not allowed on /v1/realtime/calls.");

  std::string key = bearer_of(msg);
  bool ephemeral = context_.valid_client_secret && context_.valid_client_secret(key);
  bool api_key = !key.empty() && !ephemeral && (context_.api_key.empty() ? !g_str_has_prefix(key.c_str(), "ek_")
                                                                          : key == context_.api_key);
  if (!ephemeral && !api_key)   /* never echo the key */
    return fail(msg, SOUP_STATUS_UNAUTHORIZED, "invalid_api_key",
                g_str_has_prefix(key.c_str(), "ek_") ? "The client secret is unknown or has expired."
                                                     : "Incorrect API key provided.");

  const char *type = soup_message_headers_get_content_type(soup_server_message_get_request_headers(msg), nullptr);
  std::string offer, session;
  if (type && g_ascii_strcasecmp(type, "application/sdp") == 0) {
    GBytes *body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    gsize size = 0;
    const char *data = (const char *) g_bytes_get_data(body, &size);
    offer.assign(data ? data : "", size);
    g_bytes_unref(body);
  } else if (type && g_ascii_strcasecmp(type, "multipart/form-data") == 0) {
    if (!multipart_parts(msg, &offer, &session))
      return fail(msg, SOUP_STATUS_BAD_REQUEST, "missing_required_parameter",
                  "The multipart body needs an 'sdp' part with the offer.", "sdp");
  } else {
    return fail(msg, SOUP_STATUS_BAD_REQUEST, "invalid_content_type",
                "Content-Type must be application/sdp (with a client secret) or multipart/form-data.");
  }
  if (ephemeral) {
    if (!session.empty())
      return fail(msg, SOUP_STATUS_BAD_REQUEST, "unknown_parameter",
                  "A client secret carries its session; do not send another.", "session");
    session = context_.client_secret_session ? context_.client_secret_session(key) : "";
  }
  std::string model = "gpt-realtime";
  if (!session.empty()) {
    json::ObjectPtr parsed = json::parse_object(session);
    if (!parsed || json::get_string(parsed.get(), "type", "realtime") != "realtime")
      return fail(msg, SOUP_STATUS_BAD_REQUEST, "invalid_value", "session must be a realtime session object.",
                  "session");
    model = json::get_string(parsed.get(), "model", model);
  }

  webrtc::OfferAudio audio = webrtc::inspect_offer(offer);
  if (!audio.ok)
    return fail(msg, SOUP_STATUS_BAD_REQUEST, "invalid_offer", "The SDP offer is not usable: " + audio.error, "sdp");

  WebRtcCallSetup setup;
  setup.call_id = "rtc_" + openai::random_hex(16);
  setup.offer_sdp = offer;
  setup.opus_payload_type = audio.opus_payload_type;
  setup.key = key;
  setup.session_json = session;
  setup.model = model;
  setup.realtime_url = context_.realtime_url();
  setup.ice_address = context_.ice_address;
  {
    std::lock_guard<std::mutex> guard(lock_);
    records_.push_back({setup.call_id, ephemeral, "answering", ""});
  }

  /* Ended calls are dropped from an idle: end() may be on the call's own stack. */
  auto call = SimWebRtcCall::create(setup, main_context_, [this](const std::string &id, const std::string &reason) {
    update(id, [&](SimWebRtcCallRecord &r) {
      r.state = r.state == "answering" ? "failed" : "ended";
      r.end_reason = reason;
    });
    auto *task = new std::pair<SimWebRtcCalls *, std::string>(this, id);
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, [](gpointer data) -> gboolean {
          auto *t = static_cast<std::pair<SimWebRtcCalls *, std::string> *>(data);
          t->first->calls_.erase(t->second);
          return G_SOURCE_REMOVE;
        }, task, [](gpointer data) { delete static_cast<std::pair<SimWebRtcCalls *, std::string> *>(data); });
    g_source_attach(idle, main_context_);
    g_main_context_wakeup(main_context_);   /* (needed when attached from another context of the same thread) */
    g_source_unref(idle);
  });
  calls_[setup.call_id] = call;
  g_object_ref(msg);
  soup_server_message_pause(msg);
  std::string call_id = setup.call_id;
  call->start([this, msg, call_id](bool ok, const std::string &answer) {
    if (ok) {
      update(call_id, [](SimWebRtcCallRecord &r) { r.state = "answered"; });
      allow_cross_origin(msg);
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Location",
                                   ("/v1/realtime/calls/" + call_id).c_str());
      soup_server_message_set_status(msg, SOUP_STATUS_CREATED, nullptr);
      soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_COPY, answer.data(), answer.size());
    } else {
      fail(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "call_failed", "The call could not be answered: " + answer);
    }
    soup_server_message_unpause(msg);
    g_object_unref(msg);
  });
}

bool SimWebRtcCalls::hang_up(const std::string &call_id)
{
  auto it = calls_.find(call_id);
  if (it == calls_.end() || it->second->ended())
    return false;
  it->second->end("hung up through the API");
  return true;
}

void SimWebRtcCalls::shutdown()
{
  auto calls = std::move(calls_);
  calls_.clear();
  for (auto &[id, call] : calls)
    call->end("the simulator stopped");
}

void SimWebRtcCalls::update(const std::string &call_id, const std::function<void(SimWebRtcCallRecord &)> &change)
{
  std::lock_guard<std::mutex> guard(lock_);
  for (auto &r : records_)
    if (r.call_id == call_id)
      change(r);
}

std::vector<SimWebRtcCallRecord> SimWebRtcCalls::records() const
{
  std::lock_guard<std::mutex> guard(lock_);
  return records_;
}

}  // namespace clawvoice::sim
