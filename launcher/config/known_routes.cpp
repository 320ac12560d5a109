/* clawvoice — the routes the launcher knows. */
#include "known_routes.h"

#include <string>

#include "config.h"

namespace clawvoice::launcher {

const std::vector<RouteSpec> &known_routes()
{
  static const std::vector<RouteSpec> routes = {
    /* Twilio Media Streams: POST /voice (signed webhook), WS /voice/stream, POST /status. */
    {"twilio", "twilio.launch", true, true},
  };
  return routes;
}

std::vector<std::string> known_route_names()
{
  std::vector<std::string> names;
  for (const RouteSpec &spec : known_routes())
    names.push_back(spec.name);
  return names;
}

}  // namespace clawvoice::launcher
