/* clawvoice — strict base64 (RFC 4648) for audio on the wire.
 *
 * g_base64_decode() silently skips characters outside the alphabet; the Realtime service rejects
 * them, and a client must notice corrupted audio, so both sides use this strict decoder. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clawvoice::base64 {

/* Only the standard alphabet, length a multiple of 4, at most two '=' and only at the end.
 * Returns false (and leaves @out empty) on anything else. */
bool decode_base64_strict(std::string_view text, std::vector<uint8_t> *out);
std::string encode_base64(const uint8_t *data, size_t len);

}  // namespace clawvoice::base64
