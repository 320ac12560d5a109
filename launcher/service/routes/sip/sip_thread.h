/* clawvoice-launcher — the SIP route's own thread: a GMainContext that runs Sofia-SIP's su_root.
 *
 * Sofia-SIP is single-threaded: every nua call and every event callback must happen on the thread
 * that created its su_root. su_glib makes that root a GSource, which this thread attaches to its own
 * GMainContext, so SIP timers (retransmissions, session timers) and sockets run here and nowhere
 * else; no streaming thread and neither the launcher's main context nor the shared network thread
 * ever waits on SIP. Other threads hand work over with invoke(). */
#pragma once

#include <glib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#define SU_ROOT_MAGIC_T void
#include <sofia-sip/su_wait.h>

namespace clawvoice::launcher::sip {

class SipThread {
 public:
  SipThread();
  ~SipThread();   /* stop() */
  SipThread(const SipThread &) = delete;
  SipThread &operator=(const SipThread &) = delete;

  /* Starts the thread, makes the su_root there and runs @setup on it; false (and *error) if the
   * root or @setup fails, in which case the thread is already stopped. */
  bool start(const std::function<bool(su_root_t *root, std::string *error)> &setup, std::string *error);
  /* Runs @fn on the SIP thread, later (inline when called from it). */
  void invoke(std::function<void()> fn);
  /* Runs @fn on the SIP thread and waits for it. Never call from a streaming thread. */
  void invoke_sync(const std::function<void()> &fn);
  /* A one-shot timer on the SIP thread; returns its id for cancel_timer(). */
  guint add_timer(guint ms, std::function<void()> fn);
  void cancel_timer(guint id);
  /* Destroys the su_root on its thread and joins it. */
  void stop();

  bool on_thread() const { return g_thread_self() == thread_; }
  su_root_t *root() const { return root_; }

 private:
  static gpointer run(gpointer data);

  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
  su_root_t *root_ = nullptr;
  std::mutex lock_;
  std::condition_variable ready_;
  bool started_ = false;
};

}  // namespace clawvoice::launcher::sip
