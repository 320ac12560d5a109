/* clawvoice — the network threads.
 *
 * libsoup objects belong to the GMainContext that created them, and a thread per call does not
 * scale to hundreds of calls. So every WebSocket/HTTP client lives in a network context run by one
 * of a few network threads: the shared one (acquire(): servers, clients shared by calls), or a
 * context of a call's own on a small pool of threads (acquire_pooled()). Streaming threads hand
 * work to it with invoke() and never wait for the network. Threads start with their first user
 * and stop with their last. */
#pragma once

#include <glib-object.h>

#include <functional>
#include <memory>

namespace clawvoice::net {

class ContextRunner;

class NetThread : public std::enable_shared_from_this<NetThread> {
 public:
  /* A reference to the process-wide network thread, started on first use. Hold it for as long as
   * objects created on its context live; the thread stops when the last reference is dropped. */
  static std::shared_ptr<NetThread> acquire();
  /* A network context of its own, for one call or session (its Realtime socket, its media
   * socket, its timers), run by one of a small pool of network threads: contexts spread over the
   * pool round-robin, so that hundreds of calls use every core. Each pool thread waits on all its
   * contexts with one epoll set and runs only those whose descriptor or timeout fired
   * (ContextRunner): a caller's frame costs that call's few sources, not a walk over every call's.
   * The pool is apart from acquire()'s thread, which carries the servers. Its size is
   * $CLAWVOICE_NET_THREADS, else the number of processors, at most kMaxPooledThreads. An object
   * that must share a context with another (a WebSocket accepted by a server) uses that one's.
   * Called while a pooled context is being run, it returns that one: a pipeline built there (a
   * phone call whose media socket it carries) keeps all its network work in one context, which
   * spares a wake-up per frame, and its elements' invoke_sync() runs inline. */
  static std::shared_ptr<NetThread> acquire_pooled();
  static constexpr unsigned kMaxPooledThreads = 8;

  ~NetThread();
  NetThread(const NetThread &) = delete;
  NetThread &operator=(const NetThread &) = delete;

  /* Marks @object as living on this thread's context (its sources are attached there), for
   * whoever is handed it later: of() finds the thread again. The mark holds a reference to the
   * thread for as long as the object lives. */
  void mark(GObject *object);
  /* The thread @object was marked with, or null. */
  static std::shared_ptr<NetThread> of(GObject *object);

  GMainContext *context() const { return context_; }
  /* Where in a 20 ms period this thread's media timers should fall, as a fraction of it: pool
   * threads are spread evenly (0, 1/n, …), so that their bursts of work take turns instead of
   * meeting; 0 for acquire()'s thread. */
  double period_phase() const { return phase_; }
  /* True when called from the network thread itself (for a pooled one: while its context is being
   * run, which is when its objects may be touched). */
  bool is_current() const;
  /* True when called from any of the process's network threads: code that may run there too (a
   * pad function reached from a push on one) must never block, or every call on it stalls. */
  static bool on_network_thread();

  /* Runs @fn on the network thread, asynchronously (never waits, also when called from it).
   * Closures run in the order they were queued. They share one wake-up source: a burst from many
   * streaming threads (every call's 20 ms frame) costs the thread one wake-up, not one per frame. */
  void invoke(std::function<void()> fn);
  /* Runs @fn on the network thread and waits for it to finish. Only for setup and teardown paths
   * (state changes), never from a streaming thread's data path. Runs inline on the thread itself
   * (for a pooled one: on the pool thread that runs it, with its context as the thread-default). */
  void invoke_sync(std::function<void()> fn);
  /* A one-shot timer on the network context; returns the source id for cancel_timer(). */
  guint add_timer(guint delay_ms, std::function<void()> fn);
  void cancel_timer(guint id);

 private:
  explicit NetThread(const char *name);                      /* a thread of its own (acquire()) */
  NetThread(std::shared_ptr<ContextRunner> runner, double phase);  /* a context on a pool thread */
  static gpointer thread_main(gpointer data);

  GMainContext *context_ = nullptr;
  GSource *invoke_source_ = nullptr;   /* InvokeQueue (net_thread.cpp): dispatches every queued closure */
  /* acquire()'s: */
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
  /* acquire_pooled()'s: */
  std::shared_ptr<ContextRunner> runner_;
  double phase_ = 0;
};

}  // namespace clawvoice::net
