#include "net/context_runner.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace clawvoice::net {

namespace {

/* How often every registered descriptor is polled directly, to catch one whose number was reused
 * under a stale registration (see the header). Only a missed event waits this long. */
constexpr gint64 kSweepIntervalUs = 200 * G_TIME_SPAN_MILLISECOND;
constexpr int kMaxEventsPerWait = 128;
constexpr guint32 kPolledEvents = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP;

/* GIOCondition and the epoll bits have the same values on Linux (both follow poll()). */
static_assert((int) G_IO_IN == (int) EPOLLIN && (int) G_IO_PRI == (int) EPOLLPRI && (int) G_IO_OUT == (int) EPOLLOUT &&
    (int) G_IO_ERR == (int) EPOLLERR && (int) G_IO_HUP == (int) EPOLLHUP, "GIOCondition matches the epoll bits");

thread_local ContextRunner::Core *t_runner = nullptr;
thread_local GMainContext *t_running_context = nullptr;
thread_local void *t_running_tag = nullptr;

/* Sets the running context and tag for a scope and makes the context the thread-default. */
class Running {
 public:
  Running(GMainContext *context, void *tag)
      : previous_context_(t_running_context), previous_tag_(t_running_tag), context_(context)
  {
    t_running_context = context;
    t_running_tag = tag;
    g_main_context_push_thread_default(context);
  }
  ~Running()
  {
    g_main_context_pop_thread_default(context_);
    t_running_context = previous_context_;
    t_running_tag = previous_tag_;
  }

 private:
  GMainContext *previous_context_;
  void *previous_tag_;
  GMainContext *context_;
};

struct Done {
  std::mutex lock;
  std::condition_variable cv;
  bool done = false;

  void signal()
  {
    std::lock_guard<std::mutex> guard(lock);
    done = true;
    cv.notify_all();
  }
  void wait()
  {
    std::unique_lock<std::mutex> guard(lock);
    cv.wait(guard, [this] { return done; });
  }
};

}  // namespace

/* epoll data of a direct reader's descriptor: the descriptor with this bit (GLib's are bare). */
constexpr guint64 kDirectTag = 1ULL << 32;

struct ContextRunner::DirectReader {
  std::weak_ptr<Core> core;
  void *member = nullptr;          /* Core::Member, while registered (runner thread only) */
  int fd = -1;
  std::function<void()> on_ready;
  std::atomic<bool> alive{true};   /* cleared by remove_direct_reader() from any thread */
};

struct ContextRunner::Core {
  /* One context this thread runs. */
  struct Member {
    GMainContext *context = nullptr;
    void *tag = nullptr;
    bool removing = false;               /* remove() was called on this thread: dropped at the next turn */
    std::shared_ptr<Done> removed;       /* remove() from another thread waits on it */
    bool prepared = false;               /* prepare() and query() ran: fds and max_priority are valid */
    gint max_priority = 0;
    std::vector<GPollFD> fds = std::vector<GPollFD>(8);
    gint n_fds = 0;
    std::vector<std::pair<int, guint32>> registered;   /* (fd, epoll events) in the epoll set, by fd */
    int wakeup_fd = -1;                  /* the context's own wake-up eventfd, when known */
    gint64 deadline = -1;                /* monotonic µs at which it must run; -1: no timeout */
    bool ready = false;                  /* in this turn's list already */
    bool glib_due = false;               /* ready for GLib's sake (a descriptor of its sources, its timeout) */
    std::vector<std::shared_ptr<DirectReader>> direct;        /* its direct readers */
    std::vector<std::shared_ptr<DirectReader>> direct_ready;  /* this turn's */
  };

  struct Request {
    enum class Kind { Add, Remove, RemoveDirect } kind;
    GMainContext *context;
    void *tag;
    std::shared_ptr<Done> done;
    int wakeup_fd = -1;
    std::shared_ptr<DirectReader> direct = nullptr;
  };

  std::weak_ptr<Core> self;   /* for the direct readers' way back (set as the thread starts) */
  int epoll_fd = -1;
  int control_fd = -1;   /* eventfd: requests queued, or stop */

  std::mutex lock;       /* requests and stopping: from any thread */
  std::vector<Request> requests;
  bool stopping = false;

  /* The thread's own, unlocked. */
  std::vector<Member *> members;
  std::vector<Member *> owner_of_fd;   /* by descriptor number: who registered it */
  std::vector<std::shared_ptr<DirectReader>> direct_of_fd;   /* by descriptor number */
  std::vector<std::pair<int, guint32>> wanted_scratch;
  gint64 next_sweep = 0;

  Core()
  {
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    control_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd < 0 || control_fd < 0)
      g_error("clawvoice: cannot create the network thread's epoll set: %s", g_strerror(errno));
    struct epoll_event event = {};
    event.events = EPOLLIN;
    event.data.fd = control_fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, control_fd, &event);
  }
  ~Core()
  {
    close(control_fd);
    close(epoll_fd);
  }

  void signal_control()
  {
    guint64 one = 1;
    ssize_t written = write(control_fd, &one, sizeof one);
    (void) written;   /* a full counter is still readable: the wake-up is not lost */
  }

  void queue(Request request)
  {
    {
      std::lock_guard<std::mutex> guard(lock);
      requests.push_back(std::move(request));
    }
    signal_control();
  }

  Member *find(GMainContext *context)
  {
    for (Member *m : members)
      if (m->context == context)
        return m;
    return nullptr;
  }

  /* Takes the queued requests and drops the members marked for removal. Returns whether the
   * thread should end. */
  bool take_requests()
  {
    std::vector<Request> taken;
    bool stop;
    {
      std::lock_guard<std::mutex> guard(lock);
      taken.swap(requests);
      stop = stopping;
    }
    for (Request &request : taken) {
      if (request.kind == Request::Kind::RemoveDirect) {
        unregister_direct(request.direct);
        continue;
      }
      if (request.kind == Request::Kind::Add) {
        auto *m = new Member();
        m->context = g_main_context_ref(request.context);
        m->tag = request.tag;
        m->wakeup_fd = request.wakeup_fd;
        if (!g_main_context_acquire(m->context))
          g_critical("clawvoice: a context handed to a network thread is owned by another thread");
        m->deadline = 0;   /* its first run prepares it */
        members.push_back(m);
      } else if (Member *m = find(request.context)) {
        m->removing = true;
        m->removed = request.done;
      } else if (request.done) {
        request.done->signal();
      }
    }
    for (size_t i = 0; i < members.size();) {
      Member *m = members[i];
      if (!m->removing) {
        i++;
        continue;
      }
      members.erase(members.begin() + i);
      drop(m);
    }
    return stop && members.empty();
  }

  /* Dispatches what is still ready or queued in @m, then lets it go. */
  void drop(Member *m)
  {
    {
      Running running(m->context, nullptr);
      while (g_main_context_iteration(m->context, FALSE)) {
      }
    }
    for (auto &[fd, events] : m->registered)
      unregister(m, fd);
    while (!m->direct.empty())
      unregister_direct(std::shared_ptr<DirectReader>(m->direct.back()));
    g_main_context_release(m->context);
    g_main_context_unref(m->context);
    if (m->removed)
      m->removed->signal();
    delete m;
  }

  /* Takes @reader out of the epoll set and its member (runner thread). */
  void unregister_direct(const std::shared_ptr<DirectReader> &reader)
  {
    auto *m = static_cast<Member *>(reader->member);
    if (!m)
      return;
    reader->alive = false;
    if ((size_t) reader->fd < direct_of_fd.size() && direct_of_fd[reader->fd] == reader) {
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, reader->fd, nullptr);   /* fails harmlessly if already closed */
      direct_of_fd[reader->fd] = nullptr;
    }
    m->direct.erase(std::remove(m->direct.begin(), m->direct.end(), reader), m->direct.end());
    m->direct_ready.erase(std::remove(m->direct_ready.begin(), m->direct_ready.end(), reader), m->direct_ready.end());
    reader->member = nullptr;
  }

  Member *&owner_slot(int fd)
  {
    if ((size_t) fd >= owner_of_fd.size())
      owner_of_fd.resize(fd + 64, nullptr);
    return owner_of_fd[fd];
  }

  void unregister(Member *m, int fd)
  {
    Member *&owner = owner_slot(fd);
    if (owner != m)
      return;   /* another member registered the number since (a new socket took it) */
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);   /* fails harmlessly if the file is closed */
    owner = nullptr;
  }

  /* Adds or updates @fd's registration for @m. */
  void register_fd(Member *m, int fd, guint32 events)
  {
    struct epoll_event event = {};
    event.events = events;
    event.data.fd = fd;
    Member *&owner = owner_slot(fd);
    int op = owner ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(epoll_fd, op, fd, &event);
    if (rc < 0 && errno == ENOENT)        /* the old file closed: this number is a new one */
      rc = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    else if (rc < 0 && errno == EEXIST)   /* registered under a stale owner entry */
      rc = epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event);
    if (rc < 0) {
      /* A descriptor epoll cannot watch (closed, or a regular file): poll() would report it
       * at once, so run the member at once and let its check() see that. */
      g_debug("clawvoice: network thread cannot watch fd %d: %s", fd, g_strerror(errno));
      owner = nullptr;
      m->deadline = 0;
      return;
    }
    owner = m;
  }

  /* Brings the epoll set in line with @m's descriptors from its last query(): usually the same
   * set, which costs no system call. */
  void sync_registrations(Member *m)
  {
    std::vector<std::pair<int, guint32>> &wanted = wanted_scratch;   /* (no allocation per wake-up) */
    wanted.clear();
    for (gint i = 0; i < m->n_fds; i++) {
      guint32 events = (m->fds[i].events & kPolledEvents) | EPOLLERR | EPOLLHUP;
      if (!wanted.empty() && wanted.back().first == m->fds[i].fd)
        wanted.back().second |= events;
      else
        wanted.emplace_back(m->fds[i].fd, events);
    }
    std::sort(wanted.begin(), wanted.end());
    if (wanted == m->registered) {
      bool all_owned = true;
      for (auto &[fd, events] : wanted)
        all_owned = all_owned && owner_slot(fd) == m;
      if (all_owned)
        return;
    }
    for (auto &[fd, events] : m->registered)
      if (!std::binary_search(wanted.begin(), wanted.end(), std::make_pair(fd, events),
              [](const auto &a, const auto &b) { return a.first < b.first; }))
        unregister(m, fd);
    for (auto &want : wanted) {
      auto had = std::lower_bound(m->registered.begin(), m->registered.end(), want,
          [](const auto &a, const auto &b) { return a.first < b.first; });
      bool same = had != m->registered.end() && *had == want && owner_slot(want.first) == m;
      if (!same)
        register_fd(m, want.first, want.second);
    }
    m->registered.swap(wanted);
  }

  /* One GLib iteration of @m: check and dispatch what the wait found, then prepare and query for
   * the next wait. */
  /* Fills @m's descriptors and timeout from query() (after a prepare()). */
  gint query(Member *m)
  {
    gint timeout = -1, n;
    while ((n = g_main_context_query(m->context, m->max_priority, &timeout, m->fds.data(), (gint) m->fds.size())) >
           (gint) m->fds.size())
      m->fds.resize(n);
    m->n_fds = n;
    m->prepared = true;
    return timeout;
  }

  /* Checks and dispatches what the wait found, for GLib's sources. */
  void check_and_dispatch(Member *m)
  {
    if (!g_main_context_check(m->context, m->max_priority, m->fds.data(), m->n_fds))
      return;
    g_main_context_dispatch(m->context);
    /* GLib signals a context's wake-up each time a source with descriptors is attached or
     * unblocked, which dispatching a socket's source does: without this, every dispatch would
     * wake the context again for nothing (a write, an epoll return and a whole iteration per
     * message). prepare() and query() come next and see whatever changed, so a wake-up pending
     * now, from this thread or another, has nothing left to say. */
    if (m->wakeup_fd >= 0) {
      guint64 count;
      while (read(m->wakeup_fd, &count, sizeof(count)) < 0 && errno == EINTR) {
      }
    }
  }

  /* One turn of @m: its direct readers, then (when one of its sources is due) GLib's check and
   * dispatch, then prepare and query for the next wait. */
  void run(Member *m)
  {
    gint timeout = -1;
    gint64 prepared_at = 0;
    bool prepared_for_wait = false;
    {
      Running running(m->context, m->tag);
      const bool glib_due = m->glib_due || !m->prepared;
      m->glib_due = false;
      if (!m->direct_ready.empty()) {
        std::vector<std::shared_ptr<DirectReader>> ready_now;
        ready_now.swap(m->direct_ready);
        for (const auto &reader : ready_now)
          if (reader->alive)
            reader->on_ready();
      }
      if (glib_due) {
        if (m->prepared)
          check_and_dispatch(m);
      } else {
        /* Only direct readers ran. Whatever they did to the context (a timeout attached from its
         * owner thread does not wake it) is seen by prepare() and query(); when prepare() finds a
         * source due now, it is checked and dispatched like any other turn. */
        prepared_at = g_get_monotonic_time();
        bool due = g_main_context_prepare(m->context, &m->max_priority);
        timeout = query(m);
        if (due)
          check_and_dispatch(m);
        else
          prepared_for_wait = true;
      }
      if (!prepared_for_wait) {
        prepared_at = g_get_monotonic_time();   /* query()'s timeout counts from about here */
        g_main_context_prepare(m->context, &m->max_priority);
        timeout = query(m);
      }
    }
    m->deadline = timeout < 0 ? -1 : prepared_at + (gint64) timeout * G_TIME_SPAN_MILLISECOND;
    sync_registrations(m);
  }

  void mark_ready(Member *m, int fd, guint32 events, std::vector<Member *> &ready)
  {
    for (gint i = 0; i < m->n_fds; i++)
      if (m->fds[i].fd == fd)
        m->fds[i].revents |= (gushort) (events & m->fds[i].events) | (events & (EPOLLERR | EPOLLHUP));
    m->glib_due = true;
    if (!m->ready) {
      m->ready = true;
      ready.push_back(m);
    }
  }

  /* Polls every registered descriptor: one that is ready but was not reported lost its
   * registration to a reused number, and is registered again. */
  void sweep(std::vector<Member *> &ready)
  {
    std::vector<struct pollfd> all;
    std::vector<Member *> whose;
    for (Member *m : members)
      for (auto &[fd, events] : m->registered)
        if (owner_slot(fd) == m) {
          all.push_back({fd, (short) (events & (EPOLLIN | EPOLLPRI | EPOLLOUT)), 0});
          whose.push_back(m);
        }
    if (all.empty() || poll(all.data(), all.size(), 0) <= 0)
      return;
    for (size_t i = 0; i < all.size(); i++) {
      if (!all[i].revents || whose[i]->ready)
        continue;   /* (ready members were reported: their registrations work) */
      struct epoll_event event = {};
      event.events = (guint32) all[i].events | EPOLLERR | EPOLLHUP;
      event.data.fd = all[i].fd;
      if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, all[i].fd, &event) < 0 && errno == ENOENT)
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, all[i].fd, &event);
      mark_ready(whose[i], all[i].fd, (guint32) all[i].revents, ready);
    }
  }

  void loop()
  {
    struct epoll_event events[kMaxEventsPerWait];
    std::vector<Member *> ready;
    next_sweep = g_get_monotonic_time() + kSweepIntervalUs;
    while (!take_requests()) {
      gint64 now = g_get_monotonic_time();
      gint64 wake_at = members.empty() ? -1 : next_sweep;
      for (Member *m : members)
        if (m->deadline >= 0 && (wake_at < 0 || m->deadline < wake_at))
          wake_at = m->deadline;
      int timeout_ms = wake_at < 0 ? -1 : wake_at <= now ? 0 : (int) ((wake_at - now + 999) / 1000);
      int n = epoll_wait(epoll_fd, events, kMaxEventsPerWait, timeout_ms);
      if (n < 0 && errno != EINTR)
        g_critical("clawvoice: network thread's epoll_wait failed: %s", g_strerror(errno));
      ready.clear();
      for (int i = 0; i < n; i++) {
        if (events[i].data.u64 & kDirectTag) {
          int fd = (int) (events[i].data.u64 & 0xFFFFFFFFu);
          std::shared_ptr<DirectReader> reader = (size_t) fd < direct_of_fd.size() ? direct_of_fd[fd] : nullptr;
          auto *m = reader ? static_cast<Member *>(reader->member) : nullptr;
          if (!m || !reader->alive || m->removing)
            continue;
          m->direct_ready.push_back(reader);
          if (!m->ready) {
            m->ready = true;
            ready.push_back(m);
          }
          continue;
        }
        int fd = events[i].data.fd;
        if (fd == control_fd) {
          guint64 count;
          ssize_t got = read(control_fd, &count, sizeof count);
          (void) got;
          continue;
        }
        Member *m = (size_t) fd < owner_of_fd.size() ? owner_of_fd[fd] : nullptr;
        if (m)
          mark_ready(m, fd, events[i].events, ready);
        else
          epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);   /* nobody's any more */
      }
      now = g_get_monotonic_time();
      for (Member *m : members)
        if (m->deadline >= 0 && m->deadline <= now) {
          m->glib_due = true;
          if (!m->ready) {
            m->ready = true;
            ready.push_back(m);
          }
        }
      if (now >= next_sweep) {
        sweep(ready);
        next_sweep = now + kSweepIntervalUs;
      }
      for (Member *m : ready) {
        m->ready = false;
        if (!m->removing)
          run(m);
      }
    }
  }
};

namespace {
gpointer runner_main(gpointer data)
{
  auto *held = static_cast<std::shared_ptr<ContextRunner::Core> *>(data);
  std::shared_ptr<ContextRunner::Core> core = std::move(*held);
  delete held;
  t_runner = core.get();
  core->self = core;
  core->loop();
  t_runner = nullptr;
  return nullptr;
}
}  // namespace

ContextRunner::ContextRunner(const char *name) : core_(std::make_shared<Core>())
{
  thread_ = g_thread_new(name, runner_main, new std::shared_ptr<Core>(core_));
}

ContextRunner::~ContextRunner()
{
  {
    std::lock_guard<std::mutex> guard(core_->lock);
    core_->stopping = true;
  }
  core_->signal_control();
  if (is_current_thread())
    g_thread_unref(thread_);   /* ends after the current run; the thread holds the core */
  else
    g_thread_join(thread_);
}

void ContextRunner::add(GMainContext *context, void *tag, int wakeup_fd)
{
  core_->queue({Core::Request::Kind::Add, context, tag, nullptr, wakeup_fd});
}

int ContextRunner::wakeup_fd_of_new_context(GMainContext *context)
{
  if (!g_main_context_acquire(context))
    return -1;
  gint max_priority = 0, timeout = -1;
  GPollFD fds[2];
  g_main_context_prepare(context, &max_priority);
  gint n = g_main_context_query(context, max_priority, &timeout, fds, 2);
  g_main_context_release(context);
  /* A new context polls one descriptor, its wake-up (GLib's GWakeup: a non-blocking eventfd). */
  return n == 1 ? fds[0].fd : -1;
}

void ContextRunner::remove(GMainContext *context)
{
  if (is_current_thread()) {
    if (t_running_context == context)
      t_running_tag = nullptr;
    if (Core::Member *m = core_->find(context)) {
      m->removing = true;
      m->tag = nullptr;
      core_->signal_control();   /* the next turn drops it */
    } else {
      core_->queue({Core::Request::Kind::Remove, context, nullptr, nullptr});   /* its add is still queued */
    }
    return;
  }
  auto done = std::make_shared<Done>();
  core_->queue({Core::Request::Kind::Remove, context, nullptr, done});
  done->wait();
}

std::shared_ptr<ContextRunner::DirectReader> ContextRunner::add_direct_reader(GMainContext *context, int fd,
    std::function<void()> on_ready)
{
  Core *core = t_runner;
  if (!core || t_running_context != context || fd < 0)
    return nullptr;
  Core::Member *m = core->find(context);
  if (!m || m->removing)
    return nullptr;
  auto reader = std::make_shared<DirectReader>();
  reader->core = core->self;
  reader->fd = fd;
  reader->on_ready = std::move(on_ready);
  reader->member = m;
  if ((size_t) fd >= core->direct_of_fd.size())
    core->direct_of_fd.resize(fd + 64);
  struct epoll_event event = {};
  event.events = EPOLLIN | EPOLLERR | EPOLLHUP;
  event.data.u64 = kDirectTag | (guint32) fd;
  if (epoll_ctl(core->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) {
    g_debug("clawvoice: network thread cannot read fd %d directly: %s", fd, g_strerror(errno));
    return nullptr;   /* (a stale registration of a closed file, say: the GSource way works) */
  }
  core->direct_of_fd[fd] = reader;
  m->direct.push_back(reader);
  return reader;
}

void ContextRunner::remove_direct_reader(const std::shared_ptr<DirectReader> &reader)
{
  if (!reader)
    return;
  reader->alive = false;
  std::shared_ptr<Core> core = reader->core.lock();
  if (!core)
    return;
  if (t_runner == core.get())
    core->unregister_direct(reader);
  else
    core->queue({Core::Request::Kind::RemoveDirect, nullptr, nullptr, nullptr, -1, reader});
}

void ContextRunner::run_inline(GMainContext *context, void *tag, const std::function<void()> &fn)
{
  {
    Running running(context, tag);
    fn();
  }
  g_main_context_wakeup(context);
}

bool ContextRunner::is_current_thread() const
{
  return t_runner == core_.get();
}

bool ContextRunner::on_runner_thread()
{
  return t_runner != nullptr;
}

GMainContext *ContextRunner::running_context()
{
  return t_running_context;
}

void *ContextRunner::running_tag()
{
  return t_running_tag;
}

}  // namespace clawvoice::net
