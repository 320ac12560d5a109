/* clawvoice — rtpnetsrc's jitter buffer: RTP packets put back in sequence order, without a thread.
 *
 * A packet that comes in order goes out at once. One that comes after a gap is held, up to
 * `latency` after it arrived, for the missing ones to arrive; then the gap is given up (counted as
 * lost) and what was held goes out, the first packet after the gap marked as a discontinuity.
 * Late packets (behind what already went out) and duplicates are dropped. A jump of the sequence
 * number far from the expected one, or a new SSRC, is a new stream once a second packet follows it
 * in sequence (RFC 3550 A.1's probation; a lone stray is dropped): what is held goes out and the
 * order restarts there. No clock and no sockets in here: the caller passes the times and runs the
 * deadline, so the logic is testable on its own (and runs on whatever thread owns it). */
#pragma once

#include <glib.h>

#include <algorithm>
#include <map>
#include <vector>

namespace clawvoice::rtpnetsrc {

struct ReorderStats {
  guint64 pushed = 0;       /* packets that went out */
  guint64 lost = 0;         /* sequence numbers given up */
  guint64 late = 0;         /* came after their place had gone out */
  guint64 duplicates = 0;
  guint64 reordered = 0;    /* came after a higher sequence number, and were put back in place */
  guint64 resyncs = 0;      /* new streams (SSRC change, sequence jump) */
  guint64 strays = 0;       /* far off the sequence, and not followed in sequence: dropped */
};

/* @T is the packet's payload handle (a GstBuffer* in the element, anything in tests); the reorder
 * owns the ones it holds and hands them back in Released. */
template <typename T>
class RtpReorder {
 public:
  struct Released {
    T packet;
    bool discont;   /* packets were lost (or the stream restarted) just before this one */
  };

  explicit RtpReorder(gint64 latency_us) : latency_us_(latency_us) {}

  /* A packet arrived at @now_us: appends to @out what may go out now, in order, and to @dropped
   * the packets given back (late, duplicate, stray). */
  void push(guint16 seq, guint32 ssrc, T packet, gint64 now_us, std::vector<Released> *out, std::vector<T> *dropped);
  /* Hands back a packet still waiting to confirm a new stream (stop). */
  void drop_candidate(std::vector<T> *dropped);
  /* Gives up the gaps whose wait is over at @now_us. */
  void expire(gint64 now_us, std::vector<Released> *out);
  /* Everything held, in order (end of stream, stop). */
  void flush(std::vector<Released> *out);

  /* When expire() has work: the earliest arrival of a held packet plus the latency; -1 if none. */
  gint64 next_deadline_us() const;
  size_t held() const { return held_.size(); }
  const ReorderStats &stats() const { return stats_; }

  /* Farther than this from the expected sequence number, a packet starts a new stream. */
  static constexpr gint kResyncDistance = 1000;

 private:
  struct Held {
    T packet;
    gint64 arrival_us;
  };
  void release_in_order(std::vector<Released> *out);
  void skip_to_first_held(std::vector<Released> *out);

  gint64 latency_us_;
  bool started_ = false;
  /* A packet that may start a new stream, waiting for the next one to confirm it. */
  bool candidate_ = false;
  T candidate_packet_{};
  guint32 candidate_ssrc_ = 0;
  guint16 candidate_seq_ = 0;
  gint64 candidate_arrival_us_ = 0;
  guint64 highest_ = 0;   /* the highest extended sequence number seen */
  guint32 ssrc_ = 0;
  guint64 next_ = 0;   /* extended sequence number expected next */
  bool discont_next_ = true;
  std::map<guint64, Held> held_;   /* by extended sequence number */
  ReorderStats stats_;
};

template <typename T>
void RtpReorder<T>::push(guint16 seq, guint32 ssrc, T packet, gint64 now_us, std::vector<Released> *out,
                         std::vector<T> *dropped)
{
  if (!started_) {
    started_ = true;
    ssrc_ = ssrc;
    next_ = seq + (1ull << 32);   /* room below for late packets */
  }
  gint delta = static_cast<gint16>(seq - static_cast<guint16>(next_));
  /* (Checked first: the packet after a candidate 1000 behind is itself only 999 behind.) */
  const bool confirms = candidate_ && ssrc == candidate_ssrc_ && seq == static_cast<guint16>(candidate_seq_ + 1);
  if (!confirms && (ssrc != ssrc_ || delta >= kResyncDistance || delta <= -kResyncDistance)) {
    /* Maybe a new stream: keep it until the next packet tells (a previous candidate was a stray). */
    drop_candidate(dropped);
    candidate_ = true;
    candidate_packet_ = packet;
    candidate_ssrc_ = ssrc;
    candidate_seq_ = seq;
    candidate_arrival_us_ = now_us;
    return;
  }
  if (confirms) {
    flush(out);
    stats_.resyncs++;
    ssrc_ = ssrc;
    next_ = std::max(next_, highest_) + (1ull << 16);   /* a fresh range, above everything before */
    next_ = (next_ & ~0xffffull) | candidate_seq_;
    highest_ = next_;
    discont_next_ = true;
    candidate_ = false;
    held_.emplace(next_, Held{candidate_packet_, candidate_arrival_us_});
    delta = 1;
  } else {
    drop_candidate(dropped);   /* the stream went on where it was: the candidate was a stray */
  }
  if (delta < 0) {
    stats_.late++;
    dropped->push_back(packet);
    return;
  }
  const guint64 ext = next_ + static_cast<guint64>(delta);
  if (held_.count(ext)) {
    stats_.duplicates++;
    dropped->push_back(packet);
    return;
  }
  if (ext < highest_)
    stats_.reordered++;   /* came after a higher one, in time to take its place */
  highest_ = std::max(highest_, ext);
  held_.emplace(ext, Held{packet, now_us});
  release_in_order(out);
}

template <typename T>
void RtpReorder<T>::drop_candidate(std::vector<T> *dropped)
{
  if (!candidate_)
    return;
  candidate_ = false;
  stats_.strays++;
  dropped->push_back(candidate_packet_);
}

template <typename T>
void RtpReorder<T>::release_in_order(std::vector<Released> *out)
{
  while (!held_.empty() && held_.begin()->first == next_) {
    out->push_back({held_.begin()->second.packet, discont_next_});
    discont_next_ = false;
    held_.erase(held_.begin());
    next_++;
    stats_.pushed++;
  }
}

template <typename T>
void RtpReorder<T>::skip_to_first_held(std::vector<Released> *out)
{
  const guint64 first = held_.begin()->first;
  stats_.lost += first - next_;
  next_ = first;
  discont_next_ = true;
  release_in_order(out);
}

template <typename T>
void RtpReorder<T>::expire(gint64 now_us, std::vector<Released> *out)
{
  while (!held_.empty() && next_deadline_us() <= now_us)
    skip_to_first_held(out);
}

template <typename T>
void RtpReorder<T>::flush(std::vector<Released> *out)
{
  while (!held_.empty())
    skip_to_first_held(out);
}

template <typename T>
gint64 RtpReorder<T>::next_deadline_us() const
{
  if (held_.empty())
    return -1;
  gint64 earliest = G_MAXINT64;
  for (const auto &[ext, h] : held_)
    earliest = std::min(earliest, h.arrival_us);
  return earliest + latency_us_;
}

}  // namespace clawvoice::rtpnetsrc
