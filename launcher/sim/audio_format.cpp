#include "audio_format.h"

#include "common/g711.h"

#include <glib.h>

#include <cmath>
#include <cstring>

namespace clawvoice::sim {

double AudioFormat::ms_for_bytes(size_t bytes) const
{
  return (double) (bytes / bytes_per_sample()) * 1000.0 / rate();
}

size_t AudioFormat::bytes_for_ms(double ms) const
{
  size_t samples = (size_t) std::llround(ms * rate() / 1000.0);
  return samples * bytes_per_sample();
}

AudioFormat AudioFormat::from_json(JsonObject *format)
{
  AudioFormat f;
  std::string type = json::get_string(format, "type", "audio/pcm");
  if (type == "audio/pcmu")
    f.kind = Kind::Pcmu;
  else if (type == "audio/pcma")
    f.kind = Kind::Pcma;
  return f;
}

json::ObjectPtr AudioFormat::to_json() const
{
  json::ObjectPtr o(json_object_new());
  switch (kind) {
    case Kind::Pcm16:
      json_object_set_string_member(o.get(), "type", "audio/pcm");
      json_object_set_int_member(o.get(), "rate", 24000);
      break;
    case Kind::Pcmu:
      json_object_set_string_member(o.get(), "type", "audio/pcmu");
      break;
    case Kind::Pcma:
      json_object_set_string_member(o.get(), "type", "audio/pcma");
      break;
  }
  return o;
}

std::vector<int16_t> decode_audio(const AudioFormat &format, const uint8_t *data, size_t len)
{
  switch (format.kind) {
    case AudioFormat::Kind::Pcmu:
      return g711::decode_ulaw(data, len);
    case AudioFormat::Kind::Pcma:
      return g711::decode_alaw(data, len);
    case AudioFormat::Kind::Pcm16:
      break;
  }
  std::vector<int16_t> pcm(len / 2);
  for (size_t i = 0; i < pcm.size(); i++)
    pcm[i] = (int16_t) (data[2 * i] | (data[2 * i + 1] << 8));
  return pcm;
}

std::vector<uint8_t> encode_audio(const AudioFormat &format, const int16_t *pcm, size_t samples)
{
  switch (format.kind) {
    case AudioFormat::Kind::Pcmu:
      return g711::encode_ulaw(pcm, samples);
    case AudioFormat::Kind::Pcma:
      return g711::encode_alaw(pcm, samples);
    case AudioFormat::Kind::Pcm16:
      break;
  }
  std::vector<uint8_t> bytes(samples * 2);
  for (size_t i = 0; i < samples; i++) {
    bytes[2 * i] = (uint8_t) (pcm[i] & 0xff);
    bytes[2 * i + 1] = (uint8_t) ((uint16_t) pcm[i] >> 8);
  }
  return bytes;
}

}  // namespace clawvoice::sim
