/* clawvoice-launcher — who may use the OpenAI routes' APIs and how often: bearer tokens (several
 * valid at once, so one can be rotated without downtime), rate limits as a token bucket per key (a
 * client address, or which bearer token was used: a burst is allowed, a steady flood is not), and a
 * lock-out after repeated failed authentications. Thread-safe; memory bounded. */
#pragma once

#include <glib.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <libsoup/soup.h>

namespace clawvoice::launcher {

class RateLimiter {
 public:
  /* @per_minute requests per key and minute (also the burst size); 0 = no limit. */
  explicit RateLimiter(guint per_minute) : per_minute_(per_minute) {}
  /* Takes one request's worth; false when the key is over its limit, with *retry_after_s (≥ 1)
   * saying when the next request will be allowed. */
  bool allow(const std::string &key, int *retry_after_s);
  /* A fixed lock-out, e.g. after repeated failed authentications. */
  void block(const std::string &key, int seconds);

 private:
  struct Bucket {
    double tokens = 0;
    gint64 updated_us = 0;
    gint64 blocked_until_us = 0;
  };
  void forget_idle(gint64 now);

  guint per_minute_;
  std::mutex lock_;
  std::map<std::string, Bucket> buckets_;
  gint64 last_sweep_us_ = 0;
};

/* Failed authentications per client address: after @limit within a minute the address is locked
 * out for @lockout_s (what the OpenClaw gateway does too). */
class AuthFailures {
 public:
  AuthFailures(guint limit, int lockout_s) : limit_(limit), lockout_s_(lockout_s) {}
  /* Counts one failure; true when the address is now locked out. */
  bool failed(const std::string &address);
  /* Seconds left of a lock-out, 0 when none. */
  int locked_for(const std::string &address);

 private:
  struct Entry {
    guint count = 0;
    gint64 window_start_us = 0;
    gint64 locked_until_us = 0;
  };
  guint limit_;
  int lockout_s_;
  std::mutex lock_;
  std::map<std::string, Entry> entries_;
};

/* Which of @tokens the request's `Authorization: Bearer …` carries (constant-time compares, every
 * token tried), or -1. Logs may name a token by this index, never by its value. */
int matching_bearer(SoupServerMessage *message, const std::vector<std::string> &tokens);

/* The address part of peer_of()'s "IP:PORT" (the port changes with every connection). */
std::string address_of_peer(const std::string &peer);

}  // namespace clawvoice::launcher
