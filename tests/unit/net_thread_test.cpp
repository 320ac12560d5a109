/* The shared network threads: closures in order, batched wake-ups, the pool, and ending cleanly —
 * also when the last reference goes away on the thread itself. */
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "net/net_thread.h"

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

TEST(NetThread, ThePoolSpreadsSessionsAndItsThreadsEndWithTheirLastUser)
{
  g_setenv("CLAWVOICE_NET_THREADS", "3", TRUE);   /* read once, at the pool's first use */
  std::vector<std::shared_ptr<NetThread>> users;
  for (int i = 0; i < 6; i++)
    users.push_back(NetThread::acquire_pooled());
  std::set<NetThread *> distinct;
  for (auto &u : users)
    distinct.insert(u.get());
  EXPECT_EQ(distinct.size(), 3u) << "round-robin over the pool";
  /* (A thread takes its name once it runs.) */
  EXPECT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 3; }, 2000)) << threads_named("clawvoice-net");
  users.clear();
  EXPECT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 0; }, 2000)) << "no thread outlives its users";
}

TEST(NetThread, TheLastReferenceDroppedOnTheThreadItselfStillEndsIt)
{
  auto net = NetThread::acquire();
  ASSERT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 1; }, 2000));
  std::atomic<bool> queued_before_ran{false};
  /* A closure queued earlier still runs; the closure that holds the last reference drops it. */
  net->invoke([&]() { queued_before_ran = true; });
  auto *holder = new std::shared_ptr<NetThread>(std::move(net));
  (*holder)->invoke([holder]() { delete holder; });
  EXPECT_TRUE(wait_for([] { return threads_named("clawvoice-net") == 0; }, 2000))
      << "the thread ends once the callback that dropped it returns";
  EXPECT_TRUE(queued_before_ran.load());
}
