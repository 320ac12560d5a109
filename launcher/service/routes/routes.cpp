/* clawvoice-launcher — the registry of front doors: one line per route. */
#include "routes/route.h"

#include "routes/browser_route.h"
#include "routes/openai_compat_route.h"
#include "routes/openai_route.h"
#include "routes/sip_route.h"
#include "routes/twilio_route.h"

namespace clawvoice::launcher {

namespace {

using Factory = std::unique_ptr<Route> (*)(const RouteContext &context);

template <typename R>
std::unique_ptr<Route> make(const RouteContext &context)
{
  return std::make_unique<R>(context);
}

/* Route name (as in the config and known_routes.cpp) → its class. */
struct RouteEntry {
  const char *name;
  Factory factory;
};

const RouteEntry kRoutes[] = {
  {"twilio", make<TwilioRoute>},
  {"sip", make<SipRoute>},
  {"openai", make<OpenAIRoute>},
  {"openai_compat", make<OpenAICompatRoute>},
  {"browser", make<BrowserRoute>},
};

}  // namespace

std::vector<std::unique_ptr<Route>> make_routes(const Config &config, CallManager &calls, Metrics &metrics,
                                                HttpServer &server, const RealtimeEndpoint &realtime,
                                                const AgentEndpoint &agent)
{
  std::vector<std::unique_ptr<Route>> routes;
  for (const RouteEntry &entry : kRoutes) {
    auto it = config.routes.find(entry.name);
    if (it == config.routes.end() || !it->second.enabled)
      continue;
    RouteContext context{config, it->second, calls, metrics, server, realtime, agent};
    routes.push_back(entry.factory(context));
    routes.back()->name_ = entry.name;
  }
  return routes;
}

}  // namespace clawvoice::launcher
