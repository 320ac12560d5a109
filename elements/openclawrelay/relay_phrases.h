/* clawvoice — what openclawrelay tells the voice model, in one place.
 *
 * The relay never speaks itself: it hands the Realtime model system messages (CLAWVOICE_EVENT_INJECT)
 * that say what happened and what to tell the caller. They quote the agent's answer verbatim and ask
 * the model to keep to it, so the voice says what the agent said instead of inventing an answer. */
#pragma once

#include <string>

#include "openclaw/gateway_client.h"

namespace clawvoice::openclawrelay {

constexpr const char *kDefaultToolName = "send_to_openclaw";
constexpr const char *kDefaultToolDescription =
    "Send a task or question to OpenClaw for processing. Use for anything requiring tools, lookups, "
    "memory, file access, or actions.";
constexpr const char *kDefaultAckText =
    "{\"status\":\"working\",\"message\":\"I'm on it \u2014 tell the caller you are checking.\"}";
constexpr const char *kDefaultProgressText = "Still on it.";
constexpr const char *kDefaultTimeoutText =
    "I'm sorry, your agent is taking too long to answer. Please try again in a moment.";
/* Sent as a `system` message with every question: the request comes from a voice call. */
constexpr const char *kVoiceTurnPrompt =
    "This request comes from a live phone or voice call (channel: voice). Your answer will be read "
    "aloud to the caller by a voice assistant: answer in one to three short spoken sentences of plain "
    "text, with no markdown, lists, tables, code, emojis or URLs.";

/* The Realtime function tool definition (JSON object text) for @name / @description. */
std::string tool_definition(const std::string &name, const std::string &description);

/* The agent's answer (already cleaned for speech), to be said now. */
std::string answer_inject(const std::string &question, const std::string &answer);
/* A progress cue while the agent works. */
std::string progress_inject(const std::string &question, const std::string &progress_text);
/* The task timed out. */
std::string timeout_inject(const std::string &question, const std::string &timeout_text);
/* The gateway failed: an honest sentence for the caller, e.g. "I couldn't reach your agent: it
 * refused the credentials." */
std::string failure_sentence(const openclaw::GatewayError &error);
std::string failure_inject(const std::string &question, const std::string &sentence);
/* The immediate tool result when @running tasks already run (max-tasks). */
std::string busy_result(unsigned running);
/* The immediate tool result when the model's arguments hold no question. */
std::string empty_request_result();
/* The agent's memory given to the voice model at call start (@memory is markdown). */
std::string memory_inject(const std::string &memory);

}  // namespace clawvoice::openclawrelay
