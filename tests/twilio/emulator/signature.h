/* Twilio emulator — X-Twilio-Signature, computed the way Twilio does (twilio.md):
 * base64(HMAC-SHA1(auth_token, url + concat(sorted(key + value) for every POST param))).
 * Written from the reference alone, independently of gst/twilio, so that it can judge it. */
#pragma once

#include <string>

#include "form_params.h"

namespace clawvoice::test::twilio_emu {

/* @url is the public URL Twilio was configured with (query string included, as given). Params
 * are sorted by key, then by value for a repeated key, byte-wise. */
std::string twilio_signature(const std::string &auth_token, const std::string &url,
                             const FormParams &params);

}  // namespace clawvoice::test::twilio_emu
