#include "net/net_thread.h"

#include "net/context_runner.h"

#include <condition_variable>
#include <mutex>
#include <vector>

namespace clawvoice::net {

namespace {
std::mutex g_instance_lock;
std::weak_ptr<NetThread> g_instance;
std::weak_ptr<ContextRunner> g_pool[NetThread::kMaxPooledThreads + 1];   /* [0] unused: numbered from 1 */
unsigned g_pool_next = 0;

unsigned pool_size()
{
  static const unsigned size = []() {
    const char *env = g_getenv("CLAWVOICE_NET_THREADS");
    guint64 n = env && *env ? g_ascii_strtoull(env, nullptr, 10) : g_get_num_processors();
    return (unsigned) CLAMP(n, 1, NetThread::kMaxPooledThreads);
  }();
  return size;
}

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
    thread.reset(new NetThread("clawvoice-net"));
    g_instance = thread;
  }
  return thread;
}

namespace {
thread_local bool t_on_network_thread = false;   /* set on acquire()'s thread */
}

std::shared_ptr<NetThread> NetThread::acquire_pooled()
{
  if (void *running = ContextRunner::running_tag()) {
    std::shared_ptr<NetThread> self = static_cast<NetThread *>(running)->weak_from_this().lock();
    if (self)   /* (null only while it is being released: then a context of its own as usual) */
      return self;
  }
  std::shared_ptr<ContextRunner> runner;
  double phase;
  {
    std::lock_guard<std::mutex> lock(g_instance_lock);
    const unsigned index = 1 + g_pool_next++ % pool_size();
    phase = double(index - 1) / pool_size();
    runner = g_pool[index].lock();
    if (!runner) {
      g_autofree gchar *name = g_strdup_printf("clawvoice-net%u", index);
      runner = std::make_shared<ContextRunner>(name);
      g_pool[index] = runner;
    }
  }
  return std::shared_ptr<NetThread>(new NetThread(std::move(runner), phase));
}

namespace {

/* A GSource holding the closures queued by invoke(). It is made ready (ready time 0) only when the
 * queue turns non-empty, so the context's lock and the thread's wake-up are paid once per batch;
 * its dispatch runs the whole batch. */
struct InvokeQueue {
  GSource source;
  std::mutex *lock;
  std::vector<std::function<void()>> *queued;

  static gboolean dispatch(GSource *source, GSourceFunc, gpointer)
  {
    auto *self = reinterpret_cast<InvokeQueue *>(source);
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard<std::mutex> guard(*self->lock);
      batch.swap(*self->queued);
      g_source_set_ready_time(source, -1);
    }
    for (auto &fn : batch)
      fn();
    return G_SOURCE_CONTINUE;
  }
  static void finalize(GSource *source)
  {
    auto *self = reinterpret_cast<InvokeQueue *>(source);
    delete self->queued;
    delete self->lock;
  }
};

GSourceFuncs invoke_queue_funcs = {
  nullptr, nullptr, &InvokeQueue::dispatch, &InvokeQueue::finalize, nullptr, nullptr,
};

}  // namespace

namespace {
GSource *new_invoke_source(GMainContext *context)
{
  GSource *source = g_source_new(&invoke_queue_funcs, sizeof(InvokeQueue));
  auto *queue = reinterpret_cast<InvokeQueue *>(source);
  queue->lock = new std::mutex();
  queue->queued = new std::vector<std::function<void()>>();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_name(source, "clawvoice-net-invoke");
  g_source_attach(source, context);
  return source;
}
}  // namespace

NetThread::NetThread(const char *name)
{
  context_ = g_main_context_new();
  invoke_source_ = new_invoke_source(context_);
  loop_ = g_main_loop_new(context_, FALSE);
  /* The thread owns its own references: this object may go away while the loop still runs. */
  thread_ = g_thread_new(name, &NetThread::thread_main, g_main_loop_ref(loop_));
}

NetThread::NetThread(std::shared_ptr<ContextRunner> runner, double phase) : runner_(std::move(runner)), phase_(phase)
{
  context_ = g_main_context_new();
  const int wakeup_fd = ContextRunner::wakeup_fd_of_new_context(context_);
  invoke_source_ = new_invoke_source(context_);
  runner_->add(context_, this, wakeup_fd);
}

NetThread::~NetThread()
{
  if (runner_) {
    if (runner_->is_current_thread()) {
      /* The last reference went on the pool thread (a callback of some context it runs): the
       * context is let go after the current run, its queued closures dispatched first; the invoke
       * source stays attached until the context goes. */
      runner_->remove(context_);
    } else {
      runner_->remove(context_);   /* dispatches what was queued, then waits */
      g_source_destroy(invoke_source_);
    }
  } else {
    /* Quit from inside the loop: a quit issued before the thread reached g_main_loop_run() would
     * be lost and the thread would never end. */
    GMainLoop *loop = loop_;
    invoke([loop]() { g_main_loop_quit(loop); });
    if (g_thread_self() == thread_) {
      /* The last reference was dropped by a callback on the network thread itself: joining would
       * deadlock, so let the thread finish on its own (it holds its own loop/context refs). The
       * invoke source stays attached until then: the quit above goes through it. */
      g_thread_unref(thread_);
    } else {
      g_thread_join(thread_);
      /* Dispatch whatever was still queued so that no closure leaks. */
      while (g_main_context_iteration(context_, FALSE)) {
      }
      g_source_destroy(invoke_source_);
    }
    g_main_loop_unref(loop_);
  }
  g_source_unref(invoke_source_);
  g_main_context_unref(context_);
}

gpointer NetThread::thread_main(gpointer data)
{
  auto *loop = static_cast<GMainLoop *>(data);
  GMainContext *context = g_main_loop_get_context(loop);
  t_on_network_thread = true;
  g_main_context_push_thread_default(context);
  g_main_loop_run(loop);
  g_main_context_pop_thread_default(context);
  g_main_loop_unref(loop);
  return nullptr;
}

bool NetThread::is_current() const
{
  if (runner_)
    return ContextRunner::running_context() == context_;
  return g_main_context_is_owner(context_);
}

bool NetThread::on_network_thread()
{
  return t_on_network_thread || ContextRunner::on_runner_thread();
}

void NetThread::invoke(std::function<void()> fn)
{
  auto *queue = reinterpret_cast<InvokeQueue *>(invoke_source_);
  std::lock_guard<std::mutex> guard(*queue->lock);
  queue->queued->push_back(std::move(fn));
  if (queue->queued->size() == 1)
    g_source_set_ready_time(invoke_source_, 0);   /* wakes the context */
}

void NetThread::invoke_sync(std::function<void()> fn)
{
  if (is_current()) {
    fn();
    return;
  }
  if (runner_ && runner_->is_current_thread()) {
    /* Another context of the same pool thread: waiting would wait on ourselves. */
    ContextRunner::run_inline(context_, this, fn);
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

namespace {
GQuark thread_mark_quark()
{
  static GQuark quark = g_quark_from_static_string("clawvoice-net-thread");
  return quark;
}
}  // namespace

void NetThread::mark(GObject *object)
{
  g_object_set_qdata_full(object, thread_mark_quark(), new std::shared_ptr<NetThread>(shared_from_this()),
      [](gpointer data) { delete static_cast<std::shared_ptr<NetThread> *>(data); });
}

std::shared_ptr<NetThread> NetThread::of(GObject *object)
{
  auto *thread = static_cast<std::shared_ptr<NetThread> *>(g_object_get_qdata(object, thread_mark_quark()));
  return thread ? *thread : nullptr;
}

guint NetThread::add_timer(guint delay_ms, std::function<void()> fn)
{
  GSource *source = g_timeout_source_new(delay_ms);
  g_source_set_callback(source, run_call, new Call{std::move(fn)}, free_call);
  guint id = g_source_attach(source, context_);
  g_source_unref(source);
  if (!is_current())
    g_main_context_wakeup(context_);   /* GLib does not when its owner attaches (ContextRunner) */
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
