#include "common/g711.h"

#include <array>

namespace clawvoice::g711 {

/* Classic segment-based implementation (Sun Microsystems' public-domain g711.c). */
static constexpr int kBias = 0x84;
static constexpr int kClip = 32635;

uint8_t linear_to_ulaw(int16_t pcm)
{
  int sample = pcm;
  int sign = (sample >> 8) & 0x80;
  if (sign)
    sample = -sample;
  if (sample > kClip)
    sample = kClip;
  sample += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (sample & mask) == 0 && exponent > 0; mask >>= 1)
    exponent--;
  int mantissa = (sample >> (exponent + 3)) & 0x0F;
  return (uint8_t) ~(sign | (exponent << 4) | mantissa);
}

int16_t ulaw_to_linear(uint8_t ulaw)
{
  ulaw = ~ulaw;
  int sign = ulaw & 0x80;
  int exponent = (ulaw >> 4) & 0x07;
  int mantissa = ulaw & 0x0F;
  int sample = ((mantissa << 3) + kBias) << exponent;
  sample -= kBias;
  return (int16_t) (sign ? -sample : sample);
}

uint8_t linear_to_alaw(int16_t pcm)
{
  int sample = pcm;
  int sign = 0x80;
  if (sample < 0) {
    sign = 0x00;
    sample = -sample - 1;
  }
  if (sample > 32767)
    sample = 32767;
  int exponent = 7;
  for (int mask = 0x4000; (sample & mask) == 0 && exponent > 0; mask >>= 1)
    exponent--;
  int mantissa = (exponent == 0) ? (sample >> 4) & 0x0F : (sample >> (exponent + 3)) & 0x0F;
  return (uint8_t) ((sign | (exponent << 4) | mantissa) ^ 0x55);
}

int16_t alaw_to_linear(uint8_t alaw)
{
  alaw ^= 0x55;
  int sign = alaw & 0x80;
  int exponent = (alaw >> 4) & 0x07;
  int mantissa = alaw & 0x0F;
  int sample = (exponent == 0) ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return (int16_t) (sign ? sample : -sample);
}

std::vector<int16_t> decode_ulaw(const uint8_t *data, size_t len)
{
  std::vector<int16_t> out(len);
  for (size_t i = 0; i < len; i++)
    out[i] = ulaw_to_linear(data[i]);
  return out;
}

std::vector<int16_t> decode_alaw(const uint8_t *data, size_t len)
{
  std::vector<int16_t> out(len);
  for (size_t i = 0; i < len; i++)
    out[i] = alaw_to_linear(data[i]);
  return out;
}

/* Every 16-bit sample's code, computed once (64 KB): one lookup per sample instead of the segment
 * search, for whole buffers (the simulator encodes every reply it streams). */
static const uint8_t *ulaw_table()
{
  static const std::array<uint8_t, 65536> table = [] {
    std::array<uint8_t, 65536> t{};
    for (int i = 0; i < 65536; i++)
      t[i] = linear_to_ulaw((int16_t) (uint16_t) i);
    return t;
  }();
  return table.data();
}

std::vector<uint8_t> encode_ulaw(const int16_t *pcm, size_t samples)
{
  const uint8_t *table = ulaw_table();
  std::vector<uint8_t> out(samples);
  for (size_t i = 0; i < samples; i++)
    out[i] = table[(uint16_t) pcm[i]];
  return out;
}

std::vector<uint8_t> encode_alaw(const int16_t *pcm, size_t samples)
{
  std::vector<uint8_t> out(samples);
  for (size_t i = 0; i < samples; i++)
    out[i] = linear_to_alaw(pcm[i]);
  return out;
}

}  // namespace clawvoice::g711
