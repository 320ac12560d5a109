/* clawvoice — validators for the config's typed string values, and listen addresses. */
#include "config_values.h"

#include <glib.h>

#include "config.h"

namespace clawvoice::launcher {

std::string ListenAddress::to_string() const
{
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

static bool is_host_name(const std::string &host)
{
  /* RFC 1123 labels; a name of digits and dots only must then be a valid IPv4 address. */
  bool all_numeric = true;
  size_t label_start = 0;
  for (size_t i = 0; i <= host.size(); i++) {
    if (i == host.size() || host[i] == '.') {
      size_t len = i - label_start;
      if (len == 0 || len > 63 || host[label_start] == '-' || host[i - 1] == '-')
        return false;
      label_start = i + 1;
      continue;
    }
    char c = host[i];
    if (!g_ascii_isalnum(c) && c != '-')
      return false;
    if (!g_ascii_isdigit(c))
      all_numeric = false;
  }
  return !all_numeric || g_hostname_is_ip_address(host.c_str());
}

bool parse_listen_address(const std::string &text, ListenAddress *out, std::string *error)
{
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *error = "'" + text + "' is not [IPV6]:PORT";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.find(':') == std::string::npos || !g_hostname_is_ip_address(host.c_str())) {
      *error = "'" + host + "' in brackets is not an IPv6 address";
      return false;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      *error = "'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:8080)";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      *error = "'" + text + "': an IPv6 address goes in brackets, e.g. [::1]:8080";
      return false;
    }
    if (!is_host_name(host)) {
      *error = "'" + host + "' is not an IP address or host name";
      return false;
    }
  }
  guint64 number = 0;
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      !g_ascii_string_to_unsigned(port.c_str(), 10, 0, 65535, &number, nullptr)) {
    *error = "port '" + port + "' is not a number from 0 to 65535";
    return false;
  }
  out->host = host;
  out->port = (guint16) number;
  return true;
}

std::string derive_public_url(const ListenAddress &listen)
{
  ListenAddress reachable = listen;
  if (reachable.host == "0.0.0.0")
    reachable.host = "127.0.0.1";
  else if (reachable.host == "::")
    reachable.host = "::1";
  return "http://" + reachable.to_string();
}

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
    std::string entry = *item;
    g_strstrip(*item);
    entry = *item;
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
