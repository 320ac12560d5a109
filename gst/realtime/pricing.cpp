#include "realtime/pricing.h"

namespace clawvoice::realtime {

Prices default_prices(const std::string &model)
{
  if (model.find("mini") != std::string::npos)
    return Prices{10.0, 20.0, 0.60, 2.40, 0.30};
  return Prices{};
}

double cost_usd(const Usage &u, const Prices &p)
{
  /* Cached tokens are part of the input tokens and billed at the cached rate instead. */
  double text_in = double(u.input_text_tokens - u.input_cached_text_tokens);
  double audio_in = double(u.input_audio_tokens - u.input_cached_audio_tokens);
  double cached = double(u.input_cached_tokens);
  double total = text_in * p.text_in + audio_in * p.audio_in + cached * p.cached_in +
                 double(u.output_text_tokens) * p.text_out + double(u.output_audio_tokens) * p.audio_out;
  return total / 1e6;
}

}  // namespace clawvoice::realtime
