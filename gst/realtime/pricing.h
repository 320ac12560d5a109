/* clawvoice — what a Realtime session costs, from the usage blocks of `response.done`.
 *
 * Prices are USD per million tokens and configurable (they change); the defaults are the published
 * ones for gpt-realtime and gpt-realtime-mini. */
#pragma once

#include <string>

#include "realtime/server_events.h"

namespace clawvoice::realtime {

struct Prices {
  double audio_in = 32.0;
  double audio_out = 64.0;
  double text_in = 4.0;
  double text_out = 16.0;
  double cached_in = 0.40;
};

/* Published prices for @model ("gpt-realtime-mini…" or anything else → gpt-realtime). */
Prices default_prices(const std::string &model);
double cost_usd(const Usage &usage, const Prices &prices);

}  // namespace clawvoice::realtime
