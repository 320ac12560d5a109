/* clawvoice — the model's audio on its way to real time.
 *
 * Deltas arrive in bursts faster than real time; the src task takes one fixed period at a time at
 * the pace of the clock. The queue remembers which assistant item each byte belongs to and where
 * each period was put on the timeline, so that on barge-in the position the listener reached can be
 * mapped back to milliseconds of that item (what was HEARD, not what was received).
 * Not thread-safe: the element guards it with its lock. Timestamps are GstClockTime (ns). */
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace clawvoice {

class PlayoutQueue {
 public:
  /* @bytes_per_ms: 48 for PCM16 24 kHz, 8 for G.711. @silence_byte: 0x00 PCM, 0xFF μ-law, 0xD5 A-law. */
  void configure(unsigned bytes_per_ms, unsigned period_ms, uint8_t silence_byte);
  unsigned period_bytes() const { return bytes_per_ms_ * period_ms_; }

  void push(const std::string &item_id, const uint8_t *data, size_t size);
  /* The item's audio is complete: a last partial period is padded with silence, not held back. */
  void finish_item(const std::string &item_id);

  struct Period {
    std::vector<uint8_t> audio;   /* exactly period_bytes() */
    std::string item_id;          /* item of the first byte */
    int64_t item_offset_ms = 0;   /* position of the first byte within that item */
  };
  /* Takes the next period if a whole one is queued (or the rest of a finished item). */
  bool pop(Period *period);
  /* Records that @period was put out at @timestamp (running time, ns) for @duration. */
  void record_output(const Period &period, uint64_t timestamp, uint64_t duration);

  /* Drops everything not yet put out; returns how many ms of audio were dropped. */
  int64_t clear();
  bool empty() const { return queued_ == 0; }
  int64_t queued_ms() const { return (int64_t) (queued_ / bytes_per_ms_); }

  int64_t received_ms(const std::string &item_id) const;
  /* Milliseconds of @item_id heard when the listener has reached @position (running time, ns),
   * clamped to what was received. */
  int64_t heard_ms(const std::string &item_id, uint64_t position) const;
  /* End (running time, ns) of the last period of @item_id that was put out; 0 if none. */
  uint64_t output_end(const std::string &item_id) const;

  void reset();

 private:
  struct Chunk {
    std::string item_id;
    std::vector<uint8_t> data;
    size_t offset = 0;             /* bytes of data already taken */
    int64_t item_start_byte = 0;   /* byte position of data[0] within the item */
  };
  struct Span {
    std::string item_id;
    uint64_t timestamp;
    uint64_t duration;
    int64_t item_offset_ms;
  };

  unsigned bytes_per_ms_ = 48;
  unsigned period_ms_ = 20;
  uint8_t silence_byte_ = 0;
  std::deque<Chunk> chunks_;
  size_t queued_ = 0;
  std::map<std::string, int64_t> received_bytes_;
  std::map<std::string, bool> finished_;
  std::deque<Span> spans_;         /* recent output, for heard_ms(); bounded */
};

}  // namespace clawvoice
