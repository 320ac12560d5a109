/* clawvoice — application/x-www-form-urlencoded bodies (Twilio's webhooks and REST API).
 *
 * Parsing is strict: a '%' not followed by two hex digits, or text that is not UTF-8 once decoded,
 * is an error, not something to guess around. '+' is a space. Order and repeated keys are kept
 * (StatusCallbackEvent is repeated on purpose). */
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clawvoice::twilio {

class Form {
 public:
  using Field = std::pair<std::string, std::string>;

  void add(std::string key, std::string value) { fields_.emplace_back(std::move(key), std::move(value)); }
  const std::vector<Field> &fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

  bool has(const std::string &key) const;
  /* The first value of @key. */
  std::optional<std::string> get(const std::string &key) const;
  std::string get_or(const std::string &key, const std::string &fallback) const;
  /* Every value of @key, in order. */
  std::vector<std::string> get_all(const std::string &key) const;

  /* The body for a request: keys and values percent-encoded, spaces as '+'. */
  std::string encode() const;

 private:
  std::vector<Field> fields_;
};

/* Parses @body; on error returns nullopt and says what and where in @error. Empty pairs ("a=1&&b=2")
 * are skipped and a key without '=' has an empty value, as browsers and Twilio do. */
std::optional<Form> parse_form(const std::string &body, std::string *error = nullptr);

/* Percent-encodes one key or value for a form body. */
std::string form_encode_component(const std::string &text);

}  // namespace clawvoice::twilio
