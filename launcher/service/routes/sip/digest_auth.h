/* clawvoice-launcher — SIP digest authentication of callers (RFC 3261 §22, RFC 2617 MD5, qop=auth),
 * for the users of routes.sip.users.
 *
 * Sofia-SIP parses the Authorization header and computes the digests (auth_digest.h); this class
 * issues nonces (a timestamp signed with a per-process random key, good for kNonceSeconds, so no
 * state is kept per caller) and decides:
 *   no credentials for our realm, or a stale nonce → challenge (401 with WWW-Authenticate)
 *   unknown user or wrong response               → reject (403)
 *   a correct response                            → accept (the user name is the caller's identity)
 * Passwords never leave this object and are never logged. Used on the SIP thread only. */
#pragma once

#include <glib.h>
#include <sofia-sip/sip.h>

#include <map>
#include <string>

namespace clawvoice::launcher::sip {

class DigestAuth {
 public:
  static constexpr gint64 kNonceSeconds = 300;

  enum class Verdict { Accepted, Challenge, Rejected };

  DigestAuth(std::string realm, std::map<std::string, std::string> users);
  bool enabled() const { return !users_.empty(); }

  /* @method: the request's method; @body: its payload (qop=auth ignores it). On Challenge,
   * *challenge is the WWW-Authenticate value to send with a 401; *why says what was wrong. */
  Verdict check(const sip_t *sip, const char *method, std::string *user, std::string *challenge, std::string *why);

  /* A fresh challenge (WWW-Authenticate value). */
  std::string challenge(bool stale) const;

 private:
  std::string sign(const std::string &timestamp) const;
  bool nonce_fresh(const std::string &nonce, bool *stale) const;

  std::string realm_;
  std::map<std::string, std::string> users_;
  std::string key_;   /* random, per process: signs nonces */
};

}  // namespace clawvoice::launcher::sip
