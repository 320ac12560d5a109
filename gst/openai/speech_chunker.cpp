#include "openai/speech_chunker.h"

#include "openclaw/speech_text.h"

namespace clawvoice::openai {

static constexpr size_t kClauseAfter = 80;    /* a sentence this long may break at , ; : */
static constexpr size_t kWordAfter = 160;     /* and past this at any space */

static bool in_open_fence(const std::string &text, size_t end)
{
  int fences = 0;
  for (size_t at = text.find("```"); at != std::string::npos && at < end; at = text.find("```", at + 3))
    fences++;
  return fences % 2 == 1;
}

/* Whether the cut at @end (exclusive) leaves an emphasis or link open: an odd count of ** or a
 * '[' without its "](…)". */
static bool leaves_markup_open(const std::string &text, size_t end)
{
  int stars = 0, brackets = 0, parens = 0;
  for (size_t i = 0; i < end; i++) {
    if (text.compare(i, 2, "**") == 0) {
      stars++;
      i++;
    } else if (text[i] == '[') {
      brackets++;
    } else if (text[i] == ']') {
      brackets--;
    } else if (text[i] == '(') {
      parens++;
    } else if (text[i] == ')') {
      parens--;
    }
  }
  return stars % 2 == 1 || brackets > 0 || parens > 0;
}

/* The end of the longest prefix safe to clean now, 0 when none. */
static size_t safe_cut(const std::string &text)
{
  size_t best = 0;
  for (size_t i = 0; i + 1 < text.size(); i++) {
    char c = text[i], next = text[i + 1];
    bool sentence_end = ((c == '.' || c == '!' || c == '?') && (next == ' ' || next == '\n')) || c == '\n';
    if (sentence_end && !in_open_fence(text, i + 1) && !leaves_markup_open(text, i + 1))
      best = i + 1;
  }
  if (best || in_open_fence(text, text.size()))
    return best;
  if (text.size() > kClauseAfter) {
    for (size_t i = text.size() - 1; i > 0; i--)
      if ((text[i - 1] == ',' || text[i - 1] == ';' || text[i - 1] == ':') && text[i] == ' ' &&
          !leaves_markup_open(text, i))
        return i;
  }
  if (text.size() > kWordAfter) {
    for (size_t i = text.size() - 1; i > 0; i--)
      if (text[i] == ' ' && !leaves_markup_open(text, i))
        return i;
  }
  return 0;
}

static std::string cleaned_piece(const std::string &raw)
{
  std::string clean = openclaw::clean_for_speech(raw);
  return clean.empty() ? "" : clean + " ";
}

std::string SpeechChunker::feed(const std::string &delta)
{
  pending_ += delta;
  size_t cut = safe_cut(pending_);
  if (cut == 0)
    return "";
  std::string piece = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return cleaned_piece(piece);
}

std::string SpeechChunker::finish()
{
  std::string piece;
  piece.swap(pending_);
  std::string out = cleaned_piece(piece);
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

}  // namespace clawvoice::openai
