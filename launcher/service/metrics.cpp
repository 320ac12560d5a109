#include "metrics.h"

#include <glib.h>

#include "clawvoice-contract.h"

namespace clawvoice::launcher {

void Histogram::observe(double value)
{
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    i++;
  counts_[i]++;
  sum_ += value;
  count_++;
}

void Histogram::add_counts(const std::vector<unsigned long long> &counts, double sum)
{
  for (size_t i = 0; i < counts.size() && i < counts_.size(); i++) {
    counts_[i] += counts[i];
    count_ += counts[i];
  }
  sum_ += sum;
}

CallCounters &CallCounters::operator+=(const CallCounters &o)
{
  audio_frames_in += o.audio_frames_in;
  audio_frames_out += o.audio_frames_out;
  audio_frames_dropped += o.audio_frames_dropped;
  cost_usd += o.cost_usd;
  if (input_delay_counts.size() < o.input_delay_counts.size())
    input_delay_counts.resize(o.input_delay_counts.size(), 0);
  for (size_t i = 0; i < o.input_delay_counts.size(); i++)
    input_delay_counts[i] += o.input_delay_counts[i];
  input_delay_sum_s += o.input_delay_sum_s;
  return *this;
}

/* The bounds of realtimesink's inbound delay histogram, in seconds. */
static std::vector<double> input_delay_bounds_s()
{
  static const guint64 bounds_us[] = CLAWVOICE_INPUT_DELAY_BOUNDS_US;
  std::vector<double> bounds;
  for (guint64 us : bounds_us)
    bounds.push_back((double) us / 1e6);
  return bounds;
}

static std::string number(double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd(buf, sizeof buf, "%.6g", v);
}

void Histogram::render(const std::string &name, std::string *out) const
{
  unsigned long long cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); i++) {
    cumulative += counts_[i];
    *out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  *out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  *out += name + "_sum " + number(sum_) + "\n";
  *out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : setup_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}),
      response_({0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10})
{
}

void Metrics::call_started(const std::string &route)
{
  std::lock_guard<std::mutex> lock(lock_);
  started_[route]++;
}

void Metrics::call_refused(const std::string &route, const std::string &reason)
{
  std::lock_guard<std::mutex> lock(lock_);
  refused_[{route, reason}]++;
}

void Metrics::call_ended(const std::string &route, const std::string &state, const CallCounters &totals)
{
  std::lock_guard<std::mutex> lock(lock_);
  ended_[{route, state}]++;
  finished_ += totals;
}

void Metrics::webhook(const std::string &route, int status)
{
  std::lock_guard<std::mutex> lock(lock_);
  webhooks_[{route, status}]++;
}

void Metrics::observe_setup_seconds(double seconds)
{
  std::lock_guard<std::mutex> lock(lock_);
  setup_.observe(seconds);
}

void Metrics::observe_response_seconds(double seconds)
{
  std::lock_guard<std::mutex> lock(lock_);
  response_.observe(seconds);
}

static void header(std::string *out, const char *name, const char *type, const char *help)
{
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string Metrics::render(const std::map<std::string, int> &by_state, const CallCounters &live) const
{
  std::lock_guard<std::mutex> lock(lock_);
  std::string out;
  header(&out, "clawvoice_calls", "gauge", "Calls known to the launcher now, by state.");
  for (const char *state : {"pending", "active"}) {
    auto it = by_state.find(state);
    out += std::string("clawvoice_calls{state=\"") + state + "\"} " +
           std::to_string(it == by_state.end() ? 0 : it->second) + "\n";
  }
  header(&out, "clawvoice_calls_started_total", "counter", "Calls accepted, by route.");
  for (const auto &[route, n] : started_)
    out += "clawvoice_calls_started_total{route=\"" + route + "\"} " + std::to_string(n) + "\n";
  header(&out, "clawvoice_calls_ended_total", "counter", "Calls over, by route and final state.");
  for (const auto &[key, n] : ended_)
    out += "clawvoice_calls_ended_total{route=\"" + key.first + "\",state=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  header(&out, "clawvoice_calls_refused_total", "counter", "Calls refused, by route and reason.");
  for (const auto &[key, n] : refused_)
    out += "clawvoice_calls_refused_total{route=\"" + key.first + "\",reason=\"" + key.second + "\"} " +
           std::to_string(n) + "\n";
  header(&out, "clawvoice_webhooks_total", "counter", "Webhook requests, by route and HTTP status.");
  for (const auto &[key, n] : webhooks_)
    out += "clawvoice_webhooks_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";

  header(&out, "clawvoice_audio_frames_in_total", "counter", "Caller audio buffers streamed to the voice model.");
  out += "clawvoice_audio_frames_in_total " + std::to_string(finished_.audio_frames_in + live.audio_frames_in) + "\n";
  header(&out, "clawvoice_audio_frames_out_total", "counter", "20 ms periods of reply audio played out.");
  out += "clawvoice_audio_frames_out_total " + std::to_string(finished_.audio_frames_out + live.audio_frames_out) + "\n";
  header(&out, "clawvoice_audio_frames_dropped_total", "counter",
         "Caller audio buffers dropped because the connection to the voice model could not take them.");
  out += "clawvoice_audio_frames_dropped_total " +
         std::to_string(finished_.audio_frames_dropped + live.audio_frames_dropped) + "\n";
  header(&out, "clawvoice_cost_usd_total", "counter", "Estimated voice model cost, US dollars.");
  out += "clawvoice_cost_usd_total " + number(finished_.cost_usd + live.cost_usd) + "\n";

  header(&out, "clawvoice_call_setup_seconds", "histogram", "From the media stream's start to the pipeline playing.");
  setup_.render("clawvoice_call_setup_seconds", &out);
  header(&out, "clawvoice_response_latency_seconds", "histogram",
         "From the end of the caller's speech to the start of the reply.");
  response_.render("clawvoice_response_latency_seconds", &out);
  header(&out, "clawvoice_input_delay_seconds", "histogram",
         "From a caller's audio reaching this host to its leaving for the voice model (RTP calls).");
  Histogram input_delay(input_delay_bounds_s());
  input_delay.add_counts(finished_.input_delay_counts, finished_.input_delay_sum_s);
  input_delay.add_counts(live.input_delay_counts, live.input_delay_sum_s);
  input_delay.render("clawvoice_input_delay_seconds", &out);
  return out;
}

}  // namespace clawvoice::launcher
