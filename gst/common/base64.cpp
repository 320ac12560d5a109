#include "common/base64.h"

#include <glib.h>

namespace clawvoice::base64 {

namespace {

/* Each byte's 6-bit value, or kInvalid: one lookup per character instead of a chain of compares
 * (the launcher decodes every 20 ms of the model's audio, the simulator every caller frame). */
constexpr uint8_t kInvalid = 0xff;

struct DecodeTable {
  uint8_t value[256];
  constexpr DecodeTable() : value()
  {
    for (int i = 0; i < 256; i++)
      value[i] = kInvalid;
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++)
      value[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr DecodeTable kTable;

}  // namespace

bool decode_base64_strict(std::string_view text, std::vector<uint8_t> *out)
{
  out->clear();
  const size_t n = text.size();
  if (n % 4 != 0)
    return false;
  if (n == 0)
    return true;
  const auto *in = reinterpret_cast<const uint8_t *>(text.data());
  const size_t padding = in[n - 1] != '=' ? 0 : in[n - 2] != '=' ? 1 : 2;
  out->resize(n / 4 * 3);
  uint8_t *dst = out->data();
  const size_t full = n - 4;   /* every quad but the last has no padding */
  for (size_t i = 0; i < full; i += 4, dst += 3) {
    const uint8_t a = kTable.value[in[i]], b = kTable.value[in[i + 1]], c = kTable.value[in[i + 2]],
                  d = kTable.value[in[i + 3]];
    if ((a | b | c | d) & 0xc0) {   /* only kInvalid has either of the top bits */
      out->clear();
      return false;
    }
    const uint32_t quad = (uint32_t) a << 18 | (uint32_t) b << 12 | (uint32_t) c << 6 | d;
    dst[0] = (uint8_t) (quad >> 16);
    dst[1] = (uint8_t) (quad >> 8);
    dst[2] = (uint8_t) quad;
  }
  uint32_t quad = 0;
  for (size_t j = 0; j < 4; j++) {
    uint8_t v = j < 4 - padding ? kTable.value[in[full + j]] : 0;
    if (v == kInvalid) {
      out->clear();
      return false;
    }
    quad = quad << 6 | v;
  }
  dst[0] = (uint8_t) (quad >> 16);
  dst[1] = (uint8_t) (quad >> 8);
  dst[2] = (uint8_t) quad;
  out->resize(out->size() - padding);
  return true;
}

std::string encode_base64(const uint8_t *data, size_t len)
{
  g_autofree gchar *s = g_base64_encode(data, len);
  return s ? std::string(s) : std::string();
}

}  // namespace clawvoice::base64
