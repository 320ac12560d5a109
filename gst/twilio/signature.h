/* clawvoice — X-Twilio-Signature: how Twilio signs the webhooks it sends us.
 *
 * signature = base64(HMAC-SHA1(auth_token, url + concat(sorted key + value of every POST param))).
 * The URL is the public one Twilio called (configure it behind a proxy; never trust Host). */
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace clawvoice::twilio {

/* POST parameters in any order; repeated keys allowed. */
using Params = std::vector<std::pair<std::string, std::string>>;

/* The signature Twilio would send for a request to @url with body @params. */
std::string compute_signature(const std::string &auth_token, const std::string &url, const Params &params);

/* Whether @header_value is Twilio's signature for this request. Like Twilio's own helper, the URL
 * matches with and without an explicit default port (:443 for https, :80 for http). The comparison
 * takes the same time wherever the strings differ. An empty token or header never verifies. */
bool verify_signature(const std::string &auth_token, const std::string &url, const Params &params,
    const std::string &header_value);

/* The variants of @url Twilio's helper accepts: as given, without its port, with the scheme's default
 * port added. Exposed for tests. */
std::vector<std::string> signature_url_variants(const std::string &url);

}  // namespace clawvoice::twilio
