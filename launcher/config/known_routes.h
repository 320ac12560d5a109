/* clawvoice — the routes (front doors) the launcher knows and the keys each takes in the config.
 *
 * Adding a route (browser, sip, …) is one entry here, its fields in RouteConfig if it needs new
 * ones, and its launch file in pipelines/. */
#pragma once

#include <vector>

namespace clawvoice::launcher {

struct RouteSpec {
  const char *name;
  const char *default_launch;   /* file name in pipelines_dir */
  bool takes_auth_token;        /* `auth_token`: signs its webhooks; required when enabled */
  bool takes_status_callback;   /* `status_callback` */
};

/* In a stable order. Every route takes `enabled`, `launch` and `properties`. */
const std::vector<RouteSpec> &known_routes();

}  // namespace clawvoice::launcher
