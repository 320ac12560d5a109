/* clawvoice simulator — the Realtime API's audio formats and the bytes that carry them.
 *
 * `audio/pcm` is 16-bit little-endian mono at 24 kHz; `audio/pcmu` / `audio/pcma` are G.711 at
 * 8 kHz (8 bytes = 1 ms). Audio travels base64-encoded; the service is strict about the encoding,
 * so the decoder here is too (g_base64_decode() silently skips garbage). */
#pragma once

#include "common/base64.h"
#include "common/json.h"

#include <cstdint>
#include <string>
#include <vector>

namespace clawvoice::sim {

struct AudioFormat {
  enum class Kind { Pcm16, Pcmu, Pcma } kind = Kind::Pcm16;

  int rate() const { return kind == Kind::Pcm16 ? 24000 : 8000; }
  size_t bytes_per_sample() const { return kind == Kind::Pcm16 ? 2 : 1; }
  double ms_for_bytes(size_t bytes) const;
  /* A whole number of samples covering @ms of audio. */
  size_t bytes_for_ms(double ms) const;

  /* From a RealtimeAudioFormats object ({"type":"audio/pcm","rate":24000} …); pcm if unknown. */
  static AudioFormat from_json(JsonObject *format);
  json::ObjectPtr to_json() const;
};

/* The strict base64 codec lives in the core library; the simulator uses it unqualified. */
using clawvoice::base64::decode_base64_strict;
using clawvoice::base64::encode_base64;

/* Wire bytes of @format → PCM16 samples at format.rate(), and back. */
std::vector<int16_t> decode_audio(const AudioFormat &format, const uint8_t *data, size_t len);
std::vector<uint8_t> encode_audio(const AudioFormat &format, const int16_t *pcm, size_t samples);

}  // namespace clawvoice::sim
