/* Twilio emulator — the caller's audio: G.711 μ-law at 8 kHz mono, as Twilio carries it. */
#pragma once

#include <glib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace clawvoice::test::twilio_emu {

constexpr guint kMulawRate = 8000;
constexpr guint kFrameBytes = 160;   /* 20 ms */
constexpr guint8 kMulawSilence = 0xFF;

/* ITU-T G.711 μ-law → 16-bit linear. */
int16_t mulaw_to_linear(guint8 ulaw);

/* Loads any WAV file GStreamer can read and converts it to 8 kHz mono μ-law through
 * filesrc ! wavparse ! audioconvert ! audioresample ! S16LE/8000/1 ! mulawenc ! appsink.
 * Initialises GStreamer if needed. Returns false (and @error) when the file cannot be read. */
bool load_wav_as_mulaw(const std::string &path, std::vector<guint8> *out, std::string *error);

/* Writes μ-law audio as a 16-bit PCM 8 kHz mono WAV file (what every player reads). */
bool write_mulaw_as_wav(const std::string &path, const std::vector<guint8> &mulaw,
                        std::string *error);

/* RMS of the decoded signal, in linear units (0 … 32767). μ-law silence (0xFF/0x7F) gives 0. */
double mulaw_rms(const guint8 *data, size_t len);
inline double mulaw_rms(const std::vector<guint8> &data) { return mulaw_rms(data.data(), data.size()); }

/* Milliseconds of audio with @bytes of μ-law. */
inline double mulaw_ms(guint64 bytes) { return bytes / 8.0; }

}  // namespace clawvoice::test::twilio_emu
