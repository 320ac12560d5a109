/* clawvoice — what the caller has HEARD of the audio mulawbridge sent to Twilio.
 *
 * Twilio echoes a `mark` once the audio sent before it has been played. A `clear` echoes every
 * pending mark at once, though their audio was dropped, not played; so each mark carries the
 * generation it was sent in (bumped by every clear), and only an echo of the current generation
 * counts as heard. A mark's name is "cv-<generation>-<end>", <end> the running time (µs) of the end
 * of the audio it follows, readable in Twilio's logs. Not thread-safe: the element guards it. */
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace clawvoice::mulawbridge {

class MarkLedger {
 public:
  /* Audio [start, end) (running time, ns) was sent since the previous mark: records a mark and
   * returns the name to send after that audio. */
  std::string add(uint64_t start, uint64_t end);

  struct Echo {
    bool known = false;        /* one of ours, still outstanding */
    bool heard = false;        /* its audio was played (current generation) */
    uint64_t end = 0;          /* running time (ns) of the end of its audio */
  };
  /* Twilio echoed @name. Marks come back in order; outstanding ones older than @name are settled
   * with it. */
  Echo echo(const std::string &name);

  /* A `clear` was sent: marks still outstanding will come back released, not heard. */
  void clear() { generation_++; }

  /* Running time (ns) of the end of the last audio known to be heard. */
  bool has_heard() const { return has_heard_; }
  uint64_t heard_end() const { return heard_end_; }

  uint64_t generation() const { return generation_; }
  size_t outstanding() const { return outstanding_.size(); }
  uint64_t sent() const { return sent_; }
  uint64_t heard() const { return heard_; }
  uint64_t released() const { return released_; }
  uint64_t heard_ns() const { return heard_ns_; }   /* total duration of heard audio */

  static std::string make_name(uint64_t generation, uint64_t end_ns);
  static bool parse_name(const std::string &name, uint64_t *generation, uint64_t *end_ns);

  void reset() { *this = MarkLedger(); }

 private:
  struct Mark {
    std::string name;
    uint64_t generation;
    uint64_t start;
    uint64_t end;
  };
  /* Twilio buffers at most 10 minutes; a peer that never echoes must not grow us without bound. */
  static constexpr size_t kMaxOutstanding = 30000;

  std::deque<Mark> outstanding_;
  uint64_t generation_ = 0;
  bool has_heard_ = false;
  uint64_t heard_end_ = 0;
  uint64_t sent_ = 0, heard_ = 0, released_ = 0, heard_ns_ = 0;
};

}  // namespace clawvoice::mulawbridge
