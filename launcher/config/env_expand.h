/* clawvoice — `${NAME}` in config strings: the value of the environment variable NAME.
 *
 *   ${NAME}            the variable; an error if it is not set
 *   ${NAME:-default}   the variable, or `default` when it is unset or empty (as in sh)
 *   $${                a literal `${`
 *
 * A `$` not followed by `{` is kept as it is. NAME is letters, digits and '_', not starting with a
 * digit. This is how secrets stay out of the config file. */
#pragma once

#include <string>

namespace clawvoice::launcher {

/* Expands `text` into *out; on failure returns false and says why in *error (naming the variable,
 * never its value). */
bool expand_env(const std::string &text, std::string *out, std::string *error);

}  // namespace clawvoice::launcher
