#include "resample.h"

#include <algorithm>
#include <cmath>

namespace clawvoice::sim {

/* Windowed-sinc (Blackman) low-pass FIR with cutoff @cutoff as a fraction of the sample rate. */
static std::vector<double> lowpass_taps(double cutoff, int taps)
{
  std::vector<double> h(taps);
  const int mid = taps / 2;
  double sum = 0.0;
  for (int i = 0; i < taps; i++) {
    int n = i - mid;
    double sinc = n == 0 ? 2.0 * cutoff : std::sin(2.0 * M_PI * cutoff * n) / (M_PI * n);
    double window = 0.42 - 0.5 * std::cos(2.0 * M_PI * i / (taps - 1)) +
                    0.08 * std::cos(4.0 * M_PI * i / (taps - 1));
    h[i] = sinc * window;
    sum += h[i];
  }
  for (double &v : h)
    v /= sum;
  return h;
}

static std::vector<double> filter(const std::vector<int16_t> &in, const std::vector<double> &h)
{
  const int taps = (int) h.size();
  const int mid = taps / 2;
  const int n = (int) in.size();
  std::vector<double> out(n);
  for (int i = 0; i < n; i++) {
    double acc = 0.0;
    int k0 = std::max(0, i + mid - (n - 1));
    int k1 = std::min(taps - 1, i + mid);
    for (int k = k0; k <= k1; k++)
      acc += h[k] * in[i + mid - k];
    out[i] = acc;
  }
  return out;
}

static int16_t clamp16(double v)
{
  return (int16_t) std::lround(std::clamp(v, -32768.0, 32767.0));
}

std::vector<int16_t> resample(const std::vector<int16_t> &in, int in_rate, int out_rate)
{
  if (in.empty() || in_rate == out_rate)
    return in;
  std::vector<double> src;
  if (out_rate < in_rate) {
    /* Cut at 90 % of the new Nyquist frequency. */
    src = filter(in, lowpass_taps(0.45 * out_rate / in_rate, 63));
  } else {
    src.assign(in.begin(), in.end());
  }
  const size_t out_len = (size_t) ((double) in.size() * out_rate / in_rate);
  std::vector<int16_t> out(out_len);
  const double step = (double) in_rate / out_rate;
  for (size_t i = 0; i < out_len; i++) {
    double pos = i * step;
    size_t k = (size_t) pos;
    double frac = pos - k;
    double a = src[std::min(k, src.size() - 1)];
    double b = src[std::min(k + 1, src.size() - 1)];
    out[i] = clamp16(a + (b - a) * frac);
  }
  return out;
}

}  // namespace clawvoice::sim
