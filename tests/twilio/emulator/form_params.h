/* Twilio emulator — application/x-www-form-urlencoded bodies, as Twilio's webhooks send them. */
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace clawvoice::test::twilio_emu {

/* Ordered key/value pairs; a key may repeat (e.g. StatusCallbackEvent). */
using FormParams = std::vector<std::pair<std::string, std::string>>;

/* Percent-encodes everything but unreserved characters (A-Z a-z 0-9 - . _ ~), space as '+',
 * so "+1234" becomes "%2B1234" as in Twilio's requests. */
std::string form_encode(const FormParams &params);
/* Decodes a body; returns false on a malformed escape (a '%' not followed by two hex digits). */
bool form_decode(const std::string &body, FormParams *out);

/* The first value of @key, or "" when absent. */
std::string form_value(const FormParams &params, const std::string &key);

}  // namespace clawvoice::test::twilio_emu
