/* clawvoice simulator — `POST /v1/realtime/calls`, the browser-direct WebRTC mode's front door
 * (reference: realtime-protocol.md "Ephemeral keys and OpenAI-hosted calls"; OpenAPI operation
 * create-realtime-call):
 *
 *   Authorization: Bearer ek_… (a client secret: its session is the call's) or the API key
 *   Content-Type: application/sdp, body = the offer           (the browser's way)
 *              or multipart/form-data, parts sdp + session     (the server's way, API key only)
 *   → 201, Content-Type: application/sdp, body = the answer, Location: /v1/realtime/calls/rtc_…
 *
 * Browsers call it from another origin, so it answers CORS preflights and exposes Location. Each
 * call is a SimWebRtcCall (sim_webrtc_call.h) bridged into a normal simulator session. Sim thread. */
#pragma once

#include "sim_webrtc_call.h"

#include <libsoup/soup.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace clawvoice::sim {

/* One WebRTC call as the simulator saw it (for tests). */
struct SimWebRtcCallRecord {
  std::string call_id;
  bool with_client_secret = false;
  std::string state = "answering";   /* answering | live | ended | failed */
  std::string end_reason;
};

class SimWebRtcCalls {
 public:
  struct Context {
    std::string api_key;                                        /* "" = any non-empty bearer */
    std::function<bool(const std::string &key)> valid_client_secret;
    std::function<std::string(const std::string &key)> client_secret_session;   /* its GA session JSON */
    std::function<std::string()> realtime_url;                  /* ws://host:port/v1/realtime */
    std::string ice_address;                                    /* the listen host, if an address */
  };

  SimWebRtcCalls(Context context, GMainContext *main_context);
  ~SimWebRtcCalls();

  void handle(SoupServerMessage *msg);   /* sim thread: POST / OPTIONS /v1/realtime/calls */
  void shutdown();                       /* sim thread: ends every call */
  bool hang_up(const std::string &call_id);   /* sim thread */

  std::vector<SimWebRtcCallRecord> records() const;   /* any thread */

 private:
  void fail(SoupServerMessage *msg, unsigned status, const std::string &code, const std::string &message,
            const std::string &param = "");
  void update(const std::string &call_id, const std::function<void(SimWebRtcCallRecord &)> &change);

  Context context_;
  GMainContext *main_context_;
  std::map<std::string, std::shared_ptr<SimWebRtcCall>> calls_;   /* sim thread */

  mutable std::mutex lock_;
  std::vector<SimWebRtcCallRecord> records_;
};

}  // namespace clawvoice::sim
