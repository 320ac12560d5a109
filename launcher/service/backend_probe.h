/* clawvoice-launcher — is the voice model's endpoint reachable? For GET /health.
 *
 * A TCP connect to the backend's host and port, on the network thread, at most every 15 s; /health
 * reads the last answer and never waits for the network. */
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include <gio/gio.h>

#include "net/net_thread.h"

namespace clawvoice::launcher {

class BackendProbe {
 public:
  BackendProbe(std::shared_ptr<net::NetThread> thread, std::string kind, std::string url);
  ~BackendProbe();
  /* The last result; starts a new probe in the background when the last one is stale. */
  bool reachable(std::string *detail);
  const std::string &kind() const { return kind_; }
  const std::string &url() const { return url_; }

 private:
  void probe();

  std::shared_ptr<net::NetThread> thread_;
  std::string kind_;
  std::string url_;
  std::mutex lock_;
  bool reachable_ = false;
  std::string detail_ = "not probed yet";
  gint64 last_probe_us_ = 0;
  bool probing_ = false;
  GCancellable *cancellable_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace clawvoice::launcher
