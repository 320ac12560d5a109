/* Twilio emulator — the thread that runs every call of one emulator instance.
 *
 * The emulator plays Twilio's part against the system under test, so its load must stay apart
 * from the system's own threads: it has its own GThread and GMainContext (never clawvoice's
 * NetThread). All libsoup objects of its calls live on this context, and one scheduler source
 * drives every call's 20 ms clock from absolute monotonic deadlines, so the cadence does not drift
 * however late one wake-up is, and hundreds of calls cost one poll wake-up per due deadline. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <utility>

namespace clawvoice::test::twilio_emu {

/* How punctual the scheduler was: wake-up time minus deadline, over every periodic run. */
struct SchedulerStats {
  guint64 runs = 0;
  guint64 late_over_5ms = 0;
  gint64 max_late_us = 0;
  guint64 catch_ups = 0;   /* late wake-ups that read the sockets before playing the deadlines */
};

class EmulatorThread {
 public:
  /* With @raise_priority the thread asks for SCHED_FIFO (then nice -10 if refused): Twilio does
   * not share the machine with the system under test, so its clock must not suffer from that
   * system's load (or a parallel build's). Falls back quietly to normal priority. */
  explicit EmulatorThread(const char *name = "twilio-emu", bool raise_priority = true);
  ~EmulatorThread();
  EmulatorThread(const EmulatorThread &) = delete;
  EmulatorThread &operator=(const EmulatorThread &) = delete;

  GMainContext *context() const { return context_; }
  bool is_current() const { return g_main_context_is_owner(context_); }
  /* The HTTP/WebSocket session of this thread (use on this thread only). */
  SoupSession *session() const { return session_; }

  /* Runs @fn on the emulator thread, later (never inline). */
  void invoke(std::function<void()> fn);
  /* Runs @fn on the emulator thread and waits for it (inline when already on it). */
  void invoke_sync(std::function<void()> fn);

  /* Emulator thread only. Calls @fn(deadline_us) at @first_deadline_us and every @period_us after
   * it, on the g_get_monotonic_time() clock. Deadlines are absolute: a late run does not shift the
   * next one, and a run that missed several deadlines is called once per missed deadline. */
  using TimerId = guint64;
  TimerId add_periodic(gint64 first_deadline_us, gint64 period_us, std::function<void(gint64)> fn);
  void cancel(TimerId id);   /* safe from inside a timer's own callback */

  SchedulerStats stats() const;
  /* "SCHED_FIFO", "nice -10" or "normal": what the thread got. */
  const char *priority() const { return priority_; }

 private:
  struct Timer {
    gint64 deadline;
    gint64 period;
    std::function<void(gint64)> fn;
  };
  static gpointer thread_main(gpointer data);
  static gboolean dispatch_timers(GSource *source, GSourceFunc, gpointer);
  void run_due_timers();
  void rearm();

  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
  SoupSession *session_ = nullptr;
  GSource *scheduler_ = nullptr;
  bool raise_priority_ = true;
  const char *priority_ = "normal";

  /* Emulator thread only. */
  TimerId next_id_ = 1;
  std::map<TimerId, Timer> timers_;
  std::set<std::pair<gint64, TimerId>> due_order_;

  std::atomic<guint64> runs_{0};
  std::atomic<guint64> late_over_5ms_{0};
  std::atomic<gint64> max_late_us_{0};
  std::atomic<guint64> catch_ups_{0};

  static constexpr gint64 kCatchUpAfterUs = 10000;
  static constexpr int kCatchUpMaxReads = 2;   /* one iteration dispatches every socket that is ready */
};

}  // namespace clawvoice::test::twilio_emu
