/* Twilio's playout buffer, with the times given by the test. */
#include <gtest/gtest.h>

#include <numeric>

#include "playout_buffer.h"

namespace clawvoice::test::twilio_emu {
namespace {

constexpr gint64 T0 = 1000000;
constexpr gint64 F = 20000;

std::vector<guint8> ramp(size_t n, guint8 start = 0)
{
  std::vector<guint8> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(PlayoutBuffer, PlaysInOrderAndEchoesAMarkOnceItsAudioHasPlayed)
{
  PlayoutBuffer buffer;
  auto audio = ramp(1600);
  ASSERT_TRUE(buffer.push_audio(audio.data(), audio.size(), T0));
  MarkEcho echo;
  EXPECT_FALSE(buffer.push_mark("m1", T0, &echo));
  EXPECT_EQ(buffer.max_buffered_bytes(), 1600u);

  std::vector<guint8> played;
  PlayoutBuffer::Tick tick;
  for (int i = 0; i < 10; i++) {
    buffer.tick(T0 + (i + 1) * F, &tick);
    EXPECT_TRUE(tick.echoed.empty()) << "echoed while audio was still playing, tick " << i;
    ASSERT_EQ(tick.frame.size(), 160u);
    played.insert(played.end(), tick.frame.begin(), tick.frame.end());
  }
  EXPECT_EQ(played, audio);
  /* The tenth frame ends at the eleventh tick: the mark comes back then, as heard. */
  buffer.tick(T0 + 11 * F, &tick);
  ASSERT_EQ(tick.echoed.size(), 1u);
  EXPECT_EQ(tick.echoed[0].name, "m1");
  EXPECT_TRUE(tick.echoed[0].played);
  EXPECT_TRUE(tick.frame.empty());
  EXPECT_TRUE(buffer.underruns().empty());
}

TEST(PlayoutBuffer, MarkWithNothingToPlayComesBackAtOnceOrAfterTheCurrentFrame)
{
  PlayoutBuffer buffer;
  MarkEcho echo;
  EXPECT_TRUE(buffer.push_mark("idle", T0, &echo));
  EXPECT_EQ(echo.name, "idle");
  EXPECT_TRUE(echo.played);

  auto audio = ramp(160);
  buffer.push_audio(audio.data(), audio.size(), T0);
  PlayoutBuffer::Tick tick;
  buffer.tick(T0 + F, &tick);   /* starts playing the frame: it ends at T0 + 2F */
  EXPECT_FALSE(buffer.push_mark("after", T0 + F + 5000, &echo));
  buffer.tick(T0 + 2 * F, &tick);
  ASSERT_EQ(tick.echoed.size(), 1u);
  EXPECT_EQ(tick.echoed[0].name, "after");
}

TEST(PlayoutBuffer, ClearDropsAudioAndReleasesEveryMarkUnheard)
{
  PlayoutBuffer buffer;
  auto audio = ramp(1600);
  buffer.push_audio(audio.data(), audio.size(), T0);
  MarkEcho echo;
  buffer.push_mark("a", T0, &echo);
  buffer.push_audio(audio.data(), audio.size(), T0);
  buffer.push_mark("b", T0, &echo);
  PlayoutBuffer::Tick tick;
  buffer.tick(T0 + F, &tick);
  buffer.tick(T0 + 2 * F, &tick);

  PlayoutBuffer::Cleared cleared = buffer.clear(T0 + 2 * F + 1000);
  EXPECT_EQ(cleared.dropped_bytes, 3200u - 320u);
  ASSERT_EQ(cleared.released.size(), 2u);
  EXPECT_EQ(cleared.released[0].name, "a");
  EXPECT_FALSE(cleared.released[0].played);
  EXPECT_EQ(cleared.released[1].name, "b");
  EXPECT_EQ(buffer.buffered_bytes(), 0u);
  EXPECT_EQ(buffer.pending_marks(), 0u);

  buffer.tick(T0 + 3 * F, &tick);
  EXPECT_TRUE(tick.frame.empty());
  EXPECT_TRUE(tick.echoed.empty());
  EXPECT_TRUE(buffer.underruns().empty()) << "a clear is not an underrun";
}

TEST(PlayoutBuffer, MoreThanTenMinutesIsRefused)
{
  PlayoutBuffer buffer;
  std::vector<guint8> minute(60 * 8000, 0x55);
  for (int i = 0; i < 10; i++)
    ASSERT_TRUE(buffer.push_audio(minute.data(), minute.size(), T0));
  EXPECT_FALSE(buffer.push_audio(minute.data(), 160, T0));
  EXPECT_EQ(buffer.buffered_bytes(), PlayoutBuffer::kMaxBufferedBytes);
}

TEST(PlayoutBuffer, UnderrunIsAHoleInsideUnmarkedAudio)
{
  auto frame = ramp(160);
  PlayoutBuffer::Tick tick;
  {
    PlayoutBuffer buffer;
    buffer.push_audio(frame.data(), 160, T0);
    buffer.tick(T0 + F, &tick);
    buffer.tick(T0 + 2 * F, &tick);   /* ran dry */
    buffer.tick(T0 + 3 * F, &tick);
    buffer.push_audio(frame.data(), 160, T0 + 3 * F + 4000);
    ASSERT_EQ(buffer.underruns().size(), 1u);
    EXPECT_EQ(buffer.underruns()[0].dry_at_us, T0 + 2 * F);
    EXPECT_EQ(buffer.underruns()[0].gap_us, F + 4000);
  }
  {
    PlayoutBuffer buffer;   /* the audio ended with a mark: a finished segment, no underrun */
    MarkEcho echo;
    buffer.push_audio(frame.data(), 160, T0);
    buffer.push_mark("end", T0, &echo);
    buffer.tick(T0 + F, &tick);
    buffer.tick(T0 + 2 * F, &tick);
    buffer.push_audio(frame.data(), 160, T0 + 3 * F);
    EXPECT_TRUE(buffer.underruns().empty());
  }
  {
    PlayoutBuffer buffer(500000);   /* more audio long after: a new segment */
    buffer.push_audio(frame.data(), 160, T0);
    buffer.tick(T0 + F, &tick);
    buffer.tick(T0 + 2 * F, &tick);
    buffer.push_audio(frame.data(), 160, T0 + 2 * F + 600000);
    EXPECT_TRUE(buffer.underruns().empty());
  }
}

/* A dry spell right at a mark is a segment's end, not an underrun; audio again within 300 ms makes it
 * a gap at a mark (a hole a mark may hide), later it is nothing. */
TEST(PlayoutBuffer, DrySpellAtAMarkFollowedSoonIsAGapAtAMark)
{
  auto frame = ramp(160);
  PlayoutBuffer::Tick tick;
  for (gint64 after : {100000, 400000}) {
    PlayoutBuffer buffer;
    MarkEcho echo;
    buffer.push_audio(frame.data(), 160, T0);
    buffer.push_mark("m", T0, &echo);
    buffer.tick(T0 + F, &tick);
    buffer.tick(T0 + 2 * F, &tick);   /* dry, and the mark comes back */
    ASSERT_EQ(tick.echoed.size(), 1u);
    buffer.push_audio(frame.data(), 160, T0 + 2 * F + after);
    EXPECT_TRUE(buffer.underruns().empty());
    if (after <= PlayoutBuffer::kShortPauseUs) {
      ASSERT_EQ(buffer.gaps_at_marks().size(), 1u);
      EXPECT_EQ(buffer.gaps_at_marks()[0].dry_at_us, T0 + 2 * F);
      EXPECT_EQ(buffer.gaps_at_marks()[0].gap_us, after);
    } else {
      EXPECT_TRUE(buffer.gaps_at_marks().empty());
    }
  }
}

TEST(PlayoutBuffer, ShortFramesAreCounted)
{
  PlayoutBuffer buffer;
  auto audio = ramp(250);
  buffer.push_audio(audio.data(), audio.size(), T0);
  PlayoutBuffer::Tick tick;
  buffer.tick(T0 + F, &tick);
  EXPECT_EQ(tick.frame.size(), 160u);
  buffer.tick(T0 + 2 * F, &tick);
  EXPECT_EQ(tick.frame.size(), 90u);
  EXPECT_EQ(buffer.short_frames(), 1u);
}

}  // namespace
}  // namespace clawvoice::test::twilio_emu
