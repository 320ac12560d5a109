/* twilio-bench — the plain Node.js bridge (node-bridge/bridge.mjs) as a child process on 127.0.0.1.
 *
 * Started with PORT=0; the port is read back from the `listening on PORT` line it prints. Its
 * output is read to the end all the time (a full pipe would block Node's synchronous stdout) and
 * the last lines are kept for error messages. Stopped by its pid: SIGTERM, then SIGKILL. */
#pragma once

#include <glib.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace clawvoice::bench {

/* The directory holding bridge.mjs (tests/bench/twilio/node-bridge in the source tree). */
std::string node_bridge_dir();

/* "" when the bridge can be started (node on PATH, node_modules installed), else what to do. */
std::string node_bridge_missing();

class NodeBridgeProcess {
 public:
  NodeBridgeProcess(const std::string &realtime_url, const std::string &api_key);
  ~NodeBridgeProcess();   /* stop() */
  NodeBridgeProcess(const NodeBridgeProcess &) = delete;
  NodeBridgeProcess &operator=(const NodeBridgeProcess &) = delete;

  bool started() const { return port_ != 0; }
  const std::string &start_error() const { return start_error_; }
  GPid pid() const { return pid_; }
  std::string url(const std::string &path) const;

  /* SIGTERM, wait up to @grace_ms, then SIGKILL. */
  void stop(guint grace_ms = 5000);

 private:
  void read_lines(int fd);
  std::string recent_output() const;

  GPid pid_ = 0;
  guint port_ = 0;
  bool exited_ = false;
  int readers_done_ = 0;
  std::string start_error_;
  std::vector<std::thread> readers_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> last_lines_;
};

}  // namespace clawvoice::bench
