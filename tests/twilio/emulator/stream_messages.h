/* Twilio emulator — the Media Streams messages, both ways, per twilio.md.
 *
 * Twilio → bridge messages are built exactly as Twilio sends them (sequenceNumber, chunk and
 * timestamp as JSON strings). Bridge → Twilio messages are judged strictly: only media, mark and
 * clear, with exactly their documented members, our streamSid, and raw μ-law in base64. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

#include "form_params.h"

namespace clawvoice::test::twilio_emu {

/* Twilio error codes for what the bridge sends (twilio.md). */
enum TwilioError : int {
  kErrorHandshake = 31920,       /* the WebSocket upgrade was not answered with 101 */
  kErrorFileHeader = 31924,      /* audio payload with a file header, not raw μ-law */
  kErrorBufferOverflow = 31931,  /* more than 10 minutes buffered: audio dropped */
  kErrorBinaryFrame = 31950,     /* a binary WebSocket frame */
  kErrorInvalidMessage = 31951,  /* not JSON, unknown event, extra/missing field, wrong streamSid */
};

struct StreamIds {
  std::string account_sid;
  std::string call_sid;
  std::string stream_sid;
};

std::string connected_message();
std::string start_message(guint64 sequence, const StreamIds &ids, const FormParams &custom);
std::string media_message(guint64 sequence, guint64 chunk, guint64 timestamp_ms,
                          const guint8 *mulaw, size_t len, const std::string &stream_sid);
std::string dtmf_message(guint64 sequence, char digit, const std::string &stream_sid);
std::string mark_echo_message(guint64 sequence, const std::string &name,
                              const std::string &stream_sid);
std::string stop_message(guint64 sequence, const StreamIds &ids);

/* One message from the bridge, judged. */
struct BridgeMessage {
  enum class Kind { Media, Mark, Clear, Invalid };
  Kind kind = Kind::Invalid;
  std::vector<guint8> audio;   /* Media: the decoded payload */
  std::string mark_name;       /* Mark */
  int error_code = 0;          /* Invalid: the Twilio error */
  std::string error;           /* Invalid: what is wrong */
};

BridgeMessage parse_bridge_message(const char *text, size_t len, const std::string &stream_sid);

/* Strict base64 (RFC 4648 alphabet, padding only at the end, length a multiple of 4). */
bool strict_base64_decode(const char *text, size_t len, std::vector<guint8> *out);

/* The name of a file format whose header starts @data ("RIFF/WAV", "Ogg", …), or nullptr. */
const char *file_header_name(const guint8 *data, size_t len);

}  // namespace clawvoice::test::twilio_emu
