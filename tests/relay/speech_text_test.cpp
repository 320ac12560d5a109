/* clean_for_speech: what the voice reads aloud of an agent's markdown answer. */
#include <gtest/gtest.h>

#include "openclaw/speech_text.h"

using clawvoice::openclaw::clean_for_speech;

TEST(SpeechText, PlainTextIsUntouched)
{
  EXPECT_EQ(clean_for_speech("It will be sunny in Paris tomorrow."), "It will be sunny in Paris tomorrow.");
  EXPECT_EQ(clean_for_speech(""), "");
}

TEST(SpeechText, HeadersAndListsBecomeSentences)
{
  EXPECT_EQ(clean_for_speech("## Your day\n- Dentist at 3pm\n- Call **Anna**\n1. Buy milk!\n2) Pay rent"),
      "Your day. Dentist at 3pm. Call Anna. Buy milk! Pay rent.");
  EXPECT_EQ(clean_for_speech("- [x] done task\n- [ ] open task"), "done task. open task.");
}

TEST(SpeechText, EmphasisAndInlineCodeAreUnwrapped)
{
  EXPECT_EQ(clean_for_speech("This is **very** _important_ and *quite* ~~wrong~~ __bold__."),
      "This is very important and quite wrong bold.");
  EXPECT_EQ(clean_for_speech("Run `make test` now."), "Run make test now.");
  /* Not emphasis: identifiers and arithmetic keep their characters. */
  EXPECT_EQ(clean_for_speech("The file my_notes_file.txt has 2 * 3 lines."),
      "The file my_notes_file.txt has 2 * 3 lines.");
}

TEST(SpeechText, CodeBlocksAreOmitted)
{
  EXPECT_EQ(clean_for_speech("Here is the script:\n```bash\nrm -rf /tmp/x\necho done\n```\nRun it tonight."),
      "Here is the script: (code omitted) Run it tonight.");
  /* An unclosed fence hides the rest rather than reading code aloud. */
  EXPECT_EQ(clean_for_speech("Try:\n~~~\nint x;\n"), "Try: (code omitted)");
}

TEST(SpeechText, TablesAreSummarised)
{
  EXPECT_EQ(clean_for_speech("Prices:\n| item | price |\n|---|---:|\n| tea | 3 |\n| cake | 5 |\n\nThat's all."),
      "Prices: (a table with 2 rows) That's all.");
  EXPECT_EQ(clean_for_speech("a | b\n--- | ---\n1 | 2"), "(a table with 1 row)");
}

TEST(SpeechText, UrlsBecomeTheirDomain)
{
  EXPECT_EQ(clean_for_speech("See https://www.example.com/a/very/long/path?q=1."),
      "See a link on example.com.");
  EXPECT_EQ(clean_for_speech("Docs: <https://docs.openclaw.ai/concepts>"), "Docs: a link on docs.openclaw.ai");
  EXPECT_EQ(clean_for_speech("Read [the guide](https://example.org/guide) first."), "Read the guide first.");
  EXPECT_EQ(clean_for_speech("![a cat](https://img.example/cat.png)"), "a cat");
  /* Credentials in a URL are never read out. */
  EXPECT_EQ(clean_for_speech("at http://user:secret@Host.Example:8080/x"), "at a link on host.example");
}

TEST(SpeechText, QuotesRulesAndTagsAreDropped)
{
  EXPECT_EQ(clean_for_speech("> quoted line\n---\nafter<br/>the rule"), "quoted line after the rule");
}

TEST(SpeechText, EmojisAndAccentsAreLeftAlone)
{
  EXPECT_EQ(clean_for_speech("**Bravo** 🎉 — c'est réglé ✅"), "Bravo 🎉 — c'est réglé ✅");
}

TEST(SpeechText, LinesAndSpacesCollapse)
{
  EXPECT_EQ(clean_for_speech("First line\nsecond   line\r\n\n\nThird."), "First line second line Third.");
}
