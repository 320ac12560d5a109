/* clawvoice — HOST:PORT listen addresses (server.listen, simulator.listen, --listen) and the
 * public URL derived from one. */
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

}  // namespace clawvoice::launcher
