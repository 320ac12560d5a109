/* clawvoice — openclawrelay's settings for one call, and the agent session the call talks to.
 *
 * The element's property setters only record values; at READY→PAUSED they are copied into one
 * RelaySettings that the task board uses for the whole call, so a property changed mid-call never
 * half-applies. */
#pragma once

#include <glib.h>

#include <string>

namespace clawvoice::openclawrelay {

/* Which OpenClaw session the voice's requests go to (header x-openclaw-session-key). */
enum class SessionMode {
  Main,     /* the user's main session, shared with their text channels */
  Caller,   /* one per caller (phone number, browser user): the agent remembers each caller */
  Call,     /* one per call: nothing carries over */
};

struct RelaySettings {
  std::string session_key;            /* resolved by session_key_for() */
  std::string question_system_prompt; /* the `system` message sent with every question */
  std::string progress_text;
  std::string timeout_text;
  guint progress_delay_ms = 8000;     /* 0 = no progress cue */
  guint timeout_ms = 60000;           /* 0 = no timeout */
  guint max_tasks = 4;
  bool urgent = false;
};

/* The session key for @mode:
 *  - @explicit_key when set (the `session-key` property);
 *  - Main: @main_key, or `agent:<agent_id>:main` (OpenClaw's main session) when empty;
 *  - Caller: `agent:<agent_id>:voice:dm:<caller>`, or Call's key when the caller is unknown;
 *  - Call: `agent:<agent_id>:voice:call:<call_id>` (@call_id must not be empty).
 * Characters other than letters, digits and `+-._@` in caller and call id become `_`. */
std::string session_key_for(SessionMode mode, const std::string &agent_id, const std::string &explicit_key,
    const std::string &main_key, const std::string &caller, const std::string &call_id);

}  // namespace clawvoice::openclawrelay
