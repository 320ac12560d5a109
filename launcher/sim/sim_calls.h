/* clawvoice simulator — OpenAI-hosted calls and client secrets, the REST side of the Realtime API
 * (reference: realtime-protocol.md "Ephemeral keys and OpenAI-hosted calls"; the OpenAPI paths
 * /realtime/calls/{call_id}/{accept,reject,refer,hangup} and /realtime/client_secrets).
 *
 *   POST /v1/realtime/calls/{id}/accept   GA session (RealtimeSessionCreateRequestGA) → 200
 *   POST /v1/realtime/calls/{id}/reject   optional {"status_code":N} (RealtimeCallRejectRequest) → 200
 *   POST /v1/realtime/calls/{id}/refer    {"target_uri":…} (RealtimeCallReferRequest) → 200
 *   POST /v1/realtime/calls/{id}/hangup   → 200 (a SIP call, or a WebRTC call this simulator answered)
 *   POST /v1/realtime/client_secrets      RealtimeCreateClientSecretRequest → {value:"ek_…",expires_at,session}
 *
 * As strict as the rest of the simulator: the API key as bearer, JSON bodies validated against the
 * schemas (closed objects), errors in OpenAI's shape, a call id it never rang is 404, and a call in
 * the wrong state (accepting a call twice, referring one never accepted) is 400.
 *
 * The SIP side is simulated too: place_call() rings a call — it sends the signed
 * `realtime.call.incoming` webhook (Standard Webhooks) to the configured URL, as OpenAI does when a
 * trunk forwards an INVITE — and caller_hangs_up() ends it, closing its sideband connections.
 *
 * Lives on the simulator's thread (attach, handlers, place_call's webhook); the record accessors may
 * be called from any thread. */
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace clawvoice::sim {

/* A SIP call to ring (OpenAI → our webhook). */
struct SipCallRequest {
  std::string webhook_url;       /* where OpenAI's webhook goes, e.g. http://127.0.0.1:8080/openai/webhook */
  std::string webhook_secret;    /* whsec_… the webhook is signed with ("" = unsigned) */
  std::string from = "\"Caller\" <sip:+15551234567@sip.example.com>;tag=sim";
  std::string to = "<sip:+15557654321@sip.api.openai.com>";
  std::vector<std::pair<std::string, std::string>> extra_headers;   /* more SIP headers */
  int64_t timestamp_offset_s = 0;  /* skew the webhook-timestamp (replay tests) */
};

/* A function call the model made on a call's session, and the output the client sent for it. */
struct SimCallFunctionCall {
  std::string call_id;                   /* call_… (the function call's, not the SIP call's) */
  std::string name;
  std::string arguments;                 /* JSON text */
  std::string output;                    /* the function_call_output's output ("" until it arrives) */
  bool answered = false;
};

/* One call as the simulator saw it. */
struct SimCallRecord {
  std::string call_id;                   /* rtc_… */
  std::string state = "incoming";        /* incoming | accepted | rejected | ended */
  unsigned webhook_status = 0;           /* what our webhook answered (0: no answer yet / failed) */
  std::string webhook_error;
  int64_t webhook_sent_us = 0;           /* g_get_monotonic_time() when the webhook was sent */
  int64_t webhook_answered_us = 0;
  int64_t accepted_us = 0;               /* when the accept arrived */
  std::string accept_body;               /* the session sent with the accept */
  int reject_status = 0;                 /* SIP status of the reject (603 when none was given) */
  std::vector<std::string> refers;       /* target URIs, in order */
  std::string ended_by;                  /* "api" (hangup) | "caller" | "" */
  int sideband_connections = 0;          /* WebSockets opened with ?call_id= for it */
  /* What happened in the call's session (sip_caller_says and the model's answers), in order: */
  std::vector<std::string> caller_said;          /* the caller's turns, as transcribed */
  std::vector<SimCallFunctionCall> function_calls;
  std::vector<std::string> assistant_said;       /* the transcript of each finished spoken reply */
};

/* One client secret minted. */
struct SimClientSecret {
  std::string value;                     /* ek_… */
  int64_t expires_at = 0;                /* Unix seconds */
  std::string request_body;
};

/* One REST request to the calls / client secrets endpoints, refused ones included. */
struct SimRestRecord {
  std::string method;
  std::string path;
  std::string body;
  unsigned status = 0;
  std::string error_code;
};

class SimCalls {
 public:
  /* @api_key: the bearer required ("" = any non-empty bearer). */
  explicit SimCalls(std::string api_key);
  ~SimCalls();

  /* Adds the handlers to @server (sim thread). @close_sideband closes the open sideband sessions of
   * a call (it runs on the sim thread). */
  void attach(SoupServer *server, std::function<void(const std::string &call_id)> close_sideband);
  void shutdown();   /* sim thread; before the server goes away */

  /* Sim thread. Rings a call: returns its id, the webhook goes out asynchronously. */
  std::string place_call(const SipCallRequest &request);
  /* Sim thread. The caller hangs up: the call ends and its sideband sessions close. */
  bool caller_hangs_up(const std::string &call_id);
  /* Sim thread: a WebSocket joined ?call_id=@call_id. */
  void sideband_opened(const std::string &call_id);
  /* Sim thread, from the call's sideband sessions: what was said and called on it. */
  void caller_spoke(const std::string &call_id, const std::string &transcript);
  void function_called(const std::string &call_id, const std::string &fn_call_id, const std::string &name,
                       const std::string &arguments);
  void function_answered(const std::string &call_id, const std::string &fn_call_id, const std::string &output);
  void assistant_spoke(const std::string &call_id, const std::string &transcript);
  /* Sim thread: who answers POST /v1/realtime/calls itself (the browser's WebRTC offer, see
   * sim_webrtc_calls.h); unset, it is 404. */
  void set_offer_handler(std::function<void(SoupServerMessage *msg)> handler) { offer_handler_ = std::move(handler); }
  /* Sim thread: who hangs up a WebRTC call this simulator answered (POST …/rtc_…/hangup of a
   * call that is not SIP): returns "hung_up", "over" (it has ended) or "" (no such call). */
  void set_webrtc_hangup(std::function<std::string(const std::string &call_id)> hangup)
  {
    webrtc_hangup_ = std::move(hangup);
  }
  /* Any thread: a minted, unexpired client secret (WebSocket and WebRTC take it as the key). */
  bool valid_client_secret(const std::string &key) const;

  std::vector<SimCallRecord> calls() const;
  bool call(const std::string &call_id, SimCallRecord *out) const;
  std::vector<SimClientSecret> client_secrets() const;
  std::vector<SimRestRecord> rest_requests() const;

 private:
  void handle_calls(SoupServerMessage *msg, const std::string &path);
  void handle_client_secrets(SoupServerMessage *msg);
  void answer(SoupServerMessage *msg, SimRestRecord record, unsigned status, const std::string &body);
  void fail(SoupServerMessage *msg, SimRestRecord record, unsigned status, const std::string &type,
            const std::string &code, const std::string &message, const std::string &param = "");
  void update(const std::string &call_id, const std::function<void(SimCallRecord &)> &change);

  std::string api_key_;
  std::function<void(const std::string &)> close_sideband_;
  std::function<void(SoupServerMessage *)> offer_handler_;
  std::function<std::string(const std::string &)> webrtc_hangup_;
  SoupSession *webhooks_ = nullptr;      /* sim thread */

  mutable std::mutex lock_;
  std::map<std::string, SimCallRecord> calls_;
  std::vector<std::string> order_;
  std::vector<SimClientSecret> secrets_;
  std::vector<SimRestRecord> requests_;
};

}  // namespace clawvoice::sim
