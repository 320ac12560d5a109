/* clawvoice — the browser signalling protocol (docs/browser.md): JSON text frames on WS /signal.
 *
 *   {"type": "...", "session_id": "call_…", "payload": {...}}
 *
 * From the browser: `offer` {sdp}, `ice` {candidate, sdpMid, sdpMLineIndex}, `bye` {}.
 * From the launcher: `answer` {sdp}, `ice`, `state` {state, reason?}, `event` {kind, …}, `error`
 * {message}, `bye` {reason?}.
 *
 * Parsing is strict: anything the launcher cannot act on is an error with a sentence that says why,
 * so the route can answer `error` and tear the call down instead of guessing. No GstElement here. */
#pragma once

#include <json-glib/json-glib.h>

#include <optional>
#include <string>

namespace clawvoice::webrtc {

/* Larger frames are refused before parsing (an SDP offer is a few KiB). */
constexpr size_t kMaxSignalMessageBytes = 64 * 1024;

enum class BrowserMessageType { Offer, Ice, Bye };

/* A trickled candidate. An empty `candidate` is the end-of-candidates marker. */
struct IceCandidate {
  std::string candidate;
  std::string sdp_mid;          /* may be empty */
  guint sdp_mline_index = 0;
};

struct BrowserMessage {
  BrowserMessageType type = BrowserMessageType::Bye;
  std::string session_id;       /* as the browser sent it; the route checks it is its own */
  std::string sdp;              /* offer */
  IceCandidate ice;             /* ice */
};

struct BrowserParse {
  std::optional<BrowserMessage> message;
  std::string error;            /* why it was refused, for the `error` message and the log */
};

/* One text frame from the browser. */
BrowserParse parse_browser_message(const std::string &text);

/* The call states the browser is told about (the page shows them as they are). */
enum class SignalState { Connecting, Live, Reconnecting, Ended, Failed };
const char *signal_state_name(SignalState state);

/* Frames from the launcher; @session_id is the call's id. */
std::string answer_message(const std::string &session_id, const std::string &sdp);
std::string ice_message(const std::string &session_id, const IceCandidate &candidate);
std::string state_message(const std::string &session_id, SignalState state, const std::string &reason = "");
std::string error_message(const std::string &session_id, const std::string &text);
std::string bye_message(const std::string &session_id, const std::string &reason);
/* @payload is copied; it should carry a string member "kind" (transcript, task, cost, turn). */
std::string event_message(const std::string &session_id, JsonObject *payload);

}  // namespace clawvoice::webrtc
