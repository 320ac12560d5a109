#include "twilio/twiml.h"

#include <glib.h>

#include <set>

namespace clawvoice::twilio {

std::string xml_escape(const std::string &text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c; break;
    }
  }
  return out;
}

namespace {

bool is_loopback(const std::string &host)
{
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1";
}

/* Checks @url's scheme against @secure/@insecure (the latter only for loopback hosts) and refuses a
 * query string or fragment. */
bool check_url(const std::string &what, const std::string &url, const char *secure, const char *insecure,
    std::string *error)
{
  GError *err = nullptr;
  GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, &err);
  if (!uri) {
    *error = what + " is not a valid URL: " + (err ? err->message : url);
    g_clear_error(&err);
    return false;
  }
  std::string scheme = g_uri_get_scheme(uri);
  std::string host = g_uri_get_host(uri) ? g_uri_get_host(uri) : "";
  bool has_query = g_uri_get_query(uri) != nullptr || url.find('?') != std::string::npos;
  bool has_fragment = g_uri_get_fragment(uri) != nullptr;
  g_uri_unref(uri);
  if (host.empty()) {
    *error = what + " has no host: " + url;
    return false;
  }
  if (scheme != secure && !(scheme == insecure && is_loopback(host))) {
    *error = what + " must be " + secure + "://… (" + insecure + ":// only for a loopback host): " + url;
    return false;
  }
  if (has_query) {
    *error = what + " must not carry a query string (Twilio error 31920); pass data as <Parameter>s: " + url;
    return false;
  }
  if (has_fragment) {
    *error = what + " must not carry a fragment: " + url;
    return false;
  }
  return true;
}

bool xml_safe(const std::string &text)
{
  if (!g_utf8_validate(text.data(), (gssize) text.size(), nullptr))
    return false;
  for (unsigned char c : text)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return false;
  return true;
}

}  // namespace

bool build_connect_stream_twiml(const ConnectStream &stream, std::string *twiml, std::string *error)
{
  std::string why;
  if (!check_url("the Stream url", stream.url, "wss", "ws", &why) ||
      (!stream.status_callback.empty() &&
          !check_url("the Stream statusCallback", stream.status_callback, "https", "http", &why))) {
    if (error)
      *error = why;
    return false;
  }
  std::set<std::string> names;
  for (const auto &[name, value] : stream.parameters) {
    if (name.empty() || !names.insert(name).second) {
      if (error)
        *error = name.empty() ? "a Stream <Parameter> has an empty name" : "repeated Stream <Parameter> " + name;
      return false;
    }
    if (!xml_safe(name) || !xml_safe(value)) {
      if (error)
        *error = "Stream <Parameter> " + name + " holds text XML cannot carry";
      return false;
    }
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"" +
      xml_escape(stream.url) + "\"";
  if (!stream.status_callback.empty())
    out += " statusCallback=\"" + xml_escape(stream.status_callback) + "\"";
  if (stream.parameters.empty()) {
    out += "/>";
  } else {
    out += ">";
    for (const auto &[name, value] : stream.parameters)
      out += "<Parameter name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) + "\"/>";
    out += "</Stream>";
  }
  out += "</Connect></Response>";
  *twiml = std::move(out);
  return true;
}

}  // namespace clawvoice::twilio
