/* clawvoice — a strict parser for JSON with comments, keeping where every value sits.
 *
 * Strict RFC 8259 JSON (double-quoted strings and keys, no trailing commas, no leading zeros, one
 * document, valid UTF-8) plus `//` line and `/ * * /` block comments outside strings, read as
 * whitespace. Duplicate keys are errors. json-glib's own parser is not used because it accepts what
 * a config file must not (single quotes, hex numbers, duplicate keys, integers that wrap on
 * overflow, text after the document) and keeps no positions for the config errors to point at. */
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace clawvoice::launcher {

struct JsoncMember;

struct JsoncValue {
  enum class Kind { Null, Bool, Number, String, Object, Array };
  Kind kind = Kind::Null;
  int line = 0;                      /* where the value starts, 1-based */
  int column = 0;
  bool boolean = false;
  std::string text;                  /* String: decoded; Number: as written */
  std::vector<JsoncMember> members;  /* Object, in file order */
  std::vector<JsoncValue> items;     /* Array */

  const JsoncValue *find(const std::string &key) const;   /* nullptr when absent */
};

struct JsoncMember {
  std::string key;
  int line = 0;                      /* where the key is */
  JsoncValue value;
};

/* "a string", "an object", … for messages. */
const char *jsonc_kind_name(JsoncValue::Kind kind);

struct JsoncSyntaxError {
  int line = 0;
  int column = 0;
  std::string message;
};

/* Parses `text`; on failure returns nullopt with the first error in *error. */
std::optional<JsoncValue> parse_jsonc(const std::string &text, JsoncSyntaxError *error);

}  // namespace clawvoice::launcher
