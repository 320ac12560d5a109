#include "form_params.h"

#include <glib.h>

namespace clawvoice::test::twilio_emu {

namespace {
void append_escaped(std::string &out, const std::string &text)
{
  static const char hex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
}

bool unescape(const std::string &text, std::string *out)
{
  out->clear();
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == '+') {
      *out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size() || !g_ascii_isxdigit(text[i + 1]) || !g_ascii_isxdigit(text[i + 2]))
        return false;
      *out += static_cast<char>(g_ascii_xdigit_value(text[i + 1]) * 16 +
                                g_ascii_xdigit_value(text[i + 2]));
      i += 2;
    } else {
      *out += c;
    }
  }
  return true;
}
}  // namespace

std::string form_encode(const FormParams &params)
{
  std::string out;
  for (const auto &[key, value] : params) {
    if (!out.empty())
      out += '&';
    append_escaped(out, key);
    out += '=';
    append_escaped(out, value);
  }
  return out;
}

bool form_decode(const std::string &body, FormParams *out)
{
  out->clear();
  size_t start = 0;
  while (start <= body.size() && !body.empty()) {
    size_t end = body.find('&', start);
    if (end == std::string::npos)
      end = body.size();
    std::string pair = body.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key, value;
      if (!unescape(pair.substr(0, eq), &key))
        return false;
      if (eq != std::string::npos && !unescape(pair.substr(eq + 1), &value))
        return false;
      out->emplace_back(std::move(key), std::move(value));
    }
    start = end + 1;
  }
  return true;
}

std::string form_value(const FormParams &params, const std::string &key)
{
  for (const auto &[k, v] : params)
    if (k == key)
      return v;
  return "";
}

}  // namespace clawvoice::test::twilio_emu
