#include "twilio/form.h"

#include <glib.h>

namespace clawvoice::twilio {

bool Form::has(const std::string &key) const
{
  for (const auto &field : fields_)
    if (field.first == key)
      return true;
  return false;
}

std::optional<std::string> Form::get(const std::string &key) const
{
  for (const auto &field : fields_)
    if (field.first == key)
      return field.second;
  return std::nullopt;
}

std::string Form::get_or(const std::string &key, const std::string &fallback) const
{
  std::optional<std::string> value = get(key);
  return value ? *value : fallback;
}

std::vector<std::string> Form::get_all(const std::string &key) const
{
  std::vector<std::string> values;
  for (const auto &field : fields_)
    if (field.first == key)
      values.push_back(field.second);
  return values;
}

std::string form_encode_component(const std::string &text)
{
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (g_ascii_isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') {
      out += (char) c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string Form::encode() const
{
  std::string out;
  for (const auto &[key, value] : fields_) {
    if (!out.empty())
      out += '&';
    out += form_encode_component(key);
    out += '=';
    out += form_encode_component(value);
  }
  return out;
}

namespace {

bool decode_component(const std::string &text, size_t offset, std::string *out, std::string *error)
{
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == '+') {
      *out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size() || !g_ascii_isxdigit(text[i + 1]) || !g_ascii_isxdigit(text[i + 2])) {
        if (error)
          *error = "bad percent-escape at byte " + std::to_string(offset + i);
        return false;
      }
      *out += (char) ((g_ascii_xdigit_value(text[i + 1]) << 4) | g_ascii_xdigit_value(text[i + 2]));
      i += 2;
    } else {
      *out += c;
    }
  }
  if (!g_utf8_validate(out->data(), (gssize) out->size(), nullptr)) {
    if (error)
      *error = "not UTF-8 once decoded, at byte " + std::to_string(offset);
    return false;
  }
  return true;
}

}  // namespace

std::optional<Form> parse_form(const std::string &body, std::string *error)
{
  Form form;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string::npos)
      end = body.size();
    std::string pair = body.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key, value;
      if (!decode_component(pair.substr(0, eq), start, &key, error))
        return std::nullopt;
      if (eq != std::string::npos &&
          !decode_component(pair.substr(eq + 1), start + eq + 1, &value, error))
        return std::nullopt;
      form.add(std::move(key), std::move(value));
    }
    start = end + 1;
  }
  return form;
}

}  // namespace clawvoice::twilio
