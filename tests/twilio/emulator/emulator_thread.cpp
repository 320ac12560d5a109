#include "emulator_thread.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

namespace clawvoice::test::twilio_emu {

namespace {
struct Invocation {
  std::function<void()> fn;
};

gboolean run_invocation(gpointer data)
{
  static_cast<Invocation *>(data)->fn();
  return G_SOURCE_REMOVE;
}

void free_invocation(gpointer data)
{
  delete static_cast<Invocation *>(data);
}

/* The scheduler source: ready time = the earliest deadline; all the work is in dispatch. */
struct SchedulerSource {
  GSource base;
  EmulatorThread *owner;
};
}  // namespace

EmulatorThread::EmulatorThread(const char *name, bool raise_priority)
    : raise_priority_(raise_priority)
{
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);

  static GSourceFuncs scheduler_funcs = {nullptr, nullptr, &EmulatorThread::dispatch_timers,
                                         nullptr, nullptr, nullptr};
  scheduler_ = g_source_new(&scheduler_funcs, sizeof(SchedulerSource));
  reinterpret_cast<SchedulerSource *>(scheduler_)->owner = this;
  g_source_set_priority(scheduler_, G_PRIORITY_HIGH);   /* audio clocks before socket reads */
  g_source_set_name(scheduler_, "twilio-emu-scheduler");
  g_source_set_ready_time(scheduler_, -1);
  g_source_attach(scheduler_, context_);

  thread_ = g_thread_new(name, &EmulatorThread::thread_main, this);
  /* The session must be created on the thread whose context it uses. */
  invoke_sync([this]() {
    session_ = soup_session_new_with_options("max-conns", 4096, "max-conns-per-host", 4096,
                                             "timeout", 30, "idle-timeout", 0, nullptr);
  });
}

EmulatorThread::~EmulatorThread()
{
  invoke_sync([this]() {
    timers_.clear();
    due_order_.clear();
    g_source_destroy(scheduler_);
    soup_session_abort(session_);
    g_clear_object(&session_);
  });
  GMainLoop *loop = loop_;
  invoke([loop]() { g_main_loop_quit(loop); });
  g_thread_join(thread_);
  /* Dispatch what was still queued so no closure leaks. */
  g_main_context_push_thread_default(context_);
  while (g_main_context_iteration(context_, FALSE)) {
  }
  g_main_context_pop_thread_default(context_);
  g_source_unref(scheduler_);
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

gpointer EmulatorThread::thread_main(gpointer data)
{
  auto *self = static_cast<EmulatorThread *>(data);
  if (self->raise_priority_) {
    sched_param param{};
    param.sched_priority = 10;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0)
      self->priority_ = "SCHED_FIFO";
    else if (setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), -10) == 0)
      self->priority_ = "nice -10";
  }
  g_main_context_push_thread_default(self->context_);
  g_main_loop_run(self->loop_);
  g_main_context_pop_thread_default(self->context_);
  return nullptr;
}

void EmulatorThread::invoke(std::function<void()> fn)
{
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_invocation, new Invocation{std::move(fn)}, free_invocation);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void EmulatorThread::invoke_sync(std::function<void()> fn)
{
  if (is_current()) {
    fn();
    return;
  }
  std::mutex lock;
  std::condition_variable done_cond;
  bool done = false;
  invoke([&]() {
    fn();
    std::lock_guard<std::mutex> guard(lock);
    done = true;
    done_cond.notify_one();
  });
  std::unique_lock<std::mutex> guard(lock);
  done_cond.wait(guard, [&]() { return done; });
}

EmulatorThread::TimerId EmulatorThread::add_periodic(gint64 first_deadline_us, gint64 period_us,
                                                     std::function<void(gint64)> fn)
{
  g_return_val_if_fail(is_current(), 0);
  g_return_val_if_fail(period_us > 0, 0);
  TimerId id = next_id_++;
  timers_.emplace(id, Timer{first_deadline_us, period_us, std::move(fn)});
  due_order_.emplace(first_deadline_us, id);
  rearm();
  return id;
}

void EmulatorThread::cancel(TimerId id)
{
  g_return_if_fail(is_current());
  auto it = timers_.find(id);
  if (it == timers_.end())
    return;
  due_order_.erase({it->second.deadline, id});
  timers_.erase(it);
  rearm();
}

void EmulatorThread::rearm()
{
  g_source_set_ready_time(scheduler_, due_order_.empty() ? -1 : due_order_.begin()->first);
}

gboolean EmulatorThread::dispatch_timers(GSource *source, GSourceFunc, gpointer)
{
  reinterpret_cast<SchedulerSource *>(source)->owner->run_due_timers();
  return G_SOURCE_CONTINUE;
}

void EmulatorThread::run_due_timers()
{
  /* Woken late (this thread was not scheduled, not the bridge): what the sockets received in the
   * meantime reached Twilio before those deadlines, so read it before playing them, or a stall of
   * ours would look like a hole in the bridge's audio. A recursive iteration is safe here: this
   * source is blocked while it dispatches, and the loop below re-reads the timers. */
  if (!due_order_.empty() && g_get_monotonic_time() - due_order_.begin()->first > kCatchUpAfterUs) {
    catch_ups_++;
    for (int i = 0; i < kCatchUpMaxReads && g_main_context_iteration(context_, FALSE); i++) {
    }
  }
  const gint64 now = g_get_monotonic_time();
  /* Only deadlines due now: a callback that re-arms far ahead, or a timer added by a callback,
   * waits for the next dispatch. */
  while (!due_order_.empty() && due_order_.begin()->first <= now) {
    auto [deadline, id] = *due_order_.begin();
    due_order_.erase(due_order_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end())
      continue;

    const gint64 late = g_get_monotonic_time() - deadline;
    runs_++;
    if (late > 5000)
      late_over_5ms_++;
    if (late > max_late_us_.load())
      max_late_us_ = late;

    it->second.deadline = deadline + it->second.period;
    due_order_.emplace(it->second.deadline, id);
    /* Copy: the callback may cancel its own timer, which destroys the stored function. */
    std::function<void(gint64)> fn = it->second.fn;
    fn(deadline);
  }
  rearm();
}

SchedulerStats EmulatorThread::stats() const
{
  SchedulerStats s;
  s.runs = runs_.load();
  s.late_over_5ms = late_over_5ms_.load();
  s.max_late_us = max_late_us_.load();
  s.catch_ups = catch_ups_.load();
  return s;
}

}  // namespace clawvoice::test::twilio_emu
