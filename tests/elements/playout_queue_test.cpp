/* The playout queue: fixed periods out of bursty deltas, and heard-position bookkeeping. */
#include <gtest/gtest.h>

#include "realtimesink/playout_queue.h"

using clawvoice::PlayoutQueue;

static constexpr uint64_t kMs = 1000000;

TEST(PlayoutQueue, HoldsPartialPeriodUntilItemFinished)
{
  PlayoutQueue q;
  q.configure(48, 20, 0);
  std::vector<uint8_t> audio(48 * 30, 7);   /* 30 ms */
  q.push("item_1", audio.data(), audio.size());
  PlayoutQueue::Period p;
  ASSERT_TRUE(q.pop(&p));
  EXPECT_EQ(p.audio.size(), 960u);
  EXPECT_EQ(p.item_offset_ms, 0);
  EXPECT_FALSE(q.pop(&p)) << "10 ms left: more of the item may still come";
  q.finish_item("item_1");
  ASSERT_TRUE(q.pop(&p));
  EXPECT_EQ(p.item_offset_ms, 20);
  EXPECT_EQ(p.audio[0], 7);
  EXPECT_EQ(p.audio[48 * 10 - 1], 7);
  EXPECT_EQ(p.audio[48 * 10], 0) << "the rest of the last period is silence";
  EXPECT_TRUE(q.empty());
}

TEST(PlayoutQueue, PeriodsSpanDeltasWithoutGaps)
{
  PlayoutQueue q;
  q.configure(8, 20, 0xFF);
  std::vector<uint8_t> a(100, 1), b(100, 2);   /* 12.5 ms each in G.711 */
  q.push("i", a.data(), a.size());
  q.push("i", b.data(), b.size());
  PlayoutQueue::Period p;
  ASSERT_TRUE(q.pop(&p));
  EXPECT_EQ(p.audio.size(), 160u);
  EXPECT_EQ(p.audio[99], 1);
  EXPECT_EQ(p.audio[100], 2);
  EXPECT_EQ(q.queued_ms(), 5);
}

TEST(PlayoutQueue, HeardIsWhatWasPlayedNotWhatWasReceived)
{
  PlayoutQueue q;
  q.configure(48, 20, 0);
  std::vector<uint8_t> audio(48 * 1000, 1);   /* 1 s received at once, as a burst */
  q.push("item_7", audio.data(), audio.size());
  PlayoutQueue::Period p;
  uint64_t ts = 5000 * kMs;
  for (int i = 0; i < 10; i++) {   /* 200 ms put out */
    ASSERT_TRUE(q.pop(&p));
    q.record_output(p, ts, 20 * kMs);
    ts += 20 * kMs;
  }
  EXPECT_EQ(q.received_ms("item_7"), 1000);
  EXPECT_EQ(q.heard_ms("item_7", 5000 * kMs), 0);
  EXPECT_EQ(q.heard_ms("item_7", 5000 * kMs + 130 * kMs), 130);
  EXPECT_EQ(q.heard_ms("item_7", 5000 * kMs + 999 * kMs), 200) << "only 200 ms were put out";
  EXPECT_EQ(q.heard_ms("other", 6000 * kMs), 0);
  EXPECT_EQ(q.output_end("item_7"), 5200 * kMs);
  EXPECT_EQ(q.clear(), 800);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.received_ms("item_7"), 1000) << "clearing does not forget what was received";
}
