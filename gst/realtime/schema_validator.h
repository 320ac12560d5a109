/* clawvoice — validation of Realtime API events against OpenAI's own OpenAPI component schemas.
 *
 * The schemas (gst/realtime/schema/openai-realtime-openapi.json, embedded as a GResource) are the
 * authority. Like the real service, every object is treated as CLOSED: a member that the schema does
 * not list is an error (`unknown_parameter`), even where the schema itself does not say
 * `additionalProperties: false`. Errors carry the same code / message / param shapes the real
 * service sends, so the simulator can answer with them verbatim and tests can assert on them. */
#pragma once

#include <json-glib/json-glib.h>

#include <optional>
#include <string>

namespace clawvoice::realtime {

struct SchemaError {
  std::string code;     /* unknown_parameter | missing_required_parameter | invalid_type |
                           invalid_value | invalid_event | ... */
  std::string message;  /* e.g. "Unknown parameter: 'session.tools[0].meta'." */
  std::string param;    /* dotted path, e.g. "session.tools[0].meta"; empty at the top level */
};

class SchemaValidator {
 public:
  /* The process-wide validator over the embedded schemas (loaded once, thread-safe, read-only). */
  static const SchemaValidator &instance();

  /* A client event (RealtimeClientEvent, chosen by its `type`). An unknown or missing `type` is an
   * error with code `invalid_value` / `missing_required_parameter` and param "type". */
  std::optional<SchemaError> validate_client_event(JsonObject *event) const;
  /* A server event (RealtimeServerEvent, chosen by its `type`): lets tests check the simulator. */
  std::optional<SchemaError> validate_server_event(JsonObject *event) const;
  /* Any named component schema, e.g. "RealtimeSessionCreateRequestGA". */
  std::optional<SchemaError> validate(const std::string &schema_name, JsonNode *value) const;

  ~SchemaValidator();
  SchemaValidator(const SchemaValidator &) = delete;
  SchemaValidator &operator=(const SchemaValidator &) = delete;

 private:
  SchemaValidator();
  struct Impl;
  Impl *impl_;
};

}  // namespace clawvoice::realtime
