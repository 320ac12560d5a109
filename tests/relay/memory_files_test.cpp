/* The agent's memory files: context within a budget at call start, the call appended at its end. */
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <string>

#include "openclaw/memory_files.h"
#include "relay_test_support.h"

using namespace clawvoice::openclaw;
using clawvoice::test::TempDir;

namespace {

std::string paragraph(const std::string &tag, size_t chars)
{
  std::string p = tag + ":";
  while (p.size() < chars)
    p += " word";
  return p;
}

}  // namespace

TEST(MemoryFiles, TokensAreFourCharacters)
{
  EXPECT_EQ(estimate_tokens(""), 0u);
  EXPECT_EQ(estimate_tokens("abcd"), 1u);
  EXPECT_EQ(estimate_tokens("abcde"), 2u);
  EXPECT_EQ(estimate_tokens("éééé"), 1u) << "characters, not bytes";
}

TEST(MemoryFiles, MissingDirectoryIsAnErrorAndEmpty)
{
  std::string error;
  MemoryContext c = load_memory_context("/nonexistent/clawvoice-memory", 2000, &error);
  EXPECT_TRUE(c.text.empty());
  EXPECT_NE(error.find("not found"), std::string::npos);
}

TEST(MemoryFiles, EverythingFitsInALargeBudget)
{
  TempDir dir;
  dir.write("MEMORY.md", "# Memory\n\nThe user is Sam. Sam likes tea.\n");
  dir.write("memory/2026-11-19.md", "Booked the dentist.\n");
  dir.write("memory/2026-11-20.md", "Sam asked about Paris.\n\nSent the report.\n");
  dir.write("memory/notes.md", "not a daily file\n");
  MemoryContext c = load_memory_context(dir.path(), 2000);
  EXPECT_FALSE(c.trimmed);
  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_EQ(c.sources[0], "MEMORY.md");
  EXPECT_EQ(c.sources[1], "memory/2026-11-20.md") << "newest day first";
  EXPECT_EQ(c.sources[2], "memory/2026-11-19.md");
  EXPECT_NE(c.text.find("Sam likes tea."), std::string::npos);
  EXPECT_NE(c.text.find("## 2026-11-20\n\nSam asked about Paris.\n\nSent the report."), std::string::npos)
      << c.text;
  EXPECT_EQ(c.text.find("not a daily file"), std::string::npos);
  EXPECT_EQ(c.tokens, estimate_tokens(c.text));
}

TEST(MemoryFiles, TrimmedToBudgetNewestDaysAndWholeParagraphsFirst)
{
  TempDir dir;
  dir.write("MEMORY.md", paragraph("durable", 400) + "\n");
  /* Older day: would not fit once the newer ones are in. */
  dir.write("memory/2026-11-01.md", paragraph("old-day", 600) + "\n");
  /* Newest day: its last paragraph is the most recent and must be kept over its first. */
  dir.write("memory/2026-11-20.md", paragraph("morning", 300) + "\n\n" + paragraph("evening", 300) + "\n");
  const size_t budget = 250;   /* tokens = 1000 characters */
  MemoryContext c = load_memory_context(dir.path(), budget);
  EXPECT_TRUE(c.trimmed);
  EXPECT_LE(c.tokens, budget);
  EXPECT_NE(c.text.find("durable:"), std::string::npos);
  EXPECT_NE(c.text.find("evening:"), std::string::npos) << "the newest paragraph of the newest day";
  EXPECT_EQ(c.text.find("morning:"), std::string::npos) << "no room left for the older paragraph";
  EXPECT_EQ(c.text.find("old-day:"), std::string::npos);
  /* Whole paragraphs: nothing cut mid-way. */
  EXPECT_EQ(c.text.find("\u2026"), std::string::npos);
}

TEST(MemoryFiles, AHugeFirstParagraphIsCutAtAWord)
{
  TempDir dir;
  dir.write("MEMORY.md", paragraph("huge", 5000) + "\n");
  MemoryContext c = load_memory_context(dir.path(), 100);
  EXPECT_TRUE(c.trimmed);
  EXPECT_LE(c.tokens, 100u);
  EXPECT_GT(c.tokens, 80u) << "uses the budget";
  EXPECT_NE(c.text.find("word\u2026"), std::string::npos) << c.text.substr(c.text.size() - 40);
}

TEST(MemoryFiles, CallRecordAppendedToTheDailyFile)
{
  TempDir dir;
  g_autoptr(GDateTime) when = g_date_time_new_local(2026, 11, 21, 14, 5, 0);
  CallRecord record;
  record.call_id = "call-7";
  record.caller = "+15551234567";
  record.session_key = "agent:main:voice:dm:+15551234567";
  record.started = when;
  record.duration_ms = 125000;
  record.tasks = {{"weather in Paris?", "done", "Sunny."}, {"book a table", "timeout", "no answer in time"}};
  std::string md = format_call_record(record);
  EXPECT_NE(md.find("## Voice call at 14:05 from +15551234567"), std::string::npos) << md;
  EXPECT_NE(md.find("2 min 5 s; 2 requests to the agent, 1 answered."), std::string::npos) << md;
  EXPECT_NE(md.find("- Caller asked: \"weather in Paris?\"\n  Agent answered: \"Sunny.\""), std::string::npos);
  EXPECT_NE(md.find("Not answered (timeout): no answer in time"), std::string::npos);

  std::string error;
  dir.write("memory/2026-11-21.md", "Earlier note.");
  ASSERT_TRUE(append_daily_note(dir.path(), when, md, &error)) << error;
  ASSERT_TRUE(append_daily_note(dir.path(), when, "second", &error)) << error;
  EXPECT_EQ(daily_file_path(dir.path(), when), dir.path() + "/memory/2026-11-21.md");
  EXPECT_EQ(dir.read("memory/2026-11-21.md"), "Earlier note.\n\n" + md + "\nsecond\n");

  /* A fresh workspace: memory/ is created. */
  TempDir fresh;
  ASSERT_TRUE(append_daily_note(fresh.path(), when, md, &error)) << error;
  EXPECT_EQ(fresh.read("memory/2026-11-21.md"), md);
}

TEST(MemoryFiles, CallRecordCarriesTheTranscriptAndASummary)
{
  g_autoptr(GDateTime) when = g_date_time_new_local(2026, 11, 21, 9, 30, 0);
  CallRecord record;
  record.started = when;
  record.duration_ms = 42000;
  std::string long_question = "Could you look up the opening hours of the Louvre on Sunday and also check "
      "whether I need to book tickets in advance, because last time the queue was very long";
  record.transcript = {{"user", long_question}, {"assistant", "Let me check with your agent."},
      {"user", "Thanks.\nTake your time."}};
  std::string md = format_call_record(record);
  /* The summary names the length, the turns and how the caller began, cut at a word. */
  EXPECT_NE(md.find("Summary: Lasted 0 min 42 s, 3 turns; the caller began with \"Could you look up the opening "
      "hours of the Louvre on Sunday and also check whether I need to book tickets in advance,…\"; "
      "0 requests to the agent, 0 answered."), std::string::npos) << md;
  /* Every turn, in order, one line each. */
  EXPECT_NE(md.find("\nTranscript:\n\n- Caller: " + long_question + "\n- Voice: Let me check with your agent.\n"
      "- Caller: Thanks. Take your time.\n"), std::string::npos) << md;
}

TEST(MemoryFiles, UnwritableDirectoryIsAnError)
{
  g_autoptr(GDateTime) when = g_date_time_new_local(2026, 11, 21, 14, 5, 0);
  std::string error;
  EXPECT_FALSE(append_daily_note("/proc/clawvoice-no-such-dir", when, "x", &error));
  EXPECT_NE(error.find("cannot create"), std::string::npos) << error;
}
