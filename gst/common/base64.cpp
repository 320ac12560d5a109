#include "common/base64.h"

#include <glib.h>

namespace clawvoice::base64 {

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

bool decode_base64_strict(const std::string &text, std::vector<uint8_t> *out)
{
  out->clear();
  size_t n = text.size();
  if (n % 4 != 0)
    return false;
  size_t padding = 0;
  if (n > 0 && text[n - 1] == '=')
    padding++;
  if (n > 1 && text[n - 2] == '=')
    padding++;
  out->reserve(n / 4 * 3);
  for (size_t i = 0; i < n; i += 4) {
    uint32_t quad = 0;
    for (size_t j = 0; j < 4; j++) {
      size_t pos = i + j;
      int v = (pos >= n - padding) ? 0 : base64_value(text[pos]);
      if (v < 0) {
        out->clear();
        return false;
      }
      quad = (quad << 6) | (uint32_t) v;
    }
    out->push_back((uint8_t) (quad >> 16));
    out->push_back((uint8_t) (quad >> 8));
    out->push_back((uint8_t) quad);
  }
  out->resize(out->size() - padding);
  return true;
}

std::string encode_base64(const uint8_t *data, size_t len)
{
  g_autofree gchar *s = g_base64_encode(data, len);
  return s ? std::string(s) : std::string();
}

}  // namespace clawvoice::base64
