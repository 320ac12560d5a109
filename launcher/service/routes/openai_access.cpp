#include "routes/openai_access.h"

#include "http_server.h"

#include <cmath>

namespace clawvoice::launcher {

static constexpr gint64 kIdleForgetUs = 10 * 60 * G_USEC_PER_SEC;

bool RateLimiter::allow(const std::string &key, int *retry_after_s)
{
  if (per_minute_ == 0)
    return true;
  const gint64 now = g_get_monotonic_time();
  const double rate_per_us = per_minute_ / (60.0 * G_USEC_PER_SEC);
  std::lock_guard<std::mutex> guard(lock_);
  forget_idle(now);
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket &b = it->second;
  if (fresh) {
    b.tokens = per_minute_;
    b.updated_us = now;
  }
  if (b.blocked_until_us > now) {
    *retry_after_s = (int) std::ceil((b.blocked_until_us - now) / (double) G_USEC_PER_SEC);
    return false;
  }
  b.tokens = std::min<double>(per_minute_, b.tokens + (now - b.updated_us) * rate_per_us);
  b.updated_us = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  *retry_after_s = std::max(1, (int) std::ceil((1.0 - b.tokens) / rate_per_us / G_USEC_PER_SEC));
  return false;
}

void RateLimiter::block(const std::string &key, int seconds)
{
  std::lock_guard<std::mutex> guard(lock_);
  Bucket &b = buckets_[key];
  b.updated_us = g_get_monotonic_time();
  b.blocked_until_us = b.updated_us + (gint64) seconds * G_USEC_PER_SEC;
}

void RateLimiter::forget_idle(gint64 now)
{
  if (now - last_sweep_us_ < G_USEC_PER_SEC * 60)
    return;
  last_sweep_us_ = now;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (now - it->second.updated_us > kIdleForgetUs && it->second.blocked_until_us < now)
      it = buckets_.erase(it);
    else
      ++it;
  }
}

bool AuthFailures::failed(const std::string &address)
{
  const gint64 now = g_get_monotonic_time();
  std::lock_guard<std::mutex> guard(lock_);
  if (entries_.size() > 10000)
    entries_.clear();   /* a flood from many addresses: start over rather than grow */
  Entry &e = entries_[address];
  if (now - e.window_start_us > 60 * G_USEC_PER_SEC) {
    e.window_start_us = now;
    e.count = 0;
  }
  if (++e.count >= limit_)
    e.locked_until_us = now + (gint64) lockout_s_ * G_USEC_PER_SEC;
  return e.locked_until_us > now;
}

int AuthFailures::locked_for(const std::string &address)
{
  const gint64 now = g_get_monotonic_time();
  std::lock_guard<std::mutex> guard(lock_);
  auto it = entries_.find(address);
  if (it == entries_.end() || it->second.locked_until_us <= now)
    return 0;
  return (int) std::ceil((it->second.locked_until_us - now) / (double) G_USEC_PER_SEC);
}

int matching_bearer(SoupServerMessage *message, const std::vector<std::string> &tokens)
{
  int found = -1;
  for (size_t i = 0; i < tokens.size(); i++)
    if (has_bearer(message, tokens[i]) && found < 0)
      found = (int) i;
  return found;
}

std::string address_of_peer(const std::string &peer)
{
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

}  // namespace clawvoice::launcher
