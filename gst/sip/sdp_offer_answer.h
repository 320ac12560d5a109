/* clawvoice — SDP offer/answer for a telephone call (RFC 3264, RFC 4566), on GStreamer's SDP library.
 *
 * The phone path answers one audio stream with one G.711 codec, 20 ms packets, and RFC 4733
 * telephone-event when the offer has it. Everything else in an offer gets port 0 in the answer (an
 * answer has as many m= lines as its offer, in the same order, with the same t=).
 *
 *   negotiate_sdp(offer, local, &result, &error)
 *     ok      → result.answer is the SDP to send; result.media says where to send RTP, which
 *               payload types arrive, and whether the caller holds the call (sendonly/inactive,
 *               or the old c=0.0.0.0)
 *     failed  → result.status: 400 (not SDP, or no connection address) or 488 (nothing we can
 *               take: no audio over RTP/AVP with PCMU or PCMA), and *error says why.
 *
 * For a call we place, make_sdp_offer() and read_sdp_answer() (below).
 *
 * Nothing here knows SIP or GstElement; the SIP route calls it for INVITE and re-INVITE. */
#pragma once

#include <glib.h>

#include <string>

namespace clawvoice::sip {

enum class Codec { PCMU, PCMA };
const char *codec_name(Codec codec);          /* "PCMU" | "PCMA" */
guint8 codec_payload_type(Codec codec);       /* 0 | 8 (RFC 3551 static types) */

/* a=sendrecv etc. as seen from the side that wrote the SDP. */
enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };
const char *direction_name(Direction direction);

/* What the answer commits us to. */
struct NegotiatedMedia {
  Codec codec = Codec::PCMU;
  guint8 payload_type = 0;
  gint telephone_event_pt = -1;      /* the offer's payload type for telephone-event/8000; -1 none */
  std::string remote_address;        /* where our RTP goes (c= of the chosen m=, else session c=) */
  guint16 remote_port = 0;
  Direction remote_direction = Direction::SendRecv;   /* as offered */
  Direction local_direction = Direction::SendRecv;    /* as answered */
  bool on_hold = false;              /* the caller sends nothing we should hear, or wants nothing */
  guint ptime_ms = 20;
};

/* Our side of the answer. */
struct LocalMedia {
  std::string address;               /* c= and o= of the answer: what the caller can reach */
  guint16 rtp_port = 0;
  guint64 session_id = 0;            /* o= id: fixed for the dialog */
  guint64 session_version = 0;       /* o= version: +1 for every new answer in the dialog */
  bool prefer_pcma = false;          /* by default the offer's order decides; this picks PCMA first */
};

struct Negotiation {
  NegotiatedMedia media;
  std::string answer;                /* SDP text */
  guint status = 0;                  /* when failing: 400 or 488 */
};

bool negotiate_sdp(const std::string &offer, const LocalMedia &local, Negotiation *out, std::string *error);

/* For a call we place. Our offer: PCMU then PCMA (PCMA first with prefer_pcma), RFC 4733
 * telephone-event as payload type kOfferedTelephoneEventPt, ptime 20, sendrecv. */
constexpr guint8 kOfferedTelephoneEventPt = 101;
std::string make_sdp_offer(const LocalMedia &local);
/* The callee's answer to make_sdp_offer(), read as negotiate_sdp() reads an offer: the codec it
 * took, where our RTP goes, its telephone-event type, its direction (hold included). false (and
 * *error) when it is not SDP or takes neither G.711 codec. */
bool read_sdp_answer(const std::string &answer, NegotiatedMedia *out, std::string *error);

}  // namespace clawvoice::sip
