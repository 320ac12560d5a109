/* clawvoice — Standard Webhooks signatures (https://www.standardwebhooks.com), the scheme OpenAI
 * signs its webhooks with (`realtime.call.incoming` for SIP calls).
 *
 *   webhook-id:        msg_…            (unique per message; retries keep it)
 *   webhook-timestamp: 1614265330       (Unix seconds)
 *   webhook-signature: v1,<b64> v1,<b64> …   (space-separated; any one matching is enough, so a
 *                                             sender can sign with an old and a new secret at once)
 *
 * signature = base64(HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")), key = the base64-decoded
 * secret after its `whsec_` prefix. A timestamp more than the tolerance (300 s) away from now is
 * refused, so a captured request cannot be replayed later. Nothing here logs or returns the secret. */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clawvoice::openai {

enum class WebhookVerdict {
  Valid,
  MissingHeaders,     /* webhook-id, webhook-timestamp or webhook-signature absent or empty */
  BadTimestamp,       /* not a whole number of seconds */
  TimestampTooOld,    /* more than the tolerance in the past */
  TimestampTooNew,    /* more than the tolerance in the future */
  NoValidSignature,   /* no `v1,` entry matches (or none is well formed) */
};

/* "valid", "missing-headers", … for logs and metrics. */
const char *webhook_verdict_name(WebhookVerdict verdict);

/* A signing secret, decoded. `whsec_<base64>` (the prefix is optional, as in the reference
 * libraries); false when the rest is not base64 or decodes to nothing. */
class WebhookSecret {
 public:
  static bool parse(const std::string &text, WebhookSecret *out, std::string *error);
  const std::vector<uint8_t> &key() const { return key_; }
  bool empty() const { return key_.empty(); }

 private:
  std::vector<uint8_t> key_;
};

struct WebhookHeaders {
  std::string id;
  std::string timestamp;
  std::string signature;
};

constexpr int64_t kWebhookToleranceSeconds = 300;

/* "v1,<base64 of the HMAC>" for one message. */
std::string sign_webhook(const WebhookSecret &secret, const std::string &id, int64_t timestamp,
                         const std::string &body);

/* Checks a received message; @now_s is the current Unix time (g_get_real_time() / 1e6). */
WebhookVerdict verify_webhook(const WebhookSecret &secret, const WebhookHeaders &headers,
                              const std::string &body, int64_t now_s,
                              int64_t tolerance_s = kWebhookToleranceSeconds);

/* A fresh random secret in `whsec_` form (32 random bytes), for demos and tests. */
std::string generate_webhook_secret();

}  // namespace clawvoice::openai
