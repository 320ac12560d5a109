/* Twilio emulator — everything one emulated call saw, for tests and benchmarks to judge.
 * Times are g_get_monotonic_time() microseconds. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

#include "playout_buffer.h"

namespace clawvoice::test::twilio_emu {

struct Violation {
  int code;             /* Twilio error code (see stream_messages.h) */
  std::string detail;
  gint64 time_us;
};

/* A caller frame we sent: when it was due on the 20 ms grid and when it was handed to the socket. */
struct SentFrame {
  guint64 chunk;
  gint64 due_us;
  gint64 sent_us;
};

/* An outbound media message from the bridge as it arrived. */
struct ReceivedMedia {
  gint64 time_us;
  guint32 bytes;
};

/* A 20 ms playout slot that played audio: @bytes of played_audio starting at @offset. */
struct PlayedFrame {
  gint64 time_us;   /* the playout tick (an absolute deadline on the 20 ms grid) */
  guint64 offset;
  guint32 bytes;
};

struct EchoedMark {
  std::string name;
  bool played;          /* false: released by a clear */
  gint64 received_us;   /* the bridge's mark arrived */
  gint64 echoed_us;     /* we sent it back */
};

struct ClearRecord {
  gint64 time_us;
  guint64 dropped_bytes;
  guint marks_released;
};

struct DtmfSent {
  char digit;
  gint64 time_us;
};

enum class CallState { Idle, Connecting, Streaming, Closed, Failed };
const char *call_state_name(CallState state);

struct CallReport {
  CallState state = CallState::Idle;
  std::string failure;            /* Failed: why (connect error, handshake status) */
  guint handshake_status = 0;     /* HTTP status of the upgrade (101 when it worked) */
  gint64 connected_us = 0;        /* socket open */
  gint64 start_sent_us = 0;       /* `start` sent: the stream's time zero */
  gint64 stop_sent_us = 0;
  gint64 closed_us = 0;
  bool closed_by_bridge = false;  /* the bridge closed (or dropped) the socket, not us */
  gushort close_code = 0;         /* as received; 1006 when the socket dropped without a frame */
  std::string close_reason;
  bool vanished = false;          /* we dropped the socket on purpose (vanish()) */

  /* Caller side (what we send). */
  std::vector<SentFrame> sent_media;
  gint64 caller_audio_done_us = 0;  /* last byte of the queued caller audio sent */
  std::vector<DtmfSent> dtmf_sent;

  /* Bridge side (what we receive and play). */
  std::vector<ReceivedMedia> received_media;
  guint64 bytes_received = 0;
  guint64 irregular_payloads = 0;   /* media payloads not a multiple of 160 bytes */
  std::vector<guint8> played_audio; /* what the caller heard, frame after frame */
  std::vector<PlayedFrame> played_frames;
  guint64 short_frames = 0;
  guint64 max_buffered_bytes = 0;
  guint64 buffered_bytes = 0;       /* now */
  std::vector<Underrun> underruns;
  std::vector<Underrun> gaps_at_marks;   /* see PlayoutBuffer: dry at a mark, audio again soon */
  std::vector<EchoedMark> marks;
  std::vector<ClearRecord> clears;
  guint64 dropped_overflow_bytes = 0;
  guint64 messages_after_stop = 0;

  std::vector<Violation> violations;

  double max_buffered_ms() const { return max_buffered_bytes / 8.0; }
  guint64 marks_played() const;
  guint64 marks_cleared() const;
  bool has_violation(int code) const;
  std::string describe_violations() const;   /* "31951: …; 31924: …" or "" */
  /* "dry 2140 ms into the played audio for 130 ms; …" or "" */
  std::string describe_underruns() const;
};

/* Figures a benchmark wants from a report. */
struct Percentiles {
  size_t count = 0;
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> values);

/* How far each sent caller frame left from its 20 ms deadline, in ms. */
Percentiles send_lateness_ms(const CallReport &report);
/* Jitter of the bridge's media arrivals: |inter-arrival − 20 ms| in ms, for arrivals of 160-byte
 * frames after the first @skip (the bridge may send an initial lead in a burst). */
Percentiles arrival_jitter_ms(const CallReport &report, size_t skip = 10);

/* What the caller heard on a timeline: played frames at their slot since the stream's start,
 * μ-law silence in the gaps. */
std::vector<guint8> heard_timeline(const CallReport &report);

}  // namespace clawvoice::test::twilio_emu
