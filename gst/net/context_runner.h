/* clawvoice — one thread that runs many GMainContexts, waiting on all of them with one epoll set.
 *
 * Why: a GMainContext walks every source it holds and polls every descriptor it has on each
 * wake-up. A network thread whose one context carried fifty calls (two WebSockets, timers each)
 * paid for all fifty on every caller frame, 50 frames a second per call: at 100 calls about a
 * third of the launcher's CPU went to GLib's walk and the kernel's poll of idle sockets. Here each
 * call has a context of its own, and a wake-up runs only the contexts whose descriptor or timeout
 * fired: its cost is that call's handful of sources, whatever the number of calls (the way Node's
 * or any epoll loop scales).
 *
 * Each context still goes through GLib's own iteration (prepare, query, check, dispatch); only the
 * poll is shared. The exception is a direct reader (add_direct_reader()): a socket its owner reads
 * itself when epoll reports it, with only a prepare and query of its context after (the media
 * sockets, whose frames would otherwise each cost GLib's check and dispatch). The descriptors query() returns stay registered in the epoll set (changed only
 * when the context's set changes), the context's timeout becomes a deadline, and the revents epoll
 * reports are handed to check(). The thread acquires every context it runs and makes it the
 * thread-default while running it, so that whatever is created there (libsoup's sockets and
 * timers) attaches to it.
 *
 * Two things GLib leaves to the loop that polls, which this one does:
 *  - GLib does not wake a context when its owner thread attaches a source to it (it assumes the
 *    owner is about to iterate it). Code that runs on this thread for a context other than the one
 *    being run must call g_main_context_wakeup() after attaching (run_inline() does it).
 *  - An epoll registration belongs to the open file, not to the number: a socket closed and
 *    another opened with the same number between two queries would be missed. A sweep polls every
 *    registered descriptor a few times a second and re-registers any that is ready unseen. */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>

namespace clawvoice::net {

class ContextRunner {
 public:
  /* Starts the thread, named @name. */
  explicit ContextRunner(const char *name);
  /* Stops the thread once every context it ran is removed. Joins it, unless called on it (then the
   * thread ends on its own after the current run). */
  ~ContextRunner();
  ContextRunner(const ContextRunner &) = delete;
  ContextRunner &operator=(const ContextRunner &) = delete;

  /* From now on @context is run on this thread (a reference is taken). @tag is what running_tag()
   * returns while it runs. @wakeup_fd, from wakeup_fd_of_new_context(), lets the thread clear the
   * wake-ups a dispatch signals to its own context (see run()). Does not wait. */
  void add(GMainContext *context, void *tag, int wakeup_fd = -1);
  /* The wake-up descriptor of @context, which must be new (no source attached yet), or -1. */
  static int wakeup_fd_of_new_context(GMainContext *context);
  /* Stops running @context: what is ready in it is dispatched first, then it is released and its
   * descriptors leave the epoll set. Waits for that, unless called on this thread: then it happens
   * after the current run, and running_tag() is null from now on. */
  void remove(GMainContext *context);

  /* A descriptor its owner reads itself, outside GLib's iteration: when epoll reports @fd readable
   * the thread calls @on_ready with @context as the running, thread-default context, then prepares
   * and queries the context again (so a source or timeout that @on_ready added is seen), and only
   * checks and dispatches it when a GLib source of its own is due. For the sockets that carry a
   * frame every 20 ms per call: GLib's check and dispatch of a context cost more than reading the
   * frame. Only from this runner's thread while @context is being run (returns null otherwise, and
   * the caller polls with a GSource instead). @fd must not also be polled by a GSource of a context
   * on this thread. */
  struct DirectReader;
  static std::shared_ptr<DirectReader> add_direct_reader(GMainContext *context, int fd,
      std::function<void()> on_ready);
  /* From any thread, before closing the descriptor. On the runner's thread @on_ready is never
   * called again; from another thread it is not called once this returns, unless it is running at
   * this moment, which the owner must rule out (as for a GSource it destroys from another thread). */
  static void remove_direct_reader(const std::shared_ptr<DirectReader> &reader);

  /* Runs @fn now on this thread (which the caller must be on) as if @context were being run: it is
   * the thread-default and running_context(); then wakes @context so that its next wait sees any
   * source @fn attached. */
  static void run_inline(GMainContext *context, void *tag, const std::function<void()> &fn);

  /* True when called on this runner's thread. */
  bool is_current_thread() const;
  /* True on any runner's thread. */
  static bool on_runner_thread();
  /* The context being run on the calling thread and its tag, or null. */
  static GMainContext *running_context();
  static void *running_tag();

  struct Core;   /* the thread's state (context_runner.cpp); the thread holds it too */

 private:
  std::shared_ptr<Core> core_;
  GThread *thread_ = nullptr;
};

}  // namespace clawvoice::net
