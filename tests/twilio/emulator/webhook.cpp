#include "webhook.h"

#include <libsoup/soup.h>

#include "signature.h"

namespace clawvoice::test::twilio_emu {

std::string random_sid(const char *prefix)
{
  std::string sid = prefix;
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++)
    sid += hex[g_random_int_range(0, 16)];
  return sid;
}

CallIdentity CallIdentity::random(const std::string &account_sid)
{
  CallIdentity call;
  call.account_sid = account_sid.empty() ? random_sid("AC") : account_sid;
  call.call_sid = random_sid("CA");
  return call;
}

FormParams voice_webhook_params(const CallIdentity &call)
{
  return {
      {"AccountSid", call.account_sid}, {"ApiVersion", "2010-04-01"},
      {"CallSid", call.call_sid},       {"CallStatus", "ringing"},
      {"Called", call.to},              {"Caller", call.from},
      {"Direction", "inbound"},         {"From", call.from},
      {"To", call.to},
  };
}

FormParams status_callback_params(const CallIdentity &call, const std::string &status,
                                  guint duration_s)
{
  FormParams params = {
      {"AccountSid", call.account_sid}, {"ApiVersion", "2010-04-01"},
      {"CallSid", call.call_sid},       {"CallStatus", status},
      {"Called", call.to},              {"Caller", call.from},
      {"Direction", "inbound"},         {"From", call.from},
      {"To", call.to},
  };
  if (status == "completed")
    params.emplace_back("CallDuration", std::to_string(duration_s));
  return params;
}

HttpReply post_signed_form(const std::string &target_url, const std::string &signed_url,
                           const FormParams &params, const std::string &auth_token,
                           Signing signing, guint timeout_s)
{
  HttpReply reply;
  SoupMessage *msg = soup_message_new("POST", target_url.c_str());
  if (!msg) {
    reply.error = "invalid URL: " + target_url;
    return reply;
  }
  FormParams sent = params;
  if (signing == Signing::Tampered && !sent.empty())
    sent[0].second += "0";
  std::string body = form_encode(sent);
  GBytes *body_bytes = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(msg, "application/x-www-form-urlencoded", body_bytes);
  g_bytes_unref(body_bytes);

  SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
  soup_message_headers_replace(headers, "User-Agent", "TwilioProxy/1.1");
  if (signing == Signing::Valid || signing == Signing::Tampered)
    soup_message_headers_replace(headers, "X-Twilio-Signature",
                                 twilio_signature(auth_token, signed_url, params).c_str());
  else if (signing == Signing::Wrong)
    soup_message_headers_replace(headers, "X-Twilio-Signature",
                                 twilio_signature(auth_token + "-not", signed_url, params).c_str());

  /* A private context: this function may run on a thread whose default context is busy. */
  GMainContext *context = g_main_context_new();
  g_main_context_push_thread_default(context);
  SoupSession *session = soup_session_new_with_options("timeout", timeout_s, nullptr);
  GError *error = nullptr;
  GBytes *answer = soup_session_send_and_read(session, msg, nullptr, &error);
  if (error) {
    reply.error = error->message;
    g_error_free(error);
  } else {
    reply.status = soup_message_get_status(msg);
    const char *type =
        soup_message_headers_get_content_type(soup_message_get_response_headers(msg), nullptr);
    reply.content_type = type ? type : "";
    gsize size = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(answer, &size));
    reply.body.assign(data ? data : "", size);
  }
  if (answer)
    g_bytes_unref(answer);
  g_object_unref(session);
  g_object_unref(msg);
  g_main_context_pop_thread_default(context);
  g_main_context_unref(context);
  return reply;
}

}  // namespace clawvoice::test::twilio_emu
