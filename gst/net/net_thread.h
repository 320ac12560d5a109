/* clawvoice — the shared network thread.
 *
 * libsoup objects belong to the GMainContext that created them, and a thread per call does not
 * scale to hundreds of calls. So every WebSocket/HTTP client in a process lives on one shared
 * thread that runs its own GMainContext. Streaming threads hand work to it with invoke() and never
 * wait for the network. The thread starts with its first user and stops with its last. */
#pragma once

#include <glib-object.h>

#include <functional>
#include <memory>

namespace clawvoice::net {

class NetThread : public std::enable_shared_from_this<NetThread> {
 public:
  /* A reference to the process-wide network thread, started on first use. Hold it for as long as
   * objects created on its context live; the thread stops when the last reference is dropped. */
  static std::shared_ptr<NetThread> acquire();
  /* One of a small pool of network threads, for a connection of its own (a Realtime session, an
   * HTTP client): calls spread over the pool round-robin, so that hundreds of calls use every core
   * and each thread polls fewer sockets. The pool's threads are apart from acquire()'s, which
   * carries the servers and every socket they accept (a GMainContext's every iteration walks all
   * its sources, so one context with every socket of every call costs O(calls) per wake-up). Its
   * size is $CLAWVOICE_NET_THREADS, else the number of processors, at most kMaxPooledThreads. An
   * object that must share a context with another (a WebSocket accepted by a server) uses that
   * one's thread.
   * Called on a pool thread itself, it returns that thread: a pipeline built there (a phone call
   * whose media socket that thread carries) keeps all its network work on one thread, which spares
   * a wake-up per frame, and its elements' invoke_sync() runs inline instead of waiting on another
   * pool thread that may be waiting on this one. */
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
  /* True when called from the network thread itself. */
  bool is_current() const;
  /* True when called from any of the process's network threads: code that may run there too (a
   * pad function reached from a push on one) must never block, or every call on it stalls. */
  static bool on_network_thread();

  /* Runs @fn on the network thread, asynchronously (never waits, also when called from it).
   * Closures run in the order they were queued. They share one wake-up source: a burst from many
   * streaming threads (every call's 20 ms frame) costs the thread one wake-up, not one per frame. */
  void invoke(std::function<void()> fn);
  /* Runs @fn on the network thread and waits for it to finish. Only for setup and teardown paths
   * (state changes), never from a streaming thread's data path. Runs inline on the thread itself. */
  void invoke_sync(std::function<void()> fn);
  /* A one-shot timer on the network context; returns the source id for cancel_timer(). */
  guint add_timer(guint delay_ms, std::function<void()> fn);
  void cancel_timer(guint id);

 private:
  NetThread(const char *name, bool pooled);
  static gpointer thread_main(gpointer data);

  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
  bool pooled_ = false;
  GSource *invoke_source_ = nullptr;   /* InvokeQueue (net_thread.cpp): dispatches every queued closure */
};

}  // namespace clawvoice::net
