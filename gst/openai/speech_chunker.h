/* clawvoice — an agent's streamed answer, cleaned for speech piece by piece.
 *
 * clean_for_speech() (openclaw/speech_text.h) needs whole constructs: a `**bold**`, a link or a
 * code fence cut in two by the stream would be read out as symbols. So deltas are held until a
 * piece is safe to clean: a sentence end (". ", "! ", "? ", a line break) outside any open code
 * fence, or, for a long run-on sentence, a clause or word boundary. Each piece handed out ends with a
 * space, so pieces concatenate into the cleaned text. */
#pragma once

#include <string>

namespace clawvoice::openai {

class SpeechChunker {
 public:
  /* Adds a delta; returns the cleaned text now ready ("" when none). */
  std::string feed(const std::string &delta);
  /* The end of the answer: whatever is held, cleaned. */
  std::string finish();

 private:
  std::string pending_;
};

}  // namespace clawvoice::openai
