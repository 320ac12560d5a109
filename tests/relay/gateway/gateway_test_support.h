/* clawvoice tests — what a chat() call saw, collected from the network thread, with bounded waits.
 * Shared by the gateway client tests and the benchmark. */
#pragma once

#include <glib.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "openclaw/gateway_client.h"

namespace clawvoice::test {

class ChatOutcome : public std::enable_shared_from_this<ChatOutcome> {
 public:
  static std::shared_ptr<ChatOutcome> create() { return std::shared_ptr<ChatOutcome>(new ChatOutcome()); }

  /* Callbacks that record into this outcome (they keep it alive). */
  openclaw::ChatCallbacks callbacks()
  {
    auto self = shared_from_this();
    openclaw::ChatCallbacks cb;
    cb.on_request_sent = [self] {
      std::lock_guard<std::mutex> guard(self->lock_);
      self->sent_us = g_get_monotonic_time();
      self->order.push_back("sent");
      self->note_after_end();
    };
    cb.on_delta = [self](const std::string &delta) {
      std::lock_guard<std::mutex> guard(self->lock_);
      self->deltas.push_back(delta);
      self->order.push_back("delta");
      self->note_after_end();
    };
    cb.on_done = [self](const std::string &text) {
      std::lock_guard<std::mutex> guard(self->lock_);
      self->done_us = g_get_monotonic_time();
      self->note_after_end();
      self->ended = true;
      self->done = true;
      self->text = text;
      self->order.push_back("done");
      self->cv_.notify_all();
    };
    cb.on_error = [self](const openclaw::GatewayError &error) {
      std::lock_guard<std::mutex> guard(self->lock_);
      self->note_after_end();
      self->ended = true;
      self->error = error;
      self->order.push_back("error");
      self->cv_.notify_all();
    };
    return cb;
  }

  /* Waits for on_done or on_error; false on timeout. */
  bool wait_end(int timeout_ms = 5000)
  {
    std::unique_lock<std::mutex> guard(lock_);
    return cv_.wait_for(guard, std::chrono::milliseconds(timeout_ms), [this] { return ended; });
  }

  /* Copies, under the lock. */
  std::vector<std::string> deltas_seen() const { std::lock_guard<std::mutex> g(lock_); return deltas; }
  std::vector<std::string> order_seen() const { std::lock_guard<std::mutex> g(lock_); return order; }
  size_t callbacks_seen() const { std::lock_guard<std::mutex> g(lock_); return order.size(); }
  bool has_ended() const { std::lock_guard<std::mutex> g(lock_); return ended; }

  /* Written on the network thread; read after wait_end() returned true. */
  bool ended = false;
  bool done = false;
  std::string text;
  std::optional<openclaw::GatewayError> error;
  gint64 sent_us = 0;
  gint64 done_us = 0;
  int after_end = 0;   /* callbacks that came after on_done/on_error (must stay 0) */

 private:
  ChatOutcome() = default;
  void note_after_end() { if (ended) after_end++; }

  mutable std::mutex lock_;
  std::condition_variable cv_;
  std::vector<std::string> deltas;
  std::vector<std::string> order;
};

/* Polls @predicate every 5 ms for up to @timeout_ms. */
template <typename Predicate>
bool eventually(Predicate predicate, int timeout_ms = 3000)
{
  gint64 end = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (!predicate()) {
    if (g_get_monotonic_time() > end)
      return false;
    g_usleep(5000);
  }
  return true;
}

}  // namespace clawvoice::test
