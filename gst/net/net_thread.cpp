#include "net/net_thread.h"

#include <condition_variable>
#include <mutex>

namespace clawvoice::net {

namespace {
std::mutex g_instance_lock;
std::weak_ptr<NetThread> g_instance;

struct Call {
  std::function<void()> fn;
};

gboolean run_call(gpointer data)
{
  static_cast<Call *>(data)->fn();
  return G_SOURCE_REMOVE;
}

void free_call(gpointer data)
{
  delete static_cast<Call *>(data);
}
}  // namespace

std::shared_ptr<NetThread> NetThread::acquire()
{
  std::lock_guard<std::mutex> lock(g_instance_lock);
  std::shared_ptr<NetThread> thread = g_instance.lock();
  if (!thread) {
    thread.reset(new NetThread());
    g_instance = thread;
  }
  return thread;
}

NetThread::NetThread()
{
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  /* The thread owns its own references: this object may go away while the loop still runs. */
  thread_ = g_thread_new("clawvoice-net", &NetThread::thread_main, g_main_loop_ref(loop_));
}

NetThread::~NetThread()
{
  /* Quit from inside the loop: a quit issued before the thread reached g_main_loop_run() would be
   * lost and the thread would never end. */
  GMainLoop *loop = loop_;
  invoke([loop]() { g_main_loop_quit(loop); });
  if (g_thread_self() == thread_) {
    /* The last reference was dropped by a callback on the network thread itself: joining would
     * deadlock, so let the thread finish on its own (it holds its own loop/context refs). */
    g_thread_unref(thread_);
  } else {
    g_thread_join(thread_);
    /* Dispatch whatever was still queued so that no closure leaks. */
    while (g_main_context_iteration(context_, FALSE)) {
    }
  }
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

gpointer NetThread::thread_main(gpointer data)
{
  auto *loop = static_cast<GMainLoop *>(data);
  GMainContext *context = g_main_loop_get_context(loop);
  g_main_context_push_thread_default(context);
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(context);
  g_main_loop_unref(loop);
  return nullptr;
}

bool NetThread::is_current() const
{
  return g_main_context_is_owner(context_);
}

void NetThread::invoke(std::function<void()> fn)
{
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_call, new Call{std::move(fn)}, free_call);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void NetThread::invoke_sync(std::function<void()> fn)
{
  if (is_current()) {
    fn();
    return;
  }
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  invoke([&]() {
    fn();
    std::lock_guard<std::mutex> lock(m);
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return done; });
}

guint NetThread::add_timer(guint delay_ms, std::function<void()> fn)
{
  GSource *source = g_timeout_source_new(delay_ms);
  g_source_set_callback(source, run_call, new Call{std::move(fn)}, free_call);
  guint id = g_source_attach(source, context_);
  g_source_unref(source);
  return id;
}

void NetThread::cancel_timer(guint id)
{
  if (id == 0)
    return;
  GSource *source = g_main_context_find_source_by_id(context_, id);
  if (source)
    g_source_destroy(source);
}

}  // namespace clawvoice::net
