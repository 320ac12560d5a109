/* clawvoice — validators for the config's typed string values. */
#include "config_values.h"

#include <glib.h>

namespace clawvoice::launcher {

/* Parses `url` strictly; the caller checks the scheme. */
static GUri *parse_uri(const std::string &url, std::string *error)
{
  GError *gerror = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, &gerror);
  if (!uri) {
    *error = "'" + url + "' is not a URL (" + gerror->message + ")";
    g_error_free(gerror);
  }
  return uri;
}

bool check_base_url(const std::string &url, std::string *normalised, std::string *error)
{
  GUri *uri = parse_uri(url, error);
  if (!uri)
    return false;
  std::string scheme = g_uri_get_scheme(uri);
  bool ok = false;
  if (scheme != "http" && scheme != "https")
    *error = "'" + url + "' must start with http:// or https://";
  else if (!g_uri_get_host(uri) || !*g_uri_get_host(uri))
    *error = "'" + url + "' has no host";
  else if (g_uri_get_userinfo(uri))
    *error = "'" + url + "' must not carry a user name or password";
  else if (g_uri_get_query(uri))
    *error = "'" + url + "' must not have a query ('?…')";
  else if (g_uri_get_fragment(uri))
    *error = "'" + url + "' must not have a fragment ('#…')";
  else
    ok = true;
  g_uri_unref(uri);
  if (ok) {
    *normalised = url;
    while (normalised->size() > 1 && normalised->back() == '/')
      normalised->pop_back();
  }
  return ok;
}

bool check_websocket_url(const std::string &url, std::string *error)
{
  GUri *uri = parse_uri(url, error);
  if (!uri)
    return false;
  std::string scheme = g_uri_get_scheme(uri);
  bool ok = false;
  if (scheme != "ws" && scheme != "wss")
    *error = "'" + url + "' must start with ws:// or wss://";
  else if (!g_uri_get_host(uri) || !*g_uri_get_host(uri))
    *error = "'" + url + "' has no host";
  else if (g_uri_get_fragment(uri))
    *error = "'" + url + "' must not have a fragment ('#…')";
  else
    ok = true;
  g_uri_unref(uri);
  return ok;
}

bool check_token(const std::string &token, size_t min_length, std::string *error)
{
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      *error = "must be printable ASCII without spaces";
      return false;
    }
  }
  if (token.size() < min_length) {
    *error = "is " + std::to_string(token.size()) + " characters long; at least " +
             std::to_string(min_length) + " are required";
    return false;
  }
  return true;
}

static bool is_debug_level(const std::string &level)
{
  static const char *const names[] = {"none", "error", "warning", "fixme", "info",
                                       "debug", "log", "trace", "memdump"};
  if (level.size() == 1 && g_ascii_isdigit(level[0]))
    return true;
  for (const char *name : names) {
    if (g_ascii_strcasecmp(level.c_str(), name) == 0)
      return true;
  }
  return false;
}

bool check_gst_debug(const std::string &spec, std::string *error)
{
  if (spec.empty())
    return true;
  gchar **items = g_strsplit(spec.c_str(), ",", -1);
  bool ok = true;
  for (gchar **item = items; *item && ok; item++) {
    std::string entry = g_strstrip(*item);
    size_t colon = entry.rfind(':');
    std::string category = colon == std::string::npos ? "" : entry.substr(0, colon);
    std::string level = colon == std::string::npos ? entry : entry.substr(colon + 1);
    if (colon != std::string::npos && category.empty()) {
      *error = "'" + entry + "' has no category before ':'";
      ok = false;
    } else if (!is_debug_level(level)) {
      *error = "'" + level + "' in '" + entry +
               "' is not a level (0-9, none, error, warning, fixme, info, debug, log, trace, memdump)";
      ok = false;
    }
  }
  g_strfreev(items);
  return ok;
}

bool is_secret_property_name(const std::string &name)
{
  gchar *lower = g_ascii_strdown(name.c_str(), -1);
  std::string n = lower;
  g_free(lower);
  for (const char *word : {"key", "token", "secret", "password", "passwd", "credential"}) {
    if (n.find(word) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace clawvoice::launcher
