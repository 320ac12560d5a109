/* Twilio emulator — the HTTP side: voice webhooks and status callbacks, signed like Twilio's.
 *
 * Synchronous: each call makes its own short-lived SoupSession on the calling thread, so a test
 * can post from its main thread while calls stream on the emulator thread. */
#pragma once

#include <glib.h>

#include <string>

#include "form_params.h"

namespace clawvoice::test::twilio_emu {

/* Who is calling whom: the sids and numbers one call carries through webhooks and the stream. */
struct CallIdentity {
  std::string account_sid;   /* "AC" + 32 hex */
  std::string call_sid;      /* "CA" + 32 hex */
  std::string from = "+15005550006";
  std::string to = "+15005550001";

  /* Fresh random sids, default numbers. */
  static CallIdentity random(const std::string &account_sid = "");
};

/* A Twilio-style sid: @prefix + 32 lowercase hex digits. */
std::string random_sid(const char *prefix);

/* The standard parameters of an inbound call's voice webhook (CallStatus "ringing"). */
FormParams voice_webhook_params(const CallIdentity &call);
/* A call status callback: CallSid, CallStatus, and CallDuration (seconds) when @status is
 * "completed". */
FormParams status_callback_params(const CallIdentity &call, const std::string &status,
                                  guint duration_s);

enum class Signing {
  Valid,     /* X-Twilio-Signature over the signed URL and params, with the right token */
  Missing,   /* no X-Twilio-Signature header */
  Wrong,     /* a well-formed signature made with another token */
  Tampered,  /* signed correctly, then the first parameter's value changed on the way */
};

struct HttpReply {
  guint status = 0;            /* 0: no HTTP answer (see error) */
  std::string content_type;    /* without parameters, e.g. "text/xml" */
  std::string body;
  std::string error;           /* transport error, "" when the server answered */
};

/* POSTs @params form-encoded to @target_url (where the server really listens) with a signature
 * computed over @signed_url (the public URL configured at Twilio, which a proxy may rewrite). */
HttpReply post_signed_form(const std::string &target_url, const std::string &signed_url,
                           const FormParams &params, const std::string &auth_token,
                           Signing signing = Signing::Valid, guint timeout_s = 10);

inline HttpReply post_voice_webhook(const std::string &target_url, const std::string &signed_url,
                                    const FormParams &params, const std::string &auth_token,
                                    Signing signing = Signing::Valid)
{
  return post_signed_form(target_url, signed_url, params, auth_token, signing);
}

inline HttpReply post_status_callback(const std::string &target_url, const std::string &signed_url,
                                      const FormParams &params, const std::string &auth_token,
                                      Signing signing = Signing::Valid)
{
  return post_signed_form(target_url, signed_url, params, auth_token, signing);
}

}  // namespace clawvoice::test::twilio_emu
