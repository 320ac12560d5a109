#include "openai/webhook_signature.h"

#include <glib.h>

#include "common/base64.h"
#include "openai/random_token.h"

namespace clawvoice::openai {

const char *webhook_verdict_name(WebhookVerdict verdict)
{
  switch (verdict) {
    case WebhookVerdict::Valid: return "valid";
    case WebhookVerdict::MissingHeaders: return "missing-headers";
    case WebhookVerdict::BadTimestamp: return "bad-timestamp";
    case WebhookVerdict::TimestampTooOld: return "timestamp-too-old";
    case WebhookVerdict::TimestampTooNew: return "timestamp-too-new";
    case WebhookVerdict::NoValidSignature: return "no-valid-signature";
  }
  return "unknown";
}

bool WebhookSecret::parse(const std::string &text, WebhookSecret *out, std::string *error)
{
  std::string encoded = g_str_has_prefix(text.c_str(), "whsec_") ? text.substr(6) : text;
  std::vector<uint8_t> key;
  if (!base64::decode_base64_strict(encoded, &key) || key.empty()) {
    *error = "is not a webhook signing secret (expected whsec_ followed by base64)";
    return false;
  }
  out->key_ = std::move(key);
  return true;
}

std::string sign_webhook(const WebhookSecret &secret, const std::string &id, int64_t timestamp,
                         const std::string &body)
{
  std::string content = id + "." + std::to_string(timestamp) + "." + body;
  GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, secret.key().data(), secret.key().size());
  g_hmac_update(hmac, (const guchar *) content.data(), (gssize) content.size());
  guint8 digest[32];
  gsize length = sizeof digest;
  g_hmac_get_digest(hmac, digest, &length);
  g_hmac_unref(hmac);
  return "v1," + base64::encode_base64(digest, length);
}

/* Constant time over the expected length: the time taken says nothing about how much matched. */
static bool same_signature(const std::string &expected, const std::string &given)
{
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); i++)
    diff |= (unsigned char) (expected[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0;
}

WebhookVerdict verify_webhook(const WebhookSecret &secret, const WebhookHeaders &headers,
                              const std::string &body, int64_t now_s, int64_t tolerance_s)
{
  if (headers.id.empty() || headers.timestamp.empty() || headers.signature.empty() || secret.empty())
    return WebhookVerdict::MissingHeaders;
  gint64 timestamp = 0;
  if (!g_ascii_string_to_signed(headers.timestamp.c_str(), 10, 0, G_MAXINT64, &timestamp, nullptr))
    return WebhookVerdict::BadTimestamp;
  if (timestamp < now_s - tolerance_s)
    return WebhookVerdict::TimestampTooOld;
  if (timestamp > now_s + tolerance_s)
    return WebhookVerdict::TimestampTooNew;

  const std::string expected = sign_webhook(secret, headers.id, timestamp, body);
  bool matched = false;
  gchar **entries = g_strsplit(headers.signature.c_str(), " ", -1);
  for (gchar **entry = entries; *entry; entry++) {
    /* Only v1 (HMAC-SHA256) exists; other versions (v1a: asymmetric) are skipped, not errors. */
    if (g_str_has_prefix(*entry, "v1,") && same_signature(expected, *entry))
      matched = true;
  }
  g_strfreev(entries);
  return matched ? WebhookVerdict::Valid : WebhookVerdict::NoValidSignature;
}

std::string generate_webhook_secret()
{
  std::vector<uint8_t> key = random_bytes(32);
  return "whsec_" + base64::encode_base64(key.data(), key.size());
}

}  // namespace clawvoice::openai
