/* MarkLedger: what counts as heard, generation by generation. */
#include <gtest/gtest.h>

#include "mulawbridge/mark_ledger.h"

using clawvoice::mulawbridge::MarkLedger;

namespace {
constexpr uint64_t ms = 1000000;
}

TEST(MarkLedger, NamesCarryGenerationAndEnd)
{
  EXPECT_EQ(MarkLedger::make_name(3, 1234 * ms), "cv-3-1234000");
  uint64_t gen = 0, end = 0;
  ASSERT_TRUE(MarkLedger::parse_name("cv-3-1234000", &gen, &end));
  EXPECT_EQ(gen, 3u);
  EXPECT_EQ(end, 1234 * ms);
  for (const char *bad : {"cv-3", "cv--1", "cv-a-1", "xx-1-1", "cv-1-", "cv-1-2x"})
    EXPECT_FALSE(MarkLedger::parse_name(bad, &gen, &end)) << bad;
}

TEST(MarkLedger, EchoesAreHeardUntilAClearReleasesThem)
{
  MarkLedger ledger;
  EXPECT_FALSE(ledger.has_heard());
  std::string a = ledger.add(0, 20 * ms), b = ledger.add(20 * ms, 40 * ms), c = ledger.add(40 * ms, 60 * ms);
  EXPECT_EQ(ledger.outstanding(), 3u);

  MarkLedger::Echo echo = ledger.echo(a);
  EXPECT_TRUE(echo.known);
  EXPECT_TRUE(echo.heard);
  EXPECT_EQ(ledger.heard_end(), 20 * ms);

  ledger.clear();   /* b and c were still in Twilio's buffer: dropped, not played */
  echo = ledger.echo(b);
  EXPECT_TRUE(echo.known);
  EXPECT_FALSE(echo.heard);
  EXPECT_FALSE(ledger.echo(c).heard);
  EXPECT_EQ(ledger.heard_end(), 20 * ms) << "a released mark never moves the heard position";
  EXPECT_EQ(ledger.released(), 2u);

  std::string d = ledger.add(100 * ms, 120 * ms);
  EXPECT_EQ(d, "cv-1-120000");
  EXPECT_TRUE(ledger.echo(d).heard);
  EXPECT_EQ(ledger.heard_end(), 120 * ms);
  EXPECT_EQ(ledger.heard(), 2u);
  EXPECT_EQ(ledger.heard_ns(), 40 * ms);
  EXPECT_FALSE(ledger.echo(d).known) << "settled already";
  EXPECT_FALSE(ledger.echo("resp-42").known);
}

TEST(MarkLedger, ALaterEchoSettlesEarlierMarks)
{
  MarkLedger ledger;
  ledger.add(0, 20 * ms);
  std::string b = ledger.add(20 * ms, 40 * ms);
  EXPECT_TRUE(ledger.echo(b).heard);
  EXPECT_EQ(ledger.outstanding(), 0u);
  EXPECT_EQ(ledger.heard(), 2u);
}
