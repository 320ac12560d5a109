#include "routes/sip/digest_auth.h"

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

namespace clawvoice::launcher::sip {

DigestAuth::DigestAuth(std::string realm, std::map<std::string, std::string> users)
    : realm_(std::move(realm)), users_(std::move(users))
{
  for (int i = 0; i < 8; i++) {
    char part[9];
    g_snprintf(part, sizeof part, "%08x", g_random_int());
    key_ += part;
  }
}

std::string DigestAuth::sign(const std::string &timestamp) const
{
  gchar *mac = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *) key_.data(), key_.size(),
                                         timestamp.c_str(), -1);
  std::string out(mac, 32);
  g_free(mac);
  return out;
}

std::string DigestAuth::challenge(bool stale) const
{
  char ts[17];
  g_snprintf(ts, sizeof ts, "%" G_GINT64_MODIFIER "x", g_get_real_time() / G_USEC_PER_SEC);
  std::string nonce = std::string(ts) + "." + sign(ts);
  return "Digest realm=\"" + realm_ + "\", nonce=\"" + nonce + "\", algorithm=MD5, qop=\"auth\"" +
         (stale ? ", stale=true" : "");
}

/* "<hex seconds>.<hmac>": ours, and recent enough. */
bool DigestAuth::nonce_fresh(const std::string &nonce, bool *stale) const
{
  *stale = false;
  size_t dot = nonce.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 16)
    return false;
  std::string ts = nonce.substr(0, dot);
  if (nonce.substr(dot + 1) != sign(ts))
    return false;
  guint64 issued = 0;
  if (!g_ascii_string_to_unsigned(ts.c_str(), 16, 0, G_MAXUINT64, &issued, nullptr))
    return false;
  gint64 age = g_get_real_time() / G_USEC_PER_SEC - (gint64) issued;
  if (age < -5 || age > kNonceSeconds) {
    *stale = true;
    return false;
  }
  return true;
}

DigestAuth::Verdict DigestAuth::check(const sip_t *sip, const char *method, std::string *user, std::string *challenge_out,
                                      std::string *why)
{
  /* The caller's Digest credentials for our realm, if any. */
  const sip_authorization_t *au = sip->sip_authorization;
  su_home_t home[1] = {SU_HOME_INIT(home)};
  auth_response_t ar[1] = {{0}};
  ar->ar_size = sizeof(ar[0]);
  bool found = false;
  for (; au && !found; au = au->au_next) {
    if (!au->au_scheme || g_ascii_strcasecmp(au->au_scheme, "Digest") != 0)
      continue;
    auth_response_t candidate[1] = {{0}};
    candidate->ar_size = sizeof(candidate[0]);
    if (auth_digest_response_get(home, candidate, au->au_params) < 0)
      continue;
    if (candidate->ar_realm && realm_ == candidate->ar_realm) {
      *ar = *candidate;
      found = true;
    }
  }
  Verdict verdict = Verdict::Rejected;
  bool stale = false;
  if (!found) {
    *why = "no credentials for realm " + realm_;
    verdict = Verdict::Challenge;
  } else if (!ar->ar_nonce || !nonce_fresh(ar->ar_nonce, &stale)) {
    *why = stale ? "stale nonce" : "a nonce we did not issue";
    verdict = stale ? Verdict::Challenge : Verdict::Rejected;
  } else if (!ar->ar_username || !users_.count(ar->ar_username)) {
    *why = "unknown user";
  } else if (!ar->ar_response || !ar->ar_uri || (ar->ar_algorithm && !ar->ar_md5)) {
    *why = "incomplete credentials or an algorithm other than MD5";
  } else {
    auth_hexmd5_t ha1, expected;
    auth_digest_ha1(ha1, ar->ar_username, realm_.c_str(), users_.at(ar->ar_username).c_str());
    const sip_payload_t *pl = sip->sip_payload;
    auth_digest_response(ar, expected, ha1, method, pl ? pl->pl_data : nullptr, pl ? pl->pl_len : 0);
    if (g_ascii_strcasecmp(expected, ar->ar_response) == 0) {
      *user = ar->ar_username;
      verdict = Verdict::Accepted;
    } else {
      *why = "wrong password for user " + std::string(ar->ar_username);
    }
  }
  if (verdict == Verdict::Challenge)
    *challenge_out = challenge(stale);
  su_home_deinit(home);
  return verdict;
}

}  // namespace clawvoice::launcher::sip
