/* clawvoice-launcher — the SIP front door (docs/sip.md; facts in ../shared/reference/sip.md).
 *
 * A user agent server over UDP on Sofia-SIP's nua, on its own thread (routes/sip/sip_thread.h):
 *
 *   INVITE with an SDP offer → 100 Trying (nua, at once) → who may call: the source address against
 *   routes.sip.allow (else 403), digest users (else 401 with a challenge, 403 for wrong credentials)
 *   → the offer negotiated (gst/sip/sdp_offer_answer.h; 400/488 when unusable) → an RTP port taken →
 *   a call created (486 when busy) → 180 Ringing → the call's pipeline (pipelines/sip.launch) built
 *   and playing, muted → after answer_delay_ms, 200 OK with the SDP answer, unmuted.
 *   Retransmissions, ACK, CANCEL (200 + 487), OPTIONS (200), BYE (200; 481 unknown) are nua's.
 *   re-INVITE: a new answer on the same port; hold (sendonly/inactive/c=0.0.0.0) mutes our audio and
 *   suspends the RTP timeout.
 *
 * The call ends when: the caller sends BYE or CANCEL; no ACK arrives (nua gives up after 64·T1 and
 * sends BYE); no RTP arrives for rtp_timeout_seconds (udpsrc's timeout message); the launcher ends it
 * (DELETE /calls/{id}, TTL, pipeline error) — then on_call_ended() sends our BYE, or a final error
 * response if the call was not answered yet. RFC 4733 digits from `dtmf` become `call.dtmf` logs and
 * the call's `last_dtmf` param, like Twilio's.
 *
 * Calls we place (place_call(), from POST /calls): an RTP port, INVITE with our offer → 180 →
 * 200 (nua ACKs) → the answer read → the pipeline plays; a final error fails the call with it;
 * hanging up sends CANCEL while it rings, BYE after. */
#pragma once

#include <gst/gst.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "routes/route.h"

namespace clawvoice::launcher {

namespace sip {
class SipThread;
class RtpPorts;
class AddressAllowlist;
class DigestAuth;
}  // namespace sip

class SipRoute : public Route {
 public:
  explicit SipRoute(const RouteContext &context);
  ~SipRoute() override;
  bool install(std::string *error) override;
  void on_call_message(const std::string &call_id, GstMessage *message) override;
  void on_call_ended(const CallSnapshot &call) override;
  std::vector<std::string> banner() const override;
  bool place_call(const std::string &to, std::string *call_id, guint *status, std::string *error) override;

  struct Leg;
  struct Stack;

 private:
  const Config &config_;
  const RouteConfig &route_;
  CallManager &calls_;
  Metrics &metrics_;
  std::unique_ptr<Stack> stack_;
  std::mutex lock_;
  std::set<std::string> held_;   /* calls the caller holds: their RTP silence is not a timeout */
};

}  // namespace clawvoice::launcher
