/* A streamed answer cleaned for speech piece by piece: never cuts inside markup, and the pieces add
 * up to the same cleaned words as the whole. */
#include <gtest/gtest.h>

#include "openai/speech_chunker.h"
#include "openclaw/speech_text.h"

using clawvoice::openai::SpeechChunker;

static std::string feed_all(SpeechChunker &chunker, const std::vector<std::string> &deltas,
                            std::vector<std::string> *pieces = nullptr)
{
  std::string out;
  for (const std::string &d : deltas) {
    std::string piece = chunker.feed(d);
    if (pieces && !piece.empty())
      pieces->push_back(piece);
    out += piece;
  }
  std::string last = chunker.finish();
  if (pieces && !last.empty())
    pieces->push_back(last);
  return out + last;
}

TEST(SpeechChunker, SentencesGoOutAsTheyEnd)
{
  SpeechChunker c;
  EXPECT_EQ(c.feed("The weather is "), "");
  EXPECT_EQ(c.feed("sunny. Tomor"), "The weather is sunny. ");
  EXPECT_EQ(c.feed("row it rains."), "");   /* no space after the full stop yet: it may be 3.5 */
  EXPECT_EQ(c.finish(), "Tomorrow it rains.");
}

TEST(SpeechChunker, BoldSplitAcrossDeltasIsNotReadAsStars)
{
  SpeechChunker c;
  std::vector<std::string> pieces;
  std::string out = feed_all(c, {"Your **next", " meeting. is** at ", "noon. Bye."}, &pieces);
  EXPECT_EQ(out.find('*'), std::string::npos) << out;
  EXPECT_EQ(out, "Your next meeting. is at noon. Bye.");
}

TEST(SpeechChunker, CodeFenceIsHeldWhole)
{
  SpeechChunker c;
  std::string out = feed_all(c, {"Run this.\n```\nls -la. rm", " x.\n```\nDone."});
  EXPECT_EQ(out.find("ls"), std::string::npos) << out;
  EXPECT_NE(out.find("(code omitted)"), std::string::npos) << out;
  EXPECT_EQ(out.find("```"), std::string::npos) << out;
}

TEST(SpeechChunker, LinkSplitAcrossDeltasKeepsItsText)
{
  SpeechChunker c;
  std::string out = feed_all(c, {"See [the docs. here", "](https://example.com/a/b) now. Ok."});
  EXPECT_EQ(out.find("https"), std::string::npos) << out;
  EXPECT_NE(out.find("the docs. here"), std::string::npos) << out;
}

TEST(SpeechChunker, LongRunOnSentenceBreaksAtAClause)
{
  SpeechChunker c;
  std::string long_clause(90, 'a');
  std::string piece = c.feed(long_clause + ", and then more words without an end");
  EXPECT_EQ(piece, long_clause + ", ");
}

TEST(SpeechChunker, SameWordsAsCleaningTheWhole)
{
  const std::string whole = "# Plan\n- Buy **milk**.\n- Call [Bob](tel:+1555) at https://example.com/x. Thanks!";
  for (size_t step : {1u, 3u, 7u, 50u}) {
    SpeechChunker c;
    std::vector<std::string> deltas;
    for (size_t i = 0; i < whole.size(); i += step)
      deltas.push_back(whole.substr(i, step));
    std::string out = feed_all(c, deltas);
    EXPECT_EQ(out, clawvoice::openclaw::clean_for_speech(whole)) << "step " << step;
  }
}
