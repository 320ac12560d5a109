/* clawvoice simulator — the default "model": what it hears and what it answers.
 *
 * Options::on_user_turn / on_tool_output / transcribe override these; the defaults are
 * deterministic so tests can predict them:
 *  - transcript: "(N.N seconds of speech)";
 *  - a user turn, when the session has tools (and tool_choice allows): call the first tool (or the
 *    one tool_choice names) with {"<its first required string parameter, else 'message'>":
 *    "<a description of the turn, with its transcript>"};
 *  - otherwise a spoken reply ("I heard: …"), or Options::reply_text;
 *  - a function_call_output: "Here is the answer. " + the output's text (for JSON, its
 *    result / text / message / answer / output / content string);
 *  - a system message (an application's instruction: "Tell the caller …: <what to say>"): what
 *    follows its first ": ", unquoted (the whole text if there is none), or Options::reply_text;
 *  - a response.create with nothing new to answer: a greeting. */
#pragma once

#include "realtime_simulator.h"

#include <json-glib/json-glib.h>

#include <string>

namespace clawvoice::sim {

std::string default_transcript(double speech_seconds);

Reply default_reply_to_turn(const Options &options, const UserTurn &turn, JsonArray *tools,
                            const std::string &tool_choice);
Reply default_reply_to_tool_output(const Options &options, const std::string &output);
Reply default_reply_to_instruction(const Options &options, const std::string &instruction);
Reply default_greeting(const Options &options);

/* The spoken text inside a tool's output (see above). */
std::string speakable_tool_output(const std::string &output);

}  // namespace clawvoice::sim
