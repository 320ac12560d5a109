/* Twilio emulator — a strict reader of the TwiML answer to a voice webhook.
 *
 * It accepts the one shape the bridge must answer (twilio.md):
 *   <Response><Connect><Stream url="wss://…" statusCallback="…"><Parameter name value/>*</Stream>
 *   </Connect>[verbs run after the stream ends]</Response>
 * and reports every deviation with the code Twilio would log:
 *   12100 the document does not parse, 12200 schema violation (unknown element or attribute, a
 *   missing required one, text where none belongs), 31920 a stream URL with a query string
 *   (twilio.md), 31922 a stream URL whose scheme is not wss, 31923 a malformed stream URL. */
#pragma once

#include <string>
#include <vector>

#include "form_params.h"

namespace clawvoice::test::twilio_emu {

struct TwimlError {
  int code;
  std::string message;
};

struct ConnectStream {
  std::string url;
  std::string name;
  std::string track;
  std::string status_callback;
  std::string status_callback_method;
  FormParams parameters;                         /* <Parameter>s in document order */
  std::string connect_action;                    /* <Connect action> if any */
  std::vector<std::string> verbs_after_connect;  /* element names, in order */
};

struct TwimlOptions {
  /* Tests run without TLS: accept ws://127.0.0.1[:port]/… (and nothing else that is not wss). */
  bool allow_ws_loopback = false;
};

struct TwimlResult {
  ConnectStream stream;
  std::vector<TwimlError> errors;
  bool ok() const { return errors.empty(); }
  bool has_error(int code) const;
  std::string describe() const;   /* "12200: …; 31920: …" */
};

TwimlResult parse_connect_stream_twiml(const std::string &xml, const TwimlOptions &options = {});

/* The checks Twilio makes on a <Stream url>; an empty vector when the URL is acceptable. */
std::vector<TwimlError> check_stream_url(const std::string &url, const TwimlOptions &options);

}  // namespace clawvoice::test::twilio_emu
