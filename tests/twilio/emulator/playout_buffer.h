/* Twilio emulator — Twilio's playout buffer for the audio the bridge sends back.
 *
 * Twilio queues every outbound `media` payload and plays it in real time, 160 bytes (20 ms) per
 * tick. A `mark` is echoed once all audio queued before it has been played; `clear` drops what is
 * queued and echoes every pending mark at once (those were not heard). No sockets and no clock in
 * here: the caller passes the times, so the logic is testable on its own.
 *
 * Underrun: the buffer ran dry right after playing audio, with no mark closing that audio, and
 * more audio came within the gap limit: the caller heard a hole in the middle of speech.
 * A bridge that marks every message (mulawbridge does) closes most audio with a mark, so a hole
 * exactly at a mark would pass for the end of a reply: such a dry spell followed by audio within
 * kShortPauseUs is counted apart (gaps_at_marks()), a pause no reply boundary is that short. */
#pragma once

#include <glib.h>

#include <deque>
#include <string>
#include <vector>

namespace clawvoice::test::twilio_emu {

struct MarkEcho {
  std::string name;
  bool played = false;      /* false: released by a clear, not heard */
  gint64 received_us = 0;   /* when the bridge's mark arrived */
};

struct Underrun {
  gint64 dry_at_us;   /* the end of the last audio played */
  gint64 gap_us;      /* until more audio arrived */
  gint64 previous_audio_us = 0;   /* when the audio before the dry spell arrived */
};

class PlayoutBuffer {
 public:
  static constexpr guint64 kFrameBytes = 160;
  static constexpr gint64 kFrameUs = 20000;
  static constexpr guint64 kMaxBufferedBytes = 10ull * 60 * 8000;   /* 10 minutes (31931) */
  static constexpr gint64 kShortPauseUs = 300000;

  explicit PlayoutBuffer(gint64 underrun_max_gap_us = G_USEC_PER_SEC)
      : underrun_max_gap_us_(underrun_max_gap_us) {}

  /* Queues audio. Returns false, dropping it, when the buffer would hold more than 10 minutes. */
  bool push_audio(const guint8 *data, size_t len, gint64 now_us);
  /* Queues a mark; returns true with @echo filled when it is due at once (nothing left to play). */
  bool push_mark(std::string name, gint64 now_us, MarkEcho *echo);

  struct Cleared {
    guint64 dropped_bytes = 0;
    std::vector<MarkEcho> released;
  };
  Cleared clear(gint64 now_us);

  struct Tick {
    std::vector<MarkEcho> echoed;   /* marks whose audio has finished playing */
    std::vector<guint8> frame;      /* what starts playing now: 0 … 160 bytes */
  };
  /* One 20 ms playout tick at @deadline_us: echoes what is due, then starts the next frame. */
  void tick(gint64 deadline_us, Tick *out);

  guint64 buffered_bytes() const { return enqueued_total_ - played_total_; }
  guint64 max_buffered_bytes() const { return max_buffered_; }
  guint64 played_bytes() const { return played_total_; }
  size_t pending_marks() const { return marks_.size(); }
  guint64 short_frames() const { return short_frames_; }   /* frames of fewer than 160 bytes */
  const std::vector<Underrun> &underruns() const { return underruns_; }
  const std::vector<Underrun> &gaps_at_marks() const { return gaps_at_marks_; }

 private:
  struct PendingMark {
    guint64 position;   /* bytes queued before it */
    std::string name;
    gint64 received_us;
  };

  gint64 underrun_max_gap_us_;
  std::deque<std::vector<guint8>> chunks_;
  size_t front_offset_ = 0;
  std::deque<PendingMark> marks_;
  guint64 enqueued_total_ = 0;
  guint64 played_total_ = 0;
  guint64 max_buffered_ = 0;
  gint64 playing_until_us_ = 0;
  bool last_tick_played_ = false;
  gint64 dry_since_us_ = -1;
  gint64 dry_at_mark_since_us_ = -1;
  gint64 last_audio_us_ = 0;
  guint64 short_frames_ = 0;
  std::vector<Underrun> underruns_;
  std::vector<Underrun> gaps_at_marks_;
};

}  // namespace clawvoice::test::twilio_emu
