#include "openai/random_token.h"

#include <glib.h>
#include <sys/random.h>

namespace clawvoice::openai {

std::vector<uint8_t> random_bytes(size_t count)
{
  std::vector<uint8_t> out(count);
  size_t filled = 0;
  while (filled < count) {
    ssize_t got = getrandom(out.data() + filled, count - filled, 0);
    if (got <= 0)
      break;
    filled += (size_t) got;
  }
  /* getrandom only fails before the pool is ready or on EINTR storms; never hand out zeros. */
  for (; filled < count; filled++)
    out[filled] = (uint8_t) g_random_int();
  return out;
}

std::string random_hex(size_t bytes)
{
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : random_bytes(bytes)) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace clawvoice::openai
