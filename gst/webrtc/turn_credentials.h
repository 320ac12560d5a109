/* clawvoice — ephemeral TURN credentials (the "TURN REST API" scheme, draft-uberti-behave-turn-rest;
 * coturn's `use-auth-secret` / `static-auth-secret`).
 *
 *   username   = "<expiry unix time>:<session id>"
 *   credential = base64(HMAC-SHA1(shared secret, username))
 *
 * The TURN server checks the HMAC with the same secret and refuses the username once its time has
 * passed, so a credential handed to one browser session is useless elsewhere soon after. */
#pragma once

#include <glib.h>

#include <string>

namespace clawvoice::webrtc {

struct TurnCredentials {
  std::string username;
  std::string credential;
  gint64 expires_unix = 0;
};

/* @now_unix: seconds since the epoch (g_get_real_time() / G_USEC_PER_SEC). @session_id must not
 * contain ':' (it would be read as part of the time); one that does is used with ':' replaced by '_'. */
TurnCredentials make_turn_credentials(const std::string &shared_secret, const std::string &session_id,
                                      gint64 now_unix, guint ttl_seconds);

/* base64(HMAC-SHA1(@secret, @message)): exposed for tests against published vectors. */
std::string hmac_sha1_base64(const std::string &secret, const std::string &message);

}  // namespace clawvoice::webrtc
