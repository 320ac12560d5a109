/* clawvoice — G.711 μ-law and A-law (ITU-T G.711), sample by sample.
 *
 * The elements pass telephony audio through untouched; only the simulator (VAD, synthesis) and the
 * tests need to convert. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace clawvoice::g711 {

uint8_t linear_to_ulaw(int16_t pcm);
int16_t ulaw_to_linear(uint8_t ulaw);
uint8_t linear_to_alaw(int16_t pcm);
int16_t alaw_to_linear(uint8_t alaw);

std::vector<int16_t> decode_ulaw(const uint8_t *data, size_t len);
std::vector<int16_t> decode_alaw(const uint8_t *data, size_t len);
std::vector<uint8_t> encode_ulaw(const int16_t *pcm, size_t samples);
std::vector<uint8_t> encode_alaw(const int16_t *pcm, size_t samples);

}  // namespace clawvoice::g711
