/* clawvoice — unguessable tokens from the kernel's random source (getrandom), for ids that act as
 * credentials: ephemeral keys, webhook secrets, task ids a browser polls. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace clawvoice::openai {

std::vector<uint8_t> random_bytes(size_t count);
/* @bytes random bytes as lowercase hex (2 × @bytes characters). */
std::string random_hex(size_t bytes);

}  // namespace clawvoice::openai
