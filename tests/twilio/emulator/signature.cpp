#include "signature.h"

#include <glib.h>

#include <algorithm>

namespace clawvoice::test::twilio_emu {

std::string twilio_signature(const std::string &auth_token, const std::string &url,
                             const FormParams &params)
{
  FormParams sorted = params;
  std::sort(sorted.begin(), sorted.end());
  std::string data = url;
  for (const auto &[key, value] : sorted)
    data += key + value;

  GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA1, reinterpret_cast<const guchar *>(auth_token.data()),
                           auth_token.size());
  g_hmac_update(hmac, reinterpret_cast<const guchar *>(data.data()), data.size());
  guint8 digest[20];
  gsize digest_len = sizeof(digest);
  g_hmac_get_digest(hmac, digest, &digest_len);
  g_hmac_unref(hmac);

  gchar *b64 = g_base64_encode(digest, digest_len);
  std::string out = b64;
  g_free(b64);
  return out;
}

}  // namespace clawvoice::test::twilio_emu
