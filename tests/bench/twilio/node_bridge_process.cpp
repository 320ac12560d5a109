#include "node_bridge_process.h"

#include "launcher_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace clawvoice::bench {

namespace {
const size_t kKeptLines = 40;
const char kListening[] = "listening on ";
}  // namespace

std::string node_bridge_dir()
{
  return CLAWVOICE_NODE_BRIDGE_DIR;
}

std::string node_bridge_missing()
{
  const std::string dir = node_bridge_dir();
  gchar *node = g_find_program_in_path("node");
  if (!node)
    return "`node` is not on PATH (Node.js 20 or later runs " + dir + "/bridge.mjs)";
  g_free(node);
  if (!g_file_test((dir + "/node_modules").c_str(), G_FILE_TEST_IS_DIR))
    return dir + "/node_modules is missing: install the bridge's packages first with\n"
                 "  npm ci --prefix " + dir;
  return "";
}

NodeBridgeProcess::NodeBridgeProcess(const std::string &realtime_url, const std::string &api_key)
{
  const std::string dir = node_bridge_dir();
  gchar *node = g_find_program_in_path("node");
  if (!node) {
    start_error_ = node_bridge_missing();
    return;
  }
  const std::string script = dir + "/bridge.mjs";
  const char *argv[] = {node, script.c_str(), nullptr};
  gchar **envp = g_get_environ();
  envp = g_environ_setenv(envp, "PORT", "0", TRUE);
  envp = g_environ_setenv(envp, "HOST", "127.0.0.1", TRUE);
  envp = g_environ_setenv(envp, "REALTIME_URL", realtime_url.c_str(), TRUE);
  envp = g_environ_setenv(envp, "OPENAI_API_KEY", api_key.c_str(), TRUE);
  envp = g_environ_unsetenv(envp, "PUBLIC_HOST");   /* the stream URL follows the webhook's Host */
  /* Uncompressed frames to the simulator, as the launcher sends them (PERMESSAGE_DEFLATE=1 in the
   * environment measures ws's default, compression, instead). */
  envp = g_environ_setenv(envp, "PERMESSAGE_DEFLATE", "0", FALSE);
  int out_fd = -1, err_fd = -1;
  GError *error = nullptr;
  const bool spawned = g_spawn_async_with_pipes(dir.c_str(), const_cast<gchar **>(argv), envp,
                                                G_SPAWN_DO_NOT_REAP_CHILD, nullptr, nullptr, &pid_,
                                                nullptr, &out_fd, &err_fd, &error);
  g_strfreev(envp);
  g_free(node);
  if (!spawned) {
    start_error_ = "cannot start node " + script + ": " + error->message;
    g_error_free(error);
    return;
  }
  readers_.emplace_back([this, out_fd]() { read_lines(out_fd); });
  readers_.emplace_back([this, err_fd]() { read_lines(err_fd); });

  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::seconds(20), [&]() { return port_ != 0 || readers_done_ == 2; });
  if (port_ == 0) {
    lock.unlock();
    start_error_ = "node " + script + " did not print `listening on PORT`; its output:\n" + recent_output();
  }
}

NodeBridgeProcess::~NodeBridgeProcess()
{
  stop();
  for (auto &t : readers_)
    t.join();
}

void NodeBridgeProcess::read_lines(int fd)
{
  clawvoice::test::launcher::read_lines_of(fd, [this](std::string text) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (port_ == 0 && text.rfind(kListening, 0) == 0)
        port_ = static_cast<guint>(g_ascii_strtoull(text.c_str() + sizeof kListening - 1, nullptr, 10));
      last_lines_.push_back(std::move(text));
      if (last_lines_.size() > kKeptLines)
        last_lines_.pop_front();
    }
    changed_.notify_all();
  });
  {
    std::lock_guard<std::mutex> lock(mutex_);
    readers_done_++;
  }
  changed_.notify_all();
}

std::string NodeBridgeProcess::recent_output() const
{
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto &line : last_lines_)
    out += line + "\n";
  return out;
}

std::string NodeBridgeProcess::url(const std::string &path) const
{
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void NodeBridgeProcess::stop(guint grace_ms)
{
  if (pid_ <= 0 || exited_)
    return;
  clawvoice::test::launcher::terminate_child(pid_, grace_ms);
  g_spawn_close_pid(pid_);
  exited_ = true;
}

}  // namespace clawvoice::bench
