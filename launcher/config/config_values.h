/* clawvoice — validators for the config's typed string values: URLs, tokens, log levels.
 * (Listen addresses are in config.h: parse_listen_address(), since `--listen` uses it too.)
 * Each returns false and says what is wrong in *error, never echoing a secret. */
#pragma once

#include <string>

namespace clawvoice::launcher {

/* An http(s) base URL: host required, no user info, query or fragment. *normalised is `url` without
 * its trailing slashes. */
bool check_base_url(const std::string &url, std::string *normalised, std::string *error);

/* A ws:// or wss:// URL with a host and no fragment. */
bool check_websocket_url(const std::string &url, std::string *error);

/* A secret that goes in an HTTP header or a signature: printable ASCII without spaces, at least
 * `min_length` characters. */
bool check_token(const std::string &token, size_t min_length, std::string *error);

/* The syntax gst_debug_set_threshold_from_string() takes: "LEVEL" or "CATEGORY:LEVEL" items
 * separated by commas, LEVEL a number 0–9 or a name (none, error, warning, fixme, info, debug, log,
 * trace, memdump). GStreamer itself ignores what it cannot read; a config should not. */
bool check_gst_debug(const std::string &spec, std::string *error);

/* A property whose name says it carries a credential (rt.api-key, …): key, token, secret, password,
 * credential. Its value is masked in describe_config() and never quoted in an error. */
bool is_secret_property_name(const std::string &name);

}  // namespace clawvoice::launcher
