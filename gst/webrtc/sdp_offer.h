/* clawvoice — what the launcher needs to know about a browser's SDP offer before it builds a call:
 * that it has an audio m-line with Opus, and Opus's payload type there.
 *
 * webrtcbin (1.22) answers an offer `recvonly` without a word when the sending payloader uses
 * another payload type than the offer's Opus (reference/webrtc.md), so the route sets the
 * payloader's `pt` from here. A text scan, deliberately small: webrtcbin parses the SDP for real. */
#pragma once

#include <string>

namespace clawvoice::webrtc {

struct OfferAudio {
  bool ok = false;
  int opus_payload_type = -1;   /* e.g. 111 (Chromium), 109 (Firefox) */
  unsigned mline_index = 0;     /* of the first usable audio m-line */
  std::string mid;              /* its a=mid, may be empty */
  std::string error;            /* when !ok: a sentence for the `error` message */
};

OfferAudio inspect_offer(const std::string &sdp);

}  // namespace clawvoice::webrtc
