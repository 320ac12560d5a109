/* The shared network threads: closures in order, batched wake-ups, the pool, and ending cleanly —
 * also when the last reference goes away on the thread itself. */
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gio/gio.h>
#include <sys/socket.h>

#include "net/net_thread.h"
#include "net/context_runner.h"

using clawvoice::net::NetThread;

namespace {

/* Names of this process's threads that start with @prefix. */
size_t threads_named(const std::string &prefix)
{
  size_t n = 0;
  GDir *dir = g_dir_open("/proc/self/task", 0, nullptr);
  if (!dir)
    return 0;
  while (const gchar *task = g_dir_read_name(dir)) {
    gchar *comm = nullptr;
    g_autofree gchar *path = g_strdup_printf("/proc/self/task/%s/comm", task);
    if (g_file_get_contents(path, &comm, nullptr, nullptr)) {
      n += g_str_has_prefix(comm, prefix.c_str());
      g_free(comm);
    }
  }
  g_dir_close(dir);
  return n;
}

bool wait_for(const std::function<bool()> &predicate, int timeout_ms)
{
  for (int waited = 0; waited < timeout_ms; waited += 5) {
    if (predicate())
      return true;
    g_usleep(5000);
  }
  return predicate();
}

}  // namespace

TEST(NetThread, ClosuresFromManyThreadsRunInOrderPerThreadAndAllOfThem)
{
  auto net = NetThread::acquire();
  std::mutex lock;
  std::vector<std::vector<int>> seen(4);
  std::atomic<int> ran{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; t++) {
    producers.emplace_back([&, t]() {
      for (int i = 0; i < 2000; i++) {
        net->invoke([&, t, i]() {
          EXPECT_TRUE(net->is_current());
          std::lock_guard<std::mutex> guard(lock);
          seen[t].push_back(i);
          ran++;
        });
      }
    });
  }
  for (auto &p : producers)
    p.join();
  ASSERT_TRUE(wait_for([&] { return ran.load() == 8000; }, 5000)) << ran.load();
  for (int t = 0; t < 4; t++) {
    ASSERT_EQ(seen[t].size(), 2000u);
    for (int i = 0; i < 2000; i++)
      ASSERT_EQ(seen[t][i], i) << "in the order each thread queued them";
  }
  /* A closure queued from the thread itself runs later, not inline. */
  std::atomic<int> order{0}, inner_at{-1}, after_at{-1};
  net->invoke_sync([&]() {
    net->invoke([&]() { inner_at = order++; });
    after_at = order++;
  });
  ASSERT_TRUE(wait_for([&] { return inner_at.load() >= 0; }, 2000));
  EXPECT_LT(after_at.load(), inner_at.load());
}

/* The pool thread @net's context runs on, and whether it ran as the thread-default there. */
GThread *thread_of(const std::shared_ptr<NetThread> &net, bool *was_default = nullptr)
{
  GThread *thread = nullptr;
  net->invoke_sync([&]() {
    thread = g_thread_self();
    if (was_default)
      *was_default = net->is_current() && g_main_context_get_thread_default() == net->context();
  });
  return thread;
}

TEST(NetThread, ThePoolSpreadsContextsOverItsThreadsAndTheyEndWithTheirLastUser)
{
  g_setenv("CLAWVOICE_NET_THREADS", "3", TRUE);   /* read once, at the pool's first use */
  std::vector<std::shared_ptr<NetThread>> users;
  for (int i = 0; i < 6; i++)
    users.push_back(NetThread::acquire_pooled());
  std::set<NetThread *> distinct;
  std::set<GMainContext *> contexts;
  std::set<GThread *> threads;
  for (auto &u : users) {
    distinct.insert(u.get());
    contexts.insert(u->context());
    bool was_default = false;
    threads.insert(thread_of(u, &was_default));
    EXPECT_TRUE(was_default) << "each runs with its own context as the thread-default";
    EXPECT_FALSE(u->is_current()) << "not from this thread";
  }
  EXPECT_EQ(distinct.size(), 6u) << "a context per user";
  EXPECT_EQ(contexts.size(), 6u);
  EXPECT_EQ(threads.size(), 3u) << "round-robin over the pool's threads";
  /* Each pool thread has its own phase of the 20 ms period, spread evenly, the same for all its
   * contexts (realtimesink puts its periods there); the process-wide thread has none. */
  std::map<GThread *, std::set<double>> phases;
  for (auto &u : users) {
    bool unused = false;
    phases[thread_of(u, &unused)].insert(u->period_phase());
  }
  std::set<double> all;
  for (auto &[thread, set] : phases) {
    EXPECT_EQ(set.size(), 1u) << "one phase per thread";
    all.insert(*set.begin());
  }
  EXPECT_EQ(all, (std::set<double>{0.0, 1.0 / 3, 2.0 / 3}));
  EXPECT_EQ(NetThread::acquire()->period_phase(), 0.0);
  /* (A thread takes its name once it runs.) */
  EXPECT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 3; }, 2000)) << threads_named("clawvoice-net");
  /* Asked for from inside a pooled context, it is that context. */
  std::shared_ptr<NetThread> inside;
  users[0]->invoke_sync([&]() { inside = NetThread::acquire_pooled(); });
  EXPECT_EQ(inside.get(), users[0].get());
  inside.reset();
  users.clear();
  EXPECT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 0; }, 2000)) << "no thread outlives its users";
}

namespace {
/* A socket pair whose first end is watched for input by a GSource in @net's context. */
struct WatchedPair {
  GSocket *watched = nullptr;
  GSocket *peer = nullptr;
  GSource *source = nullptr;
  std::atomic<int> woke{0};
  std::atomic<bool> woke_in_its_context{true};

  void watch(const std::shared_ptr<NetThread> &net)
  {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    watched = g_socket_new_from_fd(fds[0], nullptr);
    peer = g_socket_new_from_fd(fds[1], nullptr);
    g_socket_set_blocking(watched, FALSE);
    source = g_socket_create_source(watched, G_IO_IN, nullptr);
    g_source_set_callback(source, (GSourceFunc) (void (*)(void)) (+[](GSocket *socket, GIOCondition, gpointer data) -> gboolean {
          auto *self = static_cast<WatchedPair *>(data);
          char buffer[64];
          g_socket_receive(socket, buffer, sizeof buffer, nullptr, nullptr);
          if (g_main_current_source() != self->source)
            self->woke_in_its_context = false;
          self->woke++;
          return G_SOURCE_CONTINUE;
        }),
        this, nullptr);
    g_source_attach(source, g_main_context_get_thread_default());
  }
  void unwatch()
  {
    g_source_destroy(source);
    g_source_unref(source);
    g_object_unref(watched);
    g_object_unref(peer);
  }
  void poke() { ASSERT_EQ(g_socket_send(peer, "x", 1, nullptr, nullptr), 1); }
};
}  // namespace

TEST(NetThread, AReadySocketRunsItsOwnContextOnlyAndTimersFireOnTime)
{
  constexpr int kContexts = 40;
  std::vector<std::shared_ptr<NetThread>> nets;
  std::vector<std::unique_ptr<WatchedPair>> pairs;
  for (int i = 0; i < kContexts; i++) {
    nets.push_back(NetThread::acquire_pooled());
    pairs.push_back(std::make_unique<WatchedPair>());
    nets[i]->invoke_sync([&]() { pairs[i]->watch(nets[i]); });
  }
  for (int round = 0; round < 3; round++) {
    const int k = (round * 17 + 5) % kContexts;
    pairs[k]->poke();
    ASSERT_TRUE(wait_for([&] { return pairs[k]->woke.load() == 1; }, 1000)) << "context " << k;
    g_usleep(20 * 1000);
    int others = 0;
    for (int i = 0; i < kContexts; i++)
      others += i == k ? 0 : pairs[i]->woke.load();
    EXPECT_EQ(others, 0) << "only the context whose socket is ready dispatches";
    EXPECT_TRUE(pairs[k]->woke_in_its_context.load());
    pairs[k]->woke = 0;
  }
  /* A timer of one context, among the others' idle sockets, fires when it is due. */
  std::atomic<gint64> fired_at{0};
  const gint64 armed_at = g_get_monotonic_time();
  nets[7]->add_timer(50, [&]() { fired_at = g_get_monotonic_time(); });
  ASSERT_TRUE(wait_for([&] { return fired_at.load() != 0; }, 2000));
  const gint64 late_ms = (fired_at.load() - armed_at) / 1000 - 50;
  EXPECT_GE(late_ms, 0);
  EXPECT_LT(late_ms, 15) << "a timer is not held up by the sweep or by other contexts";
  for (int i = 0; i < kContexts; i++)
    nets[i]->invoke_sync([&]() { pairs[i]->unwatch(); });
}

TEST(NetThread, ADescriptorNumberReusedWithinOneRunStillWakesItsContext)
{
  auto net = NetThread::acquire_pooled();
  WatchedPair first, second;
  net->invoke_sync([&]() { first.watch(net); });
  first.poke();
  ASSERT_TRUE(wait_for([&] { return first.woke.load() == 1; }, 1000)) << "registered and working";
  /* In one run: the socket goes, and a new one takes its number, with a source of its own. The
   * epoll registration of the old file went with it; the set of numbers did not change. */
  int old_fd = -1, new_fd = -1;
  net->invoke_sync([&]() {
    old_fd = g_socket_get_fd(first.watched);
    first.unwatch();
    second.watch(net);
    new_fd = g_socket_get_fd(second.watched);
  });
  ASSERT_EQ(new_fd, old_fd) << "the case under test: the kernel gave the new socket the same number";
  second.poke();
  EXPECT_TRUE(wait_for([&] { return second.woke.load() == 1; }, 1000)) << "the new socket is still watched";
  net->invoke_sync([&]() { second.unwatch(); });
}

TEST(NetThread, InvokeSyncIntoAnotherContextOfTheSamePoolThreadRunsInlineThere)
{
  /* Contexts until two share a pool thread (round-robin: at most the pool's size + 1). */
  std::vector<std::shared_ptr<NetThread>> nets;
  std::shared_ptr<NetThread> a, b;
  std::vector<GThread *> threads;
  while (!b && nets.size() <= NetThread::kMaxPooledThreads + 1) {
    nets.push_back(NetThread::acquire_pooled());
    threads.push_back(thread_of(nets.back()));
    for (size_t i = 0; i + 1 < nets.size(); i++)
      if (threads[i] == threads.back()) {
        a = nets[i];
        b = nets.back();
      }
  }
  ASSERT_TRUE(a && b);
  bool b_current = false, b_default = false, a_current_after = false;
  a->invoke_sync([&]() {
    b->invoke_sync([&]() {
      b_current = b->is_current() && !a->is_current();
      b_default = g_main_context_get_thread_default() == b->context();
    });
    a_current_after = a->is_current() && g_main_context_get_thread_default() == a->context();
  });
  EXPECT_TRUE(b_current) << "it runs as the other context, not waiting on its own thread";
  EXPECT_TRUE(b_default);
  EXPECT_TRUE(a_current_after) << "and the first one is current again afterwards";
  /* A timer attached that way still wakes its context (GLib would not signal its owner). */
  std::atomic<bool> fired{false};
  a->invoke_sync([&]() { b->add_timer(10, [&]() { fired = true; }); });
  EXPECT_TRUE(wait_for([&] { return fired.load(); }, 150)) << "without waiting for the sweep";
}

/* Drops @net's last reference in a closure on its own thread, queued after another closure: both
 * run, and the thread ends once the closure returns. */
void drop_the_last_reference_on_its_own_thread(std::shared_ptr<NetThread> net)
{
  ASSERT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 1; }, 2000));
  std::atomic<bool> queued_before_ran{false};
  net->invoke([&]() { queued_before_ran = true; });
  auto *holder = new std::shared_ptr<NetThread>(std::move(net));
  (*holder)->invoke([holder]() { delete holder; });
  EXPECT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 0; }, 2000))
      << "the thread ends once the callback that dropped it returns";
  EXPECT_TRUE(queued_before_ran.load());
}

TEST(NetThread, TheLastPooledReferenceDroppedOnItsOwnThreadEndsIt)
{
  ASSERT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 0; }, 2000));
  drop_the_last_reference_on_its_own_thread(NetThread::acquire_pooled());
}

TEST(NetThread, TheLastReferenceDroppedOnTheThreadItselfStillEndsIt)
{
  drop_the_last_reference_on_its_own_thread(NetThread::acquire());
}

namespace {
/* Counts the iterations of the context it is attached to: GLib prepares every source once each. */
struct IterationCounter {
  GSource source;
  std::atomic<int> *count;
};
GSourceFuncs iteration_counter_funcs = {
    [](GSource *source, gint *timeout) -> gboolean {
      reinterpret_cast<IterationCounter *>(source)->count->fetch_add(1);
      *timeout = -1;
      return FALSE;
    },
    nullptr, [](GSource *, GSourceFunc, gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr, nullptr, nullptr};
}  // namespace

TEST(NetThread, ADispatchDoesNotWakeItsOwnContextAgainAndWakeUpsFromOtherThreadsStillCount)
{
  std::shared_ptr<NetThread> net = NetThread::acquire_pooled();
  WatchedPair pair;
  std::atomic<int> iterations{0};
  GSource *counter = g_source_new(&iteration_counter_funcs, sizeof(IterationCounter));
  reinterpret_cast<IterationCounter *>(counter)->count = &iterations;
  net->invoke_sync([&]() {
    pair.watch(net);
    g_source_attach(counter, g_main_context_get_thread_default());
  });
  /* GLib signals a context's wake-up each time a source with a descriptor is unblocked after its
   * dispatch; the network thread clears that, so one ready socket is one iteration, not two. */
  constexpr int kPokes = 40;
  const int before = iterations.load();
  for (int i = 0; i < kPokes; i++) {
    pair.poke();
    ASSERT_TRUE(wait_for([&] { return pair.woke.load() == i + 1; }, 1000)) << "poke " << i;
    g_usleep(2000);
  }
  const int per_poke_x10 = (iterations.load() - before) * 10 / kPokes;
  EXPECT_LE(per_poke_x10, 13) << "iterations per ready socket (x10): a dispatch woke its own context again";

  /* Sources attached from other threads while the context dispatches are never missed. */
  std::atomic<int> fired{0};
  std::atomic<bool> poking{true};
  std::thread poker([&]() {
    while (poking.load()) {
      pair.poke();
      g_usleep(200);
    }
  });
  constexpr int kAttached = 300;
  for (int i = 0; i < kAttached; i++) {
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, [](gpointer data) -> gboolean {
          static_cast<std::atomic<int> *>(data)->fetch_add(1);
          return G_SOURCE_REMOVE;
        }, &fired, nullptr);
    g_source_attach(idle, net->context());
    g_source_unref(idle);
    if (i % 10 == 0)
      g_usleep(300);
  }
  EXPECT_TRUE(wait_for([&] { return fired.load() == kAttached; }, 2000)) << fired.load() << " of " << kAttached;
  poking = false;
  poker.join();
  net->invoke_sync([&]() {
    g_source_destroy(counter);
    g_source_unref(counter);
    pair.unwatch();
  });
}

/* A check that counts GLib's check phase (a source's check() runs in every g_main_context_check()). */
namespace {
struct CheckCounter {
  GSource source;
  std::atomic<int> *count;
};
GSourceFuncs check_counter_funcs = {
    [](GSource *, gint *timeout) -> gboolean {
      *timeout = -1;
      return FALSE;
    },
    [](GSource *source) -> gboolean {
      reinterpret_cast<CheckCounter *>(source)->count->fetch_add(1);
      return FALSE;
    },
    [](GSource *, GSourceFunc, gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr, nullptr, nullptr};
}  // namespace

/* A direct reader is called in its context (the thread-default, is_current()) without GLib's check
 * and dispatch; a timeout it attaches from there (which does not wake the context) still fires on
 * time; removed from another thread, it is called no more. */
TEST(NetThread, ADirectReaderRunsOutsideGLibsDispatchAndWhatItAttachesStillRuns)
{
  using clawvoice::net::ContextRunner;
  std::shared_ptr<NetThread> net = NetThread::acquire_pooled();
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
  std::atomic<int> reads{0}, checks{0}, timer_fired{0};
  std::atomic<bool> in_its_context{true};
  std::atomic<gint64> timer_due{0}, timer_late_us{0};
  std::shared_ptr<ContextRunner::DirectReader> reader;
  GSource *counter = g_source_new(&check_counter_funcs, sizeof(CheckCounter));
  reinterpret_cast<CheckCounter *>(counter)->count = &checks;
  net->invoke_sync([&]() {
    g_source_attach(counter, g_main_context_get_thread_default());
    reader = ContextRunner::add_direct_reader(net->context(), fds[0], [&]() {
      char buffer[64];
      while (read(fds[0], buffer, sizeof buffer) > 0) {
      }
      if (!net->is_current() || g_main_context_get_thread_default() != net->context())
        in_its_context = false;
      if (reads.fetch_add(1) == 20) {
        /* From the owner thread GLib does not wake the context for this: the runner must see it. */
        timer_due = g_get_monotonic_time() + 50 * 1000;
        GSource *timer = g_timeout_source_new(50);
        g_source_set_callback(timer, [](gpointer data) -> gboolean {
              auto *late = static_cast<std::atomic<gint64> *>(data);
              late->store(g_get_monotonic_time());
              return G_SOURCE_REMOVE;
            }, &timer_late_us, nullptr);
        g_source_attach(timer, g_main_context_get_thread_default());
        g_source_unref(timer);
      }
    });
  });
  ASSERT_TRUE(reader) << "a pooled context takes direct readers";

  const int checks_before = checks.load();
  constexpr int kPokes = 40;
  for (int i = 0; i < kPokes; i++) {
    ASSERT_EQ(write(fds[1], "x", 1), 1);
    ASSERT_TRUE(wait_for([&] { return reads.load() == i + 1; }, 1000)) << "poke " << i;
    g_usleep(1000);
  }
  EXPECT_TRUE(in_its_context.load());
  EXPECT_LE(checks.load() - checks_before, kPokes / 4) << "GLib's check ran for direct reads";
  ASSERT_TRUE(wait_for([&] { return timer_late_us.load() != 0; }, 1000)) << "the timer attached by the reader fired";
  EXPECT_LT(timer_late_us.load() - timer_due.load(), 20 * 1000) << "and on time, not at the next unrelated wake-up";

  /* Removed from this (another) thread: no call after that. */
  ContextRunner::remove_direct_reader(reader);
  const int reads_after_removal = reads.load();
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  net->invoke_sync([]() {});   /* a turn of the thread: the removal is done */
  g_usleep(20000);
  EXPECT_EQ(reads.load(), reads_after_removal);
  net->invoke_sync([&]() {
    g_source_destroy(counter);
    g_source_unref(counter);
  });
  close(fds[0]);
  close(fds[1]);
}

/* Outside a pool thread's turn of the context there is no direct reading: the caller uses a GSource. */
TEST(NetThread, DirectReadersAreOnlyForThePoolThreadRunningTheContext)
{
  using clawvoice::net::ContextRunner;
  std::shared_ptr<NetThread> pooled = NetThread::acquire_pooled();
  std::shared_ptr<NetThread> shared = NetThread::acquire();
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  EXPECT_FALSE(ContextRunner::add_direct_reader(pooled->context(), fds[0], []() {})) << "from another thread";
  bool taken = true;
  shared->invoke_sync([&]() { taken = bool(ContextRunner::add_direct_reader(shared->context(), fds[0], []() {})); });
  EXPECT_FALSE(taken) << "on a plain GMainLoop thread";
  close(fds[0]);
  close(fds[1]);
}
