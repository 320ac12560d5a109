#include "twilio/signature.h"

#include <glib.h>

#include <algorithm>

#include "common/base64.h"

namespace clawvoice::twilio {

std::string compute_signature(const std::string &auth_token, const std::string &url, const Params &params)
{
  /* Sorted by key, then value for a repeated key (Twilio's helpers sort the values of an array). */
  Params sorted = params;
  std::sort(sorted.begin(), sorted.end());
  std::string data = url;
  for (const auto &[key, value] : sorted) {
    data += key;
    data += value;
  }
  GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA1, reinterpret_cast<const guchar *>(auth_token.data()), auth_token.size());
  g_hmac_update(hmac, reinterpret_cast<const guchar *>(data.data()), (gssize) data.size());
  guint8 digest[20];
  gsize len = sizeof(digest);
  g_hmac_get_digest(hmac, digest, &len);
  g_hmac_unref(hmac);
  return base64::encode_base64(digest, len);
}

static bool equal_constant_time(const std::string &a, const std::string &b)
{
  /* The length of a signature is public (28 characters); its content is not. */
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); i++)
    diff |= (unsigned char) (a[i] ^ b[i]);
  return diff == 0;
}

std::vector<std::string> signature_url_variants(const std::string &url)
{
  std::vector<std::string> variants{url};
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return variants;
  std::string scheme = url.substr(0, scheme_end);
  for (char &c : scheme)
    c = g_ascii_tolower(c);
  size_t authority_start = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string::npos)
    authority_end = url.size();
  std::string authority = url.substr(authority_start, authority_end - authority_start);
  /* host[:port], with userinfo@ and [IPv6] literals taken into account. */
  size_t host_start = authority.rfind('@');
  host_start = host_start == std::string::npos ? 0 : host_start + 1;
  size_t bracket = authority.find(']', host_start);
  size_t colon = authority.find(':', bracket == std::string::npos ? host_start : bracket);
  std::string before = url.substr(0, authority_start);
  std::string after = url.substr(authority_end);
  if (colon != std::string::npos) {
    variants.push_back(before + authority.substr(0, colon) + after);
  } else {
    const char *port = scheme == "https" ? "443" : scheme == "http" ? "80" : nullptr;
    if (port)
      variants.push_back(before + authority + ":" + port + after);
  }
  return variants;
}

bool verify_signature(const std::string &auth_token, const std::string &url, const Params &params,
    const std::string &header_value)
{
  if (auth_token.empty() || header_value.empty())
    return false;
  bool ok = false;
  /* Every variant is checked, so the time taken does not tell which one matched. */
  for (const std::string &variant : signature_url_variants(url))
    ok |= equal_constant_time(compute_signature(auth_token, variant, params), header_value);
  return ok;
}

}  // namespace clawvoice::twilio
