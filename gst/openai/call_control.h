/* clawvoice — OpenAI-hosted calls (SIP into OpenAI, browser WebRTC straight to OpenAI): the
 * `realtime.call.incoming` webhook event and the bodies of the call-control REST requests
 * (reference: realtime-protocol.md, "Ephemeral keys and OpenAI-hosted calls"; schemas
 * WebhookRealtimeCallIncoming, RealtimeSessionCreateRequestGA, RealtimeCallRejectRequest,
 * RealtimeCallReferRequest, RealtimeCreateClientSecretRequest).
 *
 *   POST /v1/realtime/calls/{id}/accept   body: the GA session (type "realtime", model, …)
 *   POST /v1/realtime/calls/{id}/reject   body: {"status_code":486} (optional; 603 when absent)
 *   POST /v1/realtime/calls/{id}/refer    body: {"target_uri":"tel:+1…"}
 *   POST /v1/realtime/calls/{id}/hangup   no body
 *   POST /v1/realtime/client_secrets      {"expires_after":{"anchor":"created_at","seconds":N},"session":{…}}
 *
 * Pure data: no network, no GstElement. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "realtime/session_config.h"

namespace clawvoice::openai {

/* The agent tool every OpenAI-hosted session offers (the same one openclawrelay serves). */
constexpr const char *kAgentToolName = "send_to_openclaw";
constexpr const char *kAgentToolDescription =
    "Send a task or question to OpenClaw for processing. Use for anything requiring tools, lookups, "
    "memory, file access, or actions.";
realtime::ToolDefinition agent_tool();

struct IncomingCall {
  std::string event_id;      /* evt_… */
  int64_t created_at = 0;
  std::string call_id;       /* rtc_… */
  std::vector<std::pair<std::string, std::string>> sip_headers;   /* name, value, in order */
  std::string header(const std::string &name) const;   /* case-insensitive; "" when absent */
  /* The caller's number or SIP user from the From header ("+15551234567"), "" when none. */
  std::string caller() const;
  /* The number or user called (To header). */
  std::string callee() const;
};

/* Parses a webhook body. Returns nullopt and says why for anything that is not a well-formed
 * event; *type is set to the event's `type` whenever there is one, so other event types can be
 * acknowledged and ignored. Only `realtime.call.incoming` yields an IncomingCall. */
std::optional<IncomingCall> parse_call_incoming(const std::string &body, std::string *type, std::string *error);

/* The user part of a SIP name-addr / addr-spec: `"Bob" <sip:+1555@host>;tag=x` → "+1555";
 * `tel:+1555` → "+1555". "" when there is none. */
std::string sip_user_of(const std::string &header_value);

/* The webhook body OpenAI sends (for the simulator and tests). */
std::string build_call_incoming(const IncomingCall &call);

/* The GA session object for accept and client secrets: the session.update session of @config
 * (audio formats left out, OpenAI negotiates them with the SIP or WebRTC peer) plus `model`. */
std::string build_call_session(const realtime::SessionConfig &config);
std::string build_reject_body(unsigned sip_status);
std::string build_refer_body(const std::string &target_uri);
std::string build_client_secret_request(const realtime::SessionConfig &config, unsigned ttl_seconds);

/* `/realtime/calls/<escaped id>/<verb>`, relative to the REST base (as the OpenAPI paths are) */
std::string call_control_path(const std::string &call_id, const std::string &verb);

/* The REST base of a Realtime WebSocket URL: wss://api.openai.com/v1/realtime → https://api.openai.com/v1,
 * ws://127.0.0.1:PORT/v1/realtime → http://127.0.0.1:PORT/v1. "" when @url is not a ws(s) URL. */
std::string rest_base_of_realtime_url(const std::string &url);

}  // namespace clawvoice::openai
