/* clawvoice — the TwiML that connects a call to our Media Streams endpoint:
 *
 *   <Response><Connect><Stream url="wss://…" statusCallback="https://…">
 *     <Parameter name="token" value="…"/></Stream></Connect></Response>
 *
 * Twilio refuses a Stream url with a query string (error 31920), so per-call data (the single-use
 * token that authenticates the stream) travels as <Parameter>s and comes back in the `start`
 * message's customParameters. */
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace clawvoice::twilio {

struct ConnectStream {
  /* wss://host/path, no query string or fragment. ws:// is accepted only for a loopback host
   * (127.0.0.1, ::1, localhost): the local tests and emulator; Twilio itself requires wss. */
  std::string url;
  /* Optional https:// (http:// only for a loopback host) URL for stream status callbacks. */
  std::string status_callback;
  std::vector<std::pair<std::string, std::string>> parameters;   /* name → value, in order */
};

/* Builds the TwiML document; false with a reason in @error for a URL Twilio would refuse, an empty
 * or repeated parameter name, or text XML cannot carry (control characters). Attribute values are
 * XML-escaped. */
bool build_connect_stream_twiml(const ConnectStream &stream, std::string *twiml, std::string *error);

/* Escapes & < > " ' for an XML attribute value. */
std::string xml_escape(const std::string &text);

}  // namespace clawvoice::twilio
