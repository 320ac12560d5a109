/* clawvoice — an agent's written answer made fit to be read aloud.
 *
 * The OpenClaw agent writes for screens: markdown headers, emphasis, lists, tables, code blocks and
 * raw URLs. A voice reading "asterisk asterisk" or a 60-character URL is useless, so the relay cleans
 * the answer before handing it to the voice model:
 *  - headers and list items become sentences (a full stop is added when they have none);
 *  - emphasis (**, __, *, _, ~~) and inline code backticks are unwrapped, blockquote marks dropped;
 *  - [text](url) links keep their text, images their alt text;
 *  - raw URLs become "a link on <domain>";
 *  - fenced code blocks become "(code omitted)"; tables become "(a table with N rows)";
 *  - horizontal rules and HTML tags are dropped; line breaks and runs of spaces become one space.
 * Emojis and any other non-ASCII text are left alone. */
#pragma once

#include <string>

namespace clawvoice::openclaw {

std::string clean_for_speech(const std::string &text);

}  // namespace clawvoice::openclaw
