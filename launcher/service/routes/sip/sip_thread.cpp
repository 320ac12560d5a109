#include "routes/sip/sip_thread.h"

#include <sofia-sip/su.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>

#include <string>

#include "json_log.h"


namespace clawvoice::launcher::sip {

namespace {

struct Work {
  std::function<void()> fn;
};

/* Sofia's own diagnostics (it writes to stderr by default) become debug log lines; a message may
 * come in pieces, so it is written when its line is complete. Only the SIP thread logs. */
void sofia_logger(void *, char const *fmt, va_list ap)
{
  static thread_local std::string pending;
  gchar *text = g_strdup_vprintf(fmt, ap);
  pending += text;
  g_free(text);
  size_t nl;
  while ((nl = pending.find('\n')) != std::string::npos) {
    std::string line = pending.substr(0, nl);
    pending.erase(0, nl + 1);
    if (!line.empty())
      log_event(LogLevel::Debug, "sip.stack", {{"message", line}});
  }
}

gboolean run_work(gpointer data)
{
  static_cast<Work *>(data)->fn();
  return G_SOURCE_REMOVE;
}

void free_work(gpointer data)
{
  delete static_cast<Work *>(data);
}

}  // namespace

SipThread::SipThread()
{
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
}

SipThread::~SipThread()
{
  stop();
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

gpointer SipThread::run(gpointer data)
{
  auto *self = static_cast<SipThread *>(data);
  g_main_context_push_thread_default(self->context_);
  {
    std::unique_lock<std::mutex> lock(self->lock_);
    self->started_ = true;
  }
  self->ready_.notify_all();
  g_main_loop_run(self->loop_);
  g_main_context_pop_thread_default(self->context_);
  return nullptr;
}

bool SipThread::start(const std::function<bool(su_root_t *, std::string *)> &setup, std::string *error)
{
  thread_ = g_thread_new("clawvoice-sip", run, this);
  {
    std::unique_lock<std::mutex> lock(lock_);
    ready_.wait(lock, [this]() { return started_; });
  }
  bool ok = false;
  invoke_sync([&]() {
    su_init();
    su_log_redirect(nullptr, sofia_logger, nullptr);
    root_ = su_glib_root_create(nullptr);
    if (!root_) {
      *error = "Sofia-SIP could not create its event loop (su_glib_root_create)";
      return;
    }
    /* The root's sockets and timers are this GSource: attach it to this thread's context. */
    g_source_attach(su_glib_root_gsource(root_), context_);
    ok = setup(root_, error);
  });
  if (!ok)
    stop();
  return ok;
}

void SipThread::invoke(std::function<void()> fn)
{
  g_main_context_invoke_full(context_, G_PRIORITY_DEFAULT, run_work, new Work{std::move(fn)}, free_work);
}

void SipThread::invoke_sync(const std::function<void()> &fn)
{
  if (on_thread()) {
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
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&]() { return done; });
}

guint SipThread::add_timer(guint ms, std::function<void()> fn)
{
  GSource *source = g_timeout_source_new(ms);
  g_source_set_callback(source, run_work, new Work{std::move(fn)}, free_work);
  guint id = g_source_attach(source, context_);
  g_source_unref(source);
  return id;
}

void SipThread::cancel_timer(guint id)
{
  GSource *source = g_main_context_find_source_by_id(context_, id);
  if (source)
    g_source_destroy(source);
}

void SipThread::stop()
{
  if (!thread_)
    return;
  invoke_sync([this]() {
    if (root_) {
      /* Detached first: the GSource must not outlive its port in the context (its finalizer,
       * run from g_main_context_unref, aborts on the port's freed mutex). */
      g_source_destroy(su_glib_root_gsource(root_));
      su_root_destroy(root_);
      root_ = nullptr;
      su_deinit();
    }
    g_main_loop_quit(loop_);
  });
  g_thread_join(thread_);
  thread_ = nullptr;
}

}  // namespace clawvoice::launcher::sip
