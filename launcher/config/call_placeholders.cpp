/* clawvoice — per-call placeholders in property values. */
#include "call_placeholders.h"

#include <glib.h>

namespace clawvoice::launcher {

static const std::string kOpen = "{call.";
static const std::string kParam = "param.";

static bool is_param_name(const std::string &name)
{
  if (name.empty())
    return false;
  for (char c : name) {
    if (!g_ascii_isalnum(c) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

/* Walks `value`, calling `on_placeholder(field)` for each `{call.FIELD}` (FIELD is "id", "caller",
 * "route" or "param.NAME") and `on_text(text)` for the rest. Returns false at the first malformed or
 * unknown placeholder, with the reason in *error. */
template <typename OnText, typename OnPlaceholder>
static bool walk(const std::string &value, OnText on_text, OnPlaceholder on_placeholder, std::string *error)
{
  size_t pos = 0;
  while (pos < value.size()) {
    size_t open = value.find(kOpen, pos);
    if (open == std::string::npos) {
      on_text(value.substr(pos));
      break;
    }
    on_text(value.substr(pos, open - pos));
    size_t close = value.find('}', open);
    if (close == std::string::npos) {
      *error = "placeholder '" + value.substr(open) + "' has no closing '}'";
      return false;
    }
    std::string field = value.substr(open + kOpen.size(), close - open - kOpen.size());
    bool known = field == "id" || field == "caller" || field == "route" ||
                 (field.compare(0, kParam.size(), kParam) == 0 && is_param_name(field.substr(kParam.size())));
    if (!known) {
      *error = "unknown placeholder '{call." + field +
               "}' (known: {call.id}, {call.caller}, {call.route}, {call.param.NAME})";
      return false;
    }
    on_placeholder(field);
    pos = close + 1;
  }
  return true;
}

bool validate_call_placeholders(const std::string &value, std::string *error)
{
  return walk(value, [](const std::string &) {}, [](const std::string &) {}, error);
}

std::string expand_call_placeholders(const std::string &value, const CallInfo &call,
                                     const std::string &missing_param)
{
  std::string out, error;
  bool ok = walk(value, [&](const std::string &text) { out += text; },
                 [&](const std::string &field) {
                   if (field == "id") {
                     out += call.id;
                   } else if (field == "caller") {
                     out += call.caller;
                   } else if (field == "route") {
                     out += call.route;
                   } else {
                     auto it = call.params.find(field.substr(kParam.size()));
                     out += it != call.params.end() ? it->second : missing_param;
                   }
                 },
                 &error);
  /* Values were validated at load; one that was not (a caller of this API passing raw text) is
   * left as written rather than half-expanded. */
  return ok ? out : value;
}

std::string expand_call_placeholders(const std::string &value, const CallInfo &call)
{
  return expand_call_placeholders(value, call, "");
}

}  // namespace clawvoice::launcher
