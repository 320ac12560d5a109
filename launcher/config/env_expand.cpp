/* clawvoice — `${NAME}` in config strings. */
#include "env_expand.h"

#include <glib.h>

namespace clawvoice::launcher {

static bool is_variable_name(const std::string &name)
{
  if (name.empty() || g_ascii_isdigit(name[0]))
    return false;
  for (char c : name) {
    if (!g_ascii_isalnum(c) && c != '_')
      return false;
  }
  return true;
}

bool expand_env(const std::string &text, std::string *out, std::string *error)
{
  std::string result;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t dollar = text.find('$', pos);
    if (dollar == std::string::npos) {
      result += text.substr(pos);
      break;
    }
    result += text.substr(pos, dollar - pos);
    if (text.compare(dollar, 3, "$${") == 0) {   /* the escape: a literal ${ */
      result += "${";
      pos = dollar + 3;
      continue;
    }
    if (text.compare(dollar, 2, "${") != 0) {    /* a plain $ */
      result += '$';
      pos = dollar + 1;
      continue;
    }
    size_t close = text.find('}', dollar);
    if (close == std::string::npos) {
      *error = "'${' without a closing '}' (write $${ for a literal ${)";
      return false;
    }
    std::string inside = text.substr(dollar + 2, close - dollar - 2);
    std::string name = inside, fallback;
    bool has_fallback = false;
    size_t sep = inside.find(":-");
    if (sep != std::string::npos) {
      name = inside.substr(0, sep);
      fallback = inside.substr(sep + 2);
      has_fallback = true;
    }
    if (!is_variable_name(name)) {
      *error = "'${" + inside + "}': '" + name +
               "' is not a variable name (letters, digits and '_'; write $${ for a literal ${)";
      return false;
    }
    const gchar *value = g_getenv(name.c_str());
    if (has_fallback && (!value || !*value)) {
      result += fallback;
    } else if (!value) {
      *error = "environment variable " + name + " is not set (write ${" + name +
               ":-default} for a fallback)";
      return false;
    } else {
      result += value;
    }
    pos = close + 1;
  }
  *out = std::move(result);
  return true;
}

}  // namespace clawvoice::launcher
