/* clawvoice simulator — the simulated model's voice: espeak-ng, resampled to the wire rate.
 *
 * espeak-ng is not thread-safe: every synthesis holds one process-wide lock. It renders 22050 Hz
 * mono; synthesize() converts to the requested rate (24 kHz PCM or 8 kHz for G.711).
 * synthesize_async() runs it on a GTask worker so the server's loop never waits for it. */
#pragma once

#include <gio/gio.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace clawvoice::sim {

struct SynthRequest {
  std::string text;
  std::string voice = "marin";   /* a Realtime API voice name, mapped onto an espeak-ng variant */
  double speed = 1.0;            /* audio.output.speed: 0.25 .. 1.5 */
  int rate = 24000;              /* output sample rate */
};

class SpeechSynthesizer {
 public:
  using Done = std::function<void(std::vector<int16_t> pcm)>;

  /* Blocking; thread-safe. Empty on failure or when @cancellable fires. */
  static std::vector<int16_t> synthesize(const SynthRequest &request,
                                         GCancellable *cancellable = nullptr);

  /* Synthesises on a worker thread and calls @done in the calling thread's thread-default main
   * context, unless @cancellable was cancelled by then. */
  void synthesize_async(SynthRequest request, GCancellable *cancellable, Done done);
  /* Jobs then complete in @home (the simulator's server context, which outlives every
   * connection's) and hand the result to the context that asked for it from there: a
   * connection's context may be gone by the time a job ends, and its count in pending() must
   * still come down. Null (the default): each job completes in the context that asked. */
  void deliver_on(GMainContext *home) { home_ = home; }
  /* Jobs started and not yet delivered (or dropped): stop() iterates its context until zero. */
  int pending() const { return pending_.load(); }

 private:
  struct Job;
  static void run_job(GTask *task, gpointer source, gpointer data, GCancellable *cancellable);
  static void job_done(GObject *source, GAsyncResult *result, gpointer data);

  std::atomic<int> pending_{0};
  GMainContext *home_ = nullptr;
};

}  // namespace clawvoice::sim
