/* clawvoice — an in-process simulator of the OpenAI Realtime API (GA protocol), as strict as the
 * real service. `clawvoice-sim` wraps it as a program; tests embed it directly on 127.0.0.1:0.
 *
 * It runs on a thread of its own with its own GMainContext; every public method is thread-safe. */
#pragma once

#include "agent_options.h"
#include "sim_calls.h"
#include "sim_webrtc_calls.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace clawvoice::sim {

/* What the caller said in one committed user turn, as the simulator saw it. */
struct UserTurn {
  int index = 0;                 /* 0-based count of committed user turns in this connection */
  std::string item_id;
  int64_t audio_start_ms = 0;    /* position in the input audio buffer timeline */
  int64_t audio_end_ms = 0;
  std::string transcript;        /* what the simulator "heard" (scripted, or a description) */
};

/* What the simulated model does in reply to a turn (or to a function_call_output). */
struct Reply {
  enum class Kind { Speak, CallTool, Nothing } kind = Kind::Speak;
  std::string text;              /* Speak: the words to synthesise (espeak-ng) and transcribe */
  std::string tool_name;         /* CallTool: the function to call */
  std::string tool_arguments;    /* CallTool: JSON text of the arguments */
};

struct Options {
  std::string host = "127.0.0.1";
  unsigned port = 0;                     /* 0 = pick a free port; read it back with port() */
  std::string api_key;                   /* required bearer token; empty = any non-empty bearer */
  unsigned session_max_seconds = 3600;   /* after this: error session_expired, then close */
  double burst_speed = 4.0;              /* audio is sent this many times faster than real time */
  unsigned delta_ms = 200;               /* audio per response.output_audio.delta */
  unsigned response_delay_ms = 150;      /* "thinking" time before the first delta */
  std::string default_voice = "marin";
  /* The model's behaviour, called on the simulator's thread (keep them quick). Defaults: a turn
   * in a session with tools calls the first tool with a description of the turn; a turn without
   * tools, or a function_call_output, gets a spoken reply (see reply_policy.h). */
  std::function<Reply(const UserTurn &)> on_user_turn;
  std::function<Reply(const std::string &call_id, const std::string &output)> on_tool_output;
  std::function<std::string(const UserTurn &)> transcribe;   /* default: "(N.N seconds of speech)" */
  /* Shortcuts for the default behaviour (used by the `clawvoice-sim` program): */
  std::string reply_text;   /* every default spoken reply says this (empty = built-in phrases) */
  /* received_events() keeps every client event's text. A benchmark that streams hours of audio
   * turns it off: the list would grow by ten thousand events a second. */
  bool keep_received_events = true;
  bool tool_calls = true;   /* false: the default never calls a tool, it always speaks */
  /* The fake OpenClaw gateway served on the same port (POST /v1/chat/completions, /hooks/agent). */
  AgentOptions agent;
};

/* One client event as received (after validation), for tests to inspect. */
struct ReceivedEvent {
  std::string type;
  std::string json;       /* the raw text frame */
  bool valid = true;      /* false if the simulator answered it with an error */
  int connection = 0;     /* 1-based connection number */
};

struct Truncation {
  std::string item_id;
  int64_t audio_end_ms = 0;
  int64_t audio_sent_ms = 0;   /* how much audio the simulator had sent for that item */
  bool accepted = false;
  int64_t received_us = 0;     /* g_get_monotonic_time() when it arrived */
};

struct ErrorSent {
  std::string code;
  std::string message;
  std::string param;
  std::string event_id;
};

class RealtimeSimulator {
 public:
  explicit RealtimeSimulator(Options options = {});
  ~RealtimeSimulator();   /* stops if running */

  bool start(std::string *error = nullptr);
  void stop();
  unsigned port() const;
  std::string url() const;   /* "ws://127.0.0.1:<port>/v1/realtime" */
  std::string gateway_url() const;   /* "http://127.0.0.1:<port>": the fake OpenClaw gateway's base URL */

  /* Fault injection; each applies to the connection(s) open at the time or the next reply. */
  void close_next_reply_after_ms(int64_t ms);          /* drop the socket mid-reply (no close frame) */
  void send_error_event(const std::string &code, const std::string &message);
  void send_raw_text(const std::string &text);         /* e.g. malformed JSON, unknown events */
  void expire_sessions_now();                          /* error session_expired + close */
  void drop_all_connections();

  /* Observations. */
  std::vector<ReceivedEvent> received_events() const;
  std::vector<Truncation> truncations() const;
  std::vector<ErrorSent> errors_sent() const;
  std::vector<UserTurn> user_turns() const;
  int connections_accepted() const;
  int connections_open() const;
  int64_t input_audio_ms() const;   /* total caller audio received, all connections */
  int responses_in_flight() const;  /* response.created sent, response.done not yet: all connections */
  /* The JSON text of the effective session of the most recent connection. */
  std::string current_session_json() const;
  /* The JSON array of the conversation items of the most recent connection, in order (audio
   * bytes are not kept; transcripts and texts are). */
  std::string conversation_json() const;

  /* The fake OpenClaw gateway: every chat request (refused ones too) and hook, in order, and what
   * a session remembers (see agent_options.h). */
  std::vector<AgentRequestRecord> agent_requests() const;
  std::vector<AgentHookRecord> agent_hooks() const;
  std::vector<AgentTurn> agent_session(const std::string &session_key) const;

  /* OpenAI-hosted calls (sim_calls.h): ring a SIP call (the signed realtime.call.incoming webhook
   * goes to request.webhook_url; returns the rtc_… id at once), let its caller hang up, and what the
   * calls / client secrets endpoints saw. */
  std::string place_sip_call(const SipCallRequest &request);
  bool sip_caller_hangs_up(const std::string &call_id);
  /* The SIP caller of @call_id says @text: the call's session hears a user turn exactly as if
   * its audio had come in and server VAD had ended it (speech_started / _stopped, committed, the
   * user item, the transcription `text` when the session transcribes), then the model replies as
   * to any spoken turn (reply_policy.h: with tools, a call of the first one) — every event on
   * the call's sideband. The caller's audio never reaches a sideband, so the timeline advances
   * by about the time it takes to say @text, at once. Returns the number of sideband sessions
   * that heard it (0: the call has none open, nothing happened). The call's record
   * (sip_call()) lists what was said, the function calls with their outputs, and the replies. */
  int sip_caller_says(const std::string &call_id, const std::string &text);
  std::vector<SimCallRecord> sip_calls() const;
  bool sip_call(const std::string &call_id, SimCallRecord *out) const;
  std::vector<SimClientSecret> client_secrets() const;
  std::vector<SimRestRecord> rest_requests() const;
  /* The browsers' WebRTC calls (POST /v1/realtime/calls, sim_webrtc_calls.h), in order; one is
   * hung up by POST /v1/realtime/calls/{rtc_…}/hangup like a SIP call. */
  std::vector<SimWebRtcCallRecord> webrtc_calls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clawvoice::sim
