/* clawvoice — httptools' tool definitions: HTTP endpoints the voice model may call as functions.
 *
 * The definitions are a JSON array, one object per tool:
 *
 *   {"name": "find_slots",                         required; [A-Za-z0-9_-]{1,64}
 *    "description": "Find free calendar slots…",   what the model is told
 *    "parameters": {JSON schema},                  default {"type":"object","properties":{}}
 *    "url": "http://127.0.0.1:8790/calendar/find-slots",   required, http or https
 *    "method": "POST",                             POST (default), PUT, PATCH: arguments as the JSON body;
 *                                                  GET: arguments as query parameters
 *    "auth": {"bearer": "${CALENDAR_TOKEN}"}       or {"basic": "user:${PASSWORD}"}
 *    "headers": {"X-Api-Key": "${KEY}"},           extra request headers
 *    "timeout_ms": 10000}                          1 … 600000, default 10000
 *
 * `${NAME}` in auth and header values is replaced by the environment variable NAME when the
 * definitions are parsed; a missing variable is an error (a tool that would always fail to
 * authenticate is better refused at start). Secrets are never logged. */
#pragma once

#include <glib.h>

#include <string>
#include <utility>
#include <vector>

namespace clawvoice::openclawrelay {

struct HttpToolDefinition {
  std::string name;
  std::string description;
  std::string parameters_json;   /* JSON schema text */
  std::string url;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;   /* Authorization included, expanded */
  guint timeout_ms = 10000;
};

/* Parses @json; false with @error naming the tool (index and name) and the key at fault. */
bool parse_http_tools(const std::string &json, std::vector<HttpToolDefinition> *tools, std::string *error);

/* Replaces ${NAME} with the environment's NAME; false with @missing set when one is not defined. */
bool expand_env(const std::string &value, std::string *out, std::string *missing);

/* The Realtime function tools (JSON array text) for @tools. */
std::string realtime_tools_json(const std::vector<HttpToolDefinition> &tools);

}  // namespace clawvoice::openclawrelay
