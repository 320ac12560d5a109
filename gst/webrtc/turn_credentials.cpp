#include "webrtc/turn_credentials.h"

namespace clawvoice::webrtc {

std::string hmac_sha1_base64(const std::string &secret, const std::string &message)
{
  GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *) secret.data(), secret.size());
  g_hmac_update(hmac, (const guchar *) message.data(), (gssize) message.size());
  guint8 digest[20];
  gsize length = sizeof digest;
  g_hmac_get_digest(hmac, digest, &length);
  g_hmac_unref(hmac);
  gchar *encoded = g_base64_encode(digest, length);
  std::string out = encoded;
  g_free(encoded);
  return out;
}

TurnCredentials make_turn_credentials(const std::string &shared_secret, const std::string &session_id,
                                      gint64 now_unix, guint ttl_seconds)
{
  std::string user = session_id;
  for (char &c : user)
    if (c == ':')
      c = '_';
  TurnCredentials out;
  out.expires_unix = now_unix + ttl_seconds;
  out.username = std::to_string(out.expires_unix) + ":" + user;
  out.credential = hmac_sha1_base64(shared_secret, out.username);
  return out;
}

}  // namespace clawvoice::webrtc
