/* clawvoice — per-call placeholders in property values: `{call.id}`, `{call.caller}`,
 * `{call.route}`, `{call.param.NAME}`.
 *
 * A config value is a template; the launcher expands it for each call before setting the property.
 * Only text starting with `{call.` is a placeholder, so other braces (caps like `{ S16LE, F32LE }`,
 * JSON in instructions) pass through untouched. */
#pragma once

#include <map>
#include <string>

namespace clawvoice::launcher {

/* What a call offers to placeholders. */
struct CallInfo {
  std::string id, caller, route;
  std::map<std::string, std::string> params;   /* the route's custom parameters (Twilio <Parameter>s) */
};

/* Checks every placeholder in `value` is one of the known forms; on failure says why in *error.
 * Run at config load, so a typo fails the start, not the first call. */
bool validate_call_placeholders(const std::string &value, std::string *error);

/* `value` with its placeholders replaced; a `{call.param.X}` the call lacks becomes "". */
std::string expand_call_placeholders(const std::string &value, const CallInfo &call);

/* The same, but a missing `{call.param.X}` becomes `missing_param` (check_config's sample value). */
std::string expand_call_placeholders(const std::string &value, const CallInfo &call,
                                     const std::string &missing_param);

}  // namespace clawvoice::launcher
