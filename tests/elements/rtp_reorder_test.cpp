/* rtpnetsrc's jitter buffer (RtpReorder): order, gaps given up at their deadline, late packets,
 * duplicates, sequence wrap, new streams on probation (a candidate confirmed by the next packet,
 * or dropped as a stray). T = int (a packet id), so no GStreamer is needed. */
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "rtpnetsrc/rtp_reorder.h"

using clawvoice::rtpnetsrc::ReorderStats;
using Reorder = clawvoice::rtpnetsrc::RtpReorder<int>;

namespace {

constexpr guint32 kSsrc = 0x1234abcd;
constexpr gint64 kLatency = 50000;   /* 50 ms */

using Out = std::vector<std::pair<int, bool>>;
using Dropped = std::vector<int>;

/* One reorder, with what a call released and what it handed back. */
struct Harness {
  explicit Harness(gint64 latency_us = kLatency) : r(latency_us) {}

  /* Pushes packet @id (by default the sequence number itself); returns what this call dropped. */
  Dropped push(guint16 seq, gint64 now_us, int id = -2, guint32 ssrc = kSsrc)
  {
    out.clear();
    Dropped dropped;
    r.push(seq, ssrc, id == -2 ? seq : id, now_us, &out, &dropped);
    return dropped;
  }
  Dropped drop_candidate()
  {
    Dropped dropped;
    r.drop_candidate(&dropped);
    return dropped;
  }
  void expire(gint64 now_us)
  {
    out.clear();
    r.expire(now_us, &out);
  }
  void flush()
  {
    out.clear();
    r.flush(&out);
  }
  /* What the last call released: (id, discont). */
  Out released() const
  {
    Out v;
    for (const auto &rel : out)
      v.emplace_back(rel.packet, rel.discont);
    return v;
  }

  Reorder r;
  std::vector<Reorder::Released> out;
};

void expect_stats(const ReorderStats &s, guint64 pushed, guint64 lost, guint64 late, guint64 duplicates,
                  guint64 reordered, guint64 resyncs, guint64 strays)
{
  EXPECT_EQ(s.pushed, pushed) << "pushed";
  EXPECT_EQ(s.lost, lost) << "lost";
  EXPECT_EQ(s.late, late) << "late";
  EXPECT_EQ(s.duplicates, duplicates) << "duplicates";
  EXPECT_EQ(s.reordered, reordered) << "reordered";
  EXPECT_EQ(s.resyncs, resyncs) << "resyncs";
  EXPECT_EQ(s.strays, strays) << "strays";
}

}  // namespace

TEST(RtpReorder, InOrderPassesStraightThrough)
{
  Harness h;
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  for (guint16 seq = 100; seq < 110; seq++) {
    EXPECT_EQ(h.push(seq, (seq - 100) * 20000), Dropped{}) << "seq " << seq;
    EXPECT_EQ(h.released(), (Out{{seq, seq == 100}})) << "seq " << seq << ": out at once, discont on the first only";
    EXPECT_EQ(h.r.held(), 0u);
    EXPECT_EQ(h.r.next_deadline_us(), -1);
  }
  h.expire(G_MAXINT64 / 2);
  EXPECT_TRUE(h.out.empty());
  h.flush();
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.drop_candidate(), Dropped{}) << "no candidate: nothing handed back";
  expect_stats(h.r.stats(), 10, 0, 0, 0, 0, 0, 0);
}

TEST(RtpReorder, SwappedPairPutBackInPlace)
{
  Harness h;
  h.push(1, 0);
  EXPECT_EQ(h.released(), (Out{{1, true}}));
  EXPECT_EQ(h.push(3, 10000), Dropped{});
  EXPECT_TRUE(h.out.empty()) << "3 waits for 2";
  EXPECT_EQ(h.r.held(), 1u);
  EXPECT_EQ(h.r.next_deadline_us(), 10000 + kLatency);
  EXPECT_EQ(h.push(2, 15000), Dropped{});
  EXPECT_EQ(h.released(), (Out{{2, false}, {3, false}}));
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  h.push(4, 20000);
  EXPECT_EQ(h.released(), (Out{{4, false}}));
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  h.expire(G_MAXINT64 / 2);
  EXPECT_TRUE(h.out.empty());
  expect_stats(h.r.stats(), 4, 0, 0, 0, 1, 0, 0);
}

TEST(RtpReorder, ReorderedCountsEveryPacketBelowTheHighestSeen)
{
  {
    Harness h;
    h.push(1, 0);
    h.push(4, 1000);
    h.push(2, 2000);
    EXPECT_EQ(h.released(), (Out{{2, false}}));
    h.push(3, 3000);
    EXPECT_EQ(h.released(), (Out{{3, false}, {4, false}}));
    expect_stats(h.r.stats(), 4, 0, 0, 0, 2, 0, 0);
  }
  {
    Harness h;
    h.push(1, 0);
    h.push(4, 1000);
    h.push(3, 2000);
    EXPECT_TRUE(h.out.empty());
    h.push(2, 3000);
    EXPECT_EQ(h.released(), (Out{{2, false}, {3, false}, {4, false}}));
    expect_stats(h.r.stats(), 4, 0, 0, 0, 2, 0, 0);
  }
}

TEST(RtpReorder, LostPacketGivenUpAtDeadlineThenLate)
{
  Harness h;
  h.push(1, 0);
  h.push(3, 10000);
  EXPECT_TRUE(h.out.empty());
  h.push(4, 20000);
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 2u);
  const gint64 deadline = 10000 + kLatency;   /* arrival of 3, the earliest held */
  EXPECT_EQ(h.r.next_deadline_us(), deadline);

  h.expire(deadline - 1);
  EXPECT_TRUE(h.out.empty()) << "before the deadline, nothing is given up";
  EXPECT_EQ(h.r.held(), 2u);
  EXPECT_EQ(h.r.stats().lost, 0u);

  h.expire(deadline);
  EXPECT_EQ(h.released(), (Out{{3, true}, {4, false}}));
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  expect_stats(h.r.stats(), 3, 1, 0, 0, 0, 0, 0);

  EXPECT_EQ(h.push(2, deadline + 5000, 222), Dropped{222}) << "2 comes after its place went out: handed back";
  EXPECT_TRUE(h.out.empty());
  expect_stats(h.r.stats(), 3, 1, 1, 0, 0, 0, 0);

  h.push(5, deadline + 6000);
  EXPECT_EQ(h.released(), (Out{{5, false}})) << "the late packet does not disturb the order";
  expect_stats(h.r.stats(), 4, 1, 1, 0, 0, 0, 0);
}

TEST(RtpReorder, DuplicateOfHeldPacketHandedBack)
{
  Harness h;
  h.push(1, 0);
  h.push(3, 10000, 3);
  EXPECT_EQ(h.push(3, 12000, 33), Dropped{33}) << "the second copy of 3 is handed back";
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 1u);
  EXPECT_EQ(h.r.next_deadline_us(), 10000 + kLatency) << "the held copy keeps its arrival";
  h.push(2, 15000);
  EXPECT_EQ(h.released(), (Out{{2, false}, {3, false}})) << "the first copy is the one kept";
  expect_stats(h.r.stats(), 3, 0, 0, 1, 1, 0, 0);
}

TEST(RtpReorder, DuplicateOfReleasedPacketCountsAsLate)
{
  Harness h;
  h.push(1, 0);
  h.push(2, 10000, 2);
  EXPECT_EQ(h.push(2, 12000, 22), Dropped{22});
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.push(1, 13000, 11), Dropped{11});
  EXPECT_TRUE(h.out.empty());
  h.push(3, 20000);
  EXPECT_EQ(h.released(), (Out{{3, false}}));
  expect_stats(h.r.stats(), 3, 0, 2, 0, 0, 0, 0);
}

TEST(RtpReorder, OutAndDroppedAreAppendedToNeverCleared)
{
  Reorder r(kLatency);
  std::vector<Reorder::Released> out;
  std::vector<int> dropped{777};
  r.push(1, kSsrc, 1, 0, &out, &dropped);
  r.push(3, kSsrc, 3, 1, &out, &dropped);          /* held */
  r.push(2, kSsrc, 2, 2, &out, &dropped);          /* fills */
  r.push(9, kSsrc + 1, 9, 3, &out, &dropped);      /* candidate */
  r.push(10, kSsrc + 1, 10, 4, &out, &dropped);    /* confirms: resync */
  EXPECT_EQ(dropped, (std::vector<int>{777})) << "nothing dropped: left as it was";
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].packet, 1);
  EXPECT_EQ(out[1].packet, 2);
  EXPECT_EQ(out[2].packet, 3);
  EXPECT_EQ(out[3].packet, 9);
  EXPECT_TRUE(out[3].discont);
  EXPECT_EQ(out[4].packet, 10);
  EXPECT_FALSE(out[4].discont);

  r.push(10, kSsrc + 1, 1010, 5, &out, &dropped);  /* late (a copy of a released one) */
  r.push(12, kSsrc + 1, 12, 6, &out, &dropped);    /* held */
  r.push(12, kSsrc + 1, 1012, 7, &out, &dropped);  /* duplicate */
  r.push(5000, kSsrc + 1, 5000, 8, &out, &dropped);   /* candidate */
  r.push(11, kSsrc + 1, 11, 9, &out, &dropped);    /* the candidate was a stray; 11 and 12 go out */
  r.push(7, kSsrc + 2, 7, 10, &out, &dropped);     /* candidate */
  r.drop_candidate(&dropped);
  EXPECT_EQ(dropped, (std::vector<int>{777, 1010, 1012, 5000, 7}));
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[5].packet, 11);
  EXPECT_EQ(out[6].packet, 12);
  expect_stats(r.stats(), 7, 0, 1, 1, 2, 1, 2);   /* reordered: 2 (after 3) and 11 (after 12) */
}

TEST(RtpReorder, SequenceWrapWithSwapAcrossIt)
{
  Harness h;
  h.push(65534, 0);
  EXPECT_EQ(h.released(), (Out{{65534, true}}));
  h.push(0, 10000);
  EXPECT_TRUE(h.out.empty()) << "0 is after 65535, which has not come";
  EXPECT_EQ(h.r.held(), 1u);
  h.push(65535, 12000);
  EXPECT_EQ(h.released(), (Out{{65535, false}, {0, false}}));
  h.push(1, 20000);
  EXPECT_EQ(h.released(), (Out{{1, false}}));
  h.push(2, 30000);
  EXPECT_EQ(h.released(), (Out{{2, false}}));
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  EXPECT_EQ(h.push(65535, 31000, 99), Dropped{99}) << "65535 is behind 0 now: late";
  expect_stats(h.r.stats(), 5, 0, 1, 0, 1, 0, 0);
}

TEST(RtpReorder, LossAcrossWrap)
{
  Harness h;
  h.push(65535, 0);
  h.push(1, 10000);
  EXPECT_TRUE(h.out.empty());
  h.expire(10000 + kLatency);
  EXPECT_EQ(h.released(), (Out{{1, true}})) << "0 given up";
  expect_stats(h.r.stats(), 2, 1, 0, 0, 0, 0, 0);
}

TEST(RtpReorder, LongInOrderStreamWrapsTwice)
{
  Harness h;
  const int n = 2 * 65536 + 100;
  guint16 seq = 65000;
  for (int i = 0; i < n; i++, seq++) {
    ASSERT_EQ(h.push(seq, i * 20, i), Dropped{}) << "packet " << i << " seq " << seq;
    ASSERT_EQ(h.released(), (Out{{i, i == 0}})) << "packet " << i << " seq " << seq;
  }
  expect_stats(h.r.stats(), n, 0, 0, 0, 0, 0, 0);
}

/* A new SSRC waits, out of held() and without a deadline, for a second packet in sequence; then
 * what was held goes out in order (gaps counted lost), and the two new packets after it. */
TEST(RtpReorder, SsrcChangeConfirmedBySecondPacketFlushesHeldThenRestarts)
{
  Harness h;
  h.push(10, 0);
  h.push(12, 10000);
  h.push(14, 20000);
  EXPECT_EQ(h.released(), Out{});
  EXPECT_EQ(h.r.held(), 2u);
  /* The new stream starts at a lower number: not late, a candidate. */
  EXPECT_EQ(h.push(3, 25000, 1003, kSsrc + 1), Dropped{});
  EXPECT_TRUE(h.out.empty()) << "a lone new SSRC is not a new stream yet";
  EXPECT_EQ(h.r.held(), 2u) << "the candidate is not held";
  EXPECT_EQ(h.r.next_deadline_us(), 10000 + kLatency) << "the candidate has no deadline";
  expect_stats(h.r.stats(), 1, 0, 0, 0, 0, 0, 0);

  EXPECT_EQ(h.push(4, 30000, 1004, kSsrc + 1), Dropped{});
  EXPECT_EQ(h.released(), (Out{{12, true}, {14, true}, {1003, true}, {1004, false}}))
      << "held flushed in order (11 and 13 lost), then the new stream, discont on its first";
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  expect_stats(h.r.stats(), 5, 2, 0, 0, 0, 1, 0);

  h.push(6, 40000, 1006, kSsrc + 1);
  EXPECT_TRUE(h.out.empty()) << "the new stream is reordered as usual";
  EXPECT_EQ(h.r.next_deadline_us(), 40000 + kLatency);
  h.push(5, 45000, 1005, kSsrc + 1);
  EXPECT_EQ(h.released(), (Out{{1005, false}, {1006, false}}));
  EXPECT_EQ(h.push(4, 46000, 2004, kSsrc + 1), Dropped{2004}) << "behind in the new stream: late";
  expect_stats(h.r.stats(), 7, 2, 1, 0, 1, 1, 0);
}

TEST(RtpReorder, SsrcChangeWithNothingHeld)
{
  Harness h;
  h.push(100, 0);
  h.push(101, 1000);
  EXPECT_EQ(h.push(102, 2000, 500, kSsrc + 7), Dropped{});   /* the next number, but from another source */
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  h.push(103, 3000, 501, kSsrc + 7);
  EXPECT_EQ(h.released(), (Out{{500, true}, {501, false}}));
  h.push(104, 4000, 502, kSsrc + 7);
  EXPECT_EQ(h.released(), (Out{{502, false}}));
  expect_stats(h.r.stats(), 5, 0, 0, 0, 0, 1, 0);
}

TEST(RtpReorder, SsrcChangeNotFollowedInSequenceIsAStray)
{
  Harness h;
  h.push(100, 0);
  EXPECT_EQ(h.push(7, 1000, 1007, kSsrc + 1), Dropped{});
  EXPECT_EQ(h.push(9, 2000, 1009, kSsrc + 1), Dropped{1007}) << "same SSRC but not candidate+1";
  EXPECT_TRUE(h.out.empty()) << "9 is the next candidate";
  expect_stats(h.r.stats(), 1, 0, 0, 0, 0, 0, 1);
  EXPECT_EQ(h.push(8, 3000, 1008, kSsrc + 2), Dropped{1009}) << "candidate+1 but another SSRC";
  EXPECT_TRUE(h.out.empty());
  expect_stats(h.r.stats(), 1, 0, 0, 0, 0, 0, 2);
  EXPECT_EQ(h.push(101, 4000), Dropped{1008}) << "the old stream goes on";
  EXPECT_EQ(h.released(), (Out{{101, false}}));
  expect_stats(h.r.stats(), 2, 0, 0, 0, 0, 0, 3);
}

/* After a confirmed change, a lone packet of the old SSRC is a candidate like any other, and the
 * next packet of the new stream drops it as a stray. */
TEST(RtpReorder, StrayFromOldSsrcAfterConfirmedChangeIsDropped)
{
  Harness h;
  h.push(10, 0);
  h.push(11, 1000);
  h.push(13, 2000);   /* held: 12 missing */
  h.push(500, 3000, 1500, kSsrc + 1);
  h.push(501, 4000, 1501, kSsrc + 1);
  EXPECT_EQ(h.released(), (Out{{13, true}, {1500, true}, {1501, false}}));
  expect_stats(h.r.stats(), 5, 1, 0, 0, 0, 1, 0);

  EXPECT_EQ(h.push(12, 5000), Dropped{}) << "the old stream's 12, in its old place, comes too late";
  EXPECT_TRUE(h.out.empty()) << "kept as a candidate, not output";
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  expect_stats(h.r.stats(), 5, 1, 0, 0, 0, 1, 0);

  EXPECT_EQ(h.push(502, 6000, 1502, kSsrc + 1), Dropped{12}) << "the new stream goes on: 12 was a stray";
  EXPECT_EQ(h.released(), (Out{{1502, false}}));
  expect_stats(h.r.stats(), 6, 1, 0, 0, 0, 1, 1);

  /* A stray of the old SSRC while the new stream has a gap held: the held gap is not disturbed. */
  h.push(504, 7000, 1504, kSsrc + 1);
  EXPECT_EQ(h.push(14, 8000), Dropped{});
  EXPECT_EQ(h.r.held(), 1u);
  EXPECT_EQ(h.r.next_deadline_us(), 7000 + kLatency);
  EXPECT_EQ(h.push(503, 9000, 1503, kSsrc + 1), Dropped{14});
  EXPECT_EQ(h.released(), (Out{{1503, false}, {1504, false}}));
  expect_stats(h.r.stats(), 8, 1, 0, 0, 1, 1, 2);
}

/* Two packets of the old SSRC in sequence after a change meet the probation like any new SSRC:
 * the stream switches back (as RFC 3550 A.1 would). */
TEST(RtpReorder, OldSsrcInSequenceAfterChangeSwitchesBack)
{
  Harness h;
  h.push(10, 0);
  h.push(500, 1000, 1500, kSsrc + 1);
  h.push(501, 2000, 1501, kSsrc + 1);
  EXPECT_EQ(h.released(), (Out{{1500, true}, {1501, false}}));
  h.push(11, 3000);
  EXPECT_TRUE(h.out.empty());
  h.push(12, 4000);
  EXPECT_EQ(h.released(), (Out{{11, true}, {12, false}}));
  expect_stats(h.r.stats(), 5, 0, 0, 0, 0, 2, 0);
}

TEST(RtpReorder, ForwardJumpConfirmedResyncs)
{
  Harness h;
  h.push(1, 0);
  h.push(2, 1000);
  h.push(4, 2000);
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.push(5003, 3000), Dropped{});   /* +5000 from 3, the one expected: a candidate */
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 1u);
  EXPECT_EQ(h.r.next_deadline_us(), 2000 + kLatency);
  expect_stats(h.r.stats(), 2, 0, 0, 0, 0, 0, 0);
  EXPECT_EQ(h.push(5004, 4000), Dropped{});
  EXPECT_EQ(h.released(), (Out{{4, true}, {5003, true}, {5004, false}}))
      << "held 4 flushed (3 lost), then the new stream";
  EXPECT_EQ(h.r.held(), 0u);
  expect_stats(h.r.stats(), 5, 1, 0, 0, 0, 1, 0);
  h.push(5006, 5000);
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.next_deadline_us(), 5000 + kLatency);
  h.expire(5000 + kLatency);
  EXPECT_EQ(h.released(), (Out{{5006, true}}));
  EXPECT_EQ(h.push(4, 6000, 44), Dropped{}) << "the old range is far behind the new one: a candidate, not late";
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.push(5007, 7000), Dropped{44}) << "the new stream goes on: 4 was a stray";
  EXPECT_EQ(h.released(), (Out{{5007, false}}));
  expect_stats(h.r.stats(), 7, 2, 0, 0, 0, 1, 1);
}

/* 5003 is far off and 4 follows instead: 5003 is a stray. Then 5004 (far from 5) is a new
 * candidate, not a resync; 5005 confirms it. */
TEST(RtpReorder, LoneJumpIsAStrayAndTheNextJumpAFreshCandidate)
{
  Harness h;
  h.push(1, 0);
  h.push(2, 1000);
  h.push(3, 2000);
  EXPECT_EQ(h.released(), (Out{{3, false}}));
  EXPECT_EQ(h.push(5003, 3000), Dropped{});
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.push(4, 4000), Dropped{5003});
  EXPECT_EQ(h.released(), (Out{{4, false}}));
  expect_stats(h.r.stats(), 4, 0, 0, 0, 0, 0, 1);

  EXPECT_EQ(h.push(5004, 5000), Dropped{});
  EXPECT_TRUE(h.out.empty()) << "a candidate again, no resync";
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  expect_stats(h.r.stats(), 4, 0, 0, 0, 0, 0, 1);

  EXPECT_EQ(h.push(5005, 6000), Dropped{});
  EXPECT_EQ(h.released(), (Out{{5004, true}, {5005, false}}));
  expect_stats(h.r.stats(), 6, 0, 0, 0, 0, 1, 1);
}

TEST(RtpReorder, CandidateReplacedByAnotherCandidate)
{
  Harness h;
  h.push(1, 0);
  EXPECT_EQ(h.push(5003, 1000), Dropped{});
  EXPECT_EQ(h.push(9003, 2000), Dropped{5003}) << "not 5004: 5003 was a stray, 9003 the new candidate";
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.push(9004, 3000), Dropped{});
  EXPECT_EQ(h.released(), (Out{{9003, true}, {9004, false}}));
  expect_stats(h.r.stats(), 3, 0, 0, 0, 0, 1, 1);
}

TEST(RtpReorder, CandidateDroppedBeforeALateOrDuplicatePacket)
{
  Harness h;
  h.push(1, 0);
  h.push(2, 1000);
  h.push(4, 2000);
  h.push(5000, 3000);
  EXPECT_EQ(h.push(2, 4000, 22), (Dropped{5000, 22})) << "the stray first, then the late one";
  h.push(6000, 5000);
  EXPECT_EQ(h.push(4, 6000, 44), (Dropped{6000, 44})) << "the stray first, then the duplicate";
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 1u);
  expect_stats(h.r.stats(), 2, 0, 1, 1, 0, 0, 2);
}

TEST(RtpReorder, HeldGapsExpireWhileACandidateWaits)
{
  Harness h;
  h.push(1, 0);
  h.push(3, 10000);
  h.push(7000, 20000, 7000, kSsrc + 1);
  EXPECT_EQ(h.r.next_deadline_us(), 10000 + kLatency);
  h.expire(10000 + kLatency);
  EXPECT_EQ(h.released(), (Out{{3, true}})) << "the candidate is not released by expire";
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  h.flush();
  EXPECT_TRUE(h.out.empty()) << "nor by flush";
  expect_stats(h.r.stats(), 2, 1, 0, 0, 0, 0, 0);
  h.push(7001, 30000, 7001, kSsrc + 1);
  EXPECT_EQ(h.released(), (Out{{7000, true}, {7001, false}})) << "the candidate still confirms";
  expect_stats(h.r.stats(), 4, 1, 0, 0, 0, 1, 0);
}

TEST(RtpReorder, DropCandidateHandsBackThePendingCandidate)
{
  Harness h;
  EXPECT_EQ(h.drop_candidate(), Dropped{}) << "before anything came";
  h.push(1, 0);
  h.push(3, 1000);
  EXPECT_EQ(h.push(40, 2000, 1040, kSsrc + 1), Dropped{});
  EXPECT_EQ(h.drop_candidate(), Dropped{1040});
  EXPECT_EQ(h.r.held(), 1u) << "the held packet is not touched";
  expect_stats(h.r.stats(), 1, 0, 0, 0, 0, 0, 1);
  EXPECT_EQ(h.drop_candidate(), Dropped{}) << "handed back once only";
  expect_stats(h.r.stats(), 1, 0, 0, 0, 0, 0, 1);

  EXPECT_EQ(h.push(41, 3000, 1041, kSsrc + 1), Dropped{}) << "41 has no candidate 40 to confirm: a candidate itself";
  EXPECT_TRUE(h.out.empty());
  h.push(2, 4000);
  EXPECT_EQ(h.released(), (Out{{2, false}, {3, false}}));
  expect_stats(h.r.stats(), 3, 0, 0, 0, 1, 0, 2);
  EXPECT_EQ(h.drop_candidate(), Dropped{}) << "41 was already dropped as a stray by 2";
}

TEST(RtpReorder, BackwardJumpConfirmedResyncs)
{
  Harness h;
  h.push(3000, 0);
  EXPECT_EQ(h.push(1000, 1000), Dropped{});   /* 2001 behind 3001: a candidate, not late */
  EXPECT_TRUE(h.out.empty());
  expect_stats(h.r.stats(), 1, 0, 0, 0, 0, 0, 0);
  h.push(1001, 2000);
  EXPECT_EQ(h.released(), (Out{{1000, true}, {1001, false}}));
  h.push(1002, 3000);
  EXPECT_EQ(h.released(), (Out{{1002, false}}));
  EXPECT_EQ(h.push(3001, 4000), Dropped{}) << "the old range, far ahead now: a candidate";
  EXPECT_EQ(h.push(1003, 5000), Dropped{3001});
  EXPECT_EQ(h.released(), (Out{{1003, false}}));
  expect_stats(h.r.stats(), 5, 0, 0, 0, 0, 1, 1);
}

TEST(RtpReorder, ResyncDistanceBoundary)
{
  static_assert(Reorder::kResyncDistance == 1000);
  {
    Harness h;
    h.push(100, 0);                  /* expects 101 */
    EXPECT_EQ(h.push(1100, 1000), Dropped{});   /* +999: a gap, held */
    EXPECT_TRUE(h.out.empty());
    EXPECT_EQ(h.r.held(), 1u);
    h.expire(1000 + kLatency);
    EXPECT_EQ(h.released(), (Out{{1100, true}}));
    expect_stats(h.r.stats(), 2, 999, 0, 0, 0, 0, 0);
  }
  {
    Harness h;
    h.push(100, 0);
    EXPECT_EQ(h.push(1101, 1000), Dropped{});   /* +1000: a candidate */
    EXPECT_TRUE(h.out.empty());
    EXPECT_EQ(h.r.held(), 0u);
    h.push(1102, 2000);
    EXPECT_EQ(h.released(), (Out{{1101, true}, {1102, false}}));
    expect_stats(h.r.stats(), 3, 0, 0, 0, 0, 1, 0);
  }
  {
    Harness h;
    h.push(2000, 0);                 /* expects 2001 */
    EXPECT_EQ(h.push(1002, 1000, 42), Dropped{42});   /* -999: late */
    EXPECT_TRUE(h.out.empty());
    expect_stats(h.r.stats(), 1, 0, 1, 0, 0, 0, 0);
    EXPECT_EQ(h.push(1001, 2000), Dropped{});   /* -1000: a candidate, not late */
    EXPECT_TRUE(h.out.empty());
    expect_stats(h.r.stats(), 1, 0, 1, 0, 0, 0, 0);
    EXPECT_EQ(h.drop_candidate(), Dropped{1001});
    expect_stats(h.r.stats(), 1, 0, 1, 0, 0, 0, 1);
  }
}

/* KNOWN BUG (disabled until rtp_reorder.h is fixed): a backward jump of exactly kResyncDistance
 * makes a candidate, but its confirming packet (candidate+1) is only 999 behind, so push() never
 * looks at the candidate: the candidate is dropped as a stray and the packet as late, and so is
 * every packet after it until the stream catches up with the old expected number. */
TEST(RtpReorder, BackwardJumpOfExactlyResyncDistanceIsConfirmed)
{
  Harness h;
  h.push(2000, 0);                   /* expects 2001 */
  EXPECT_EQ(h.push(1001, 1000), Dropped{});   /* -1000: a candidate */
  EXPECT_EQ(h.push(1002, 2000), Dropped{}) << "same SSRC, candidate+1: confirms";
  EXPECT_EQ(h.released(), (Out{{1001, true}, {1002, false}}));
  expect_stats(h.r.stats(), 3, 0, 0, 0, 0, 1, 0);
}

TEST(RtpReorder, FlushReleasesAllHeldInOrder)
{
  Harness h;
  h.flush();
  EXPECT_TRUE(h.out.empty()) << "flush before anything came";
  h.push(1, 0);
  h.push(3, 1000);
  h.push(5, 2000);
  h.push(6, 3000);
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 3u);
  h.flush();
  EXPECT_EQ(h.released(), (Out{{3, true}, {5, true}, {6, false}}));
  EXPECT_EQ(h.r.held(), 0u);
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  expect_stats(h.r.stats(), 4, 2, 0, 0, 0, 0, 0);
  h.flush();
  EXPECT_TRUE(h.out.empty());
  h.push(7, 4000);
  EXPECT_EQ(h.released(), (Out{{7, false}})) << "the order goes on after a flush";
  EXPECT_EQ(h.push(4, 5000, 44), Dropped{44}) << "a flushed gap's packet is late";
  expect_stats(h.r.stats(), 5, 2, 1, 0, 0, 0, 0);
}

TEST(RtpReorder, SeveralGapsExpireAtDifferentDeadlines)
{
  Harness h(100);
  h.push(1, 0);
  h.push(3, 10);
  h.push(5, 20);
  h.push(6, 25);
  h.push(8, 40);
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.r.held(), 4u);
  EXPECT_EQ(h.r.next_deadline_us(), 110);

  h.expire(109);
  EXPECT_TRUE(h.out.empty());
  h.expire(110);
  EXPECT_EQ(h.released(), (Out{{3, true}})) << "only the first gap (2) is over";
  EXPECT_EQ(h.r.held(), 3u);
  EXPECT_EQ(h.r.next_deadline_us(), 120);
  expect_stats(h.r.stats(), 2, 1, 0, 0, 0, 0, 0);

  h.expire(119);
  EXPECT_TRUE(h.out.empty());
  h.expire(125);
  EXPECT_EQ(h.released(), (Out{{5, true}, {6, false}})) << "gap 4 over; 8 waits until 140";
  EXPECT_EQ(h.r.held(), 1u);
  EXPECT_EQ(h.r.next_deadline_us(), 140);
  expect_stats(h.r.stats(), 4, 2, 0, 0, 0, 0, 0);

  h.push(7, 130);
  EXPECT_EQ(h.released(), (Out{{7, false}, {8, false}})) << "7 fills the last gap in time";
  EXPECT_EQ(h.r.next_deadline_us(), -1);
  expect_stats(h.r.stats(), 6, 2, 0, 0, 1, 0, 0);
}

TEST(RtpReorder, OneExpireGivesUpEveryGapWhoseWaitIsOver)
{
  Harness h(100);
  h.push(1, 0);
  h.push(3, 10);
  h.push(5, 20);
  h.push(9, 300);
  h.expire(200);
  EXPECT_EQ(h.released(), (Out{{3, true}, {5, true}})) << "gaps 2 and 4 over; 9 waits until 400";
  EXPECT_EQ(h.r.next_deadline_us(), 400);
  expect_stats(h.r.stats(), 3, 2, 0, 0, 0, 0, 0);
}

TEST(RtpReorder, DeadlineFollowsEarliestArrivalNotLowestSequence)
{
  Harness h(100);
  h.push(1, 0);
  h.push(5, 0);    /* waits until 100 */
  h.push(3, 50);   /* would wait until 150 on its own; below 5: reordered */
  EXPECT_EQ(h.r.next_deadline_us(), 100);
  h.expire(99);
  EXPECT_TRUE(h.out.empty());
  h.expire(100);
  EXPECT_EQ(h.released(), (Out{{3, true}, {5, true}})) << "5's wait is over, so all before it goes";
  expect_stats(h.r.stats(), 3, 2, 0, 0, 1, 0, 0);
}

TEST(RtpReorder, GapFilledPartlyBeforeDeadline)
{
  Harness h;
  h.push(1, 0);
  h.push(4, 10000);
  h.push(2, 20000);
  EXPECT_EQ(h.released(), (Out{{2, false}}));
  EXPECT_EQ(h.r.held(), 1u);
  EXPECT_EQ(h.r.next_deadline_us(), 10000 + kLatency);
  h.expire(10000 + kLatency);
  EXPECT_EQ(h.released(), (Out{{4, true}})) << "3 given up";
  expect_stats(h.r.stats(), 3, 1, 0, 0, 1, 0, 0);
}
