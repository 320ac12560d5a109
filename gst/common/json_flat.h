/* clawvoice — a reader for the plain JSON of the messages that come many times a second.
 *
 * json-glib's parser tokenises with GScanner and builds a tree of nodes: for a Twilio media message
 * or a Realtime audio delta (50 and 5+ a second per call, mostly one long base64 string) that was
 * the largest single cost of a call. FlatObject reads only a plain subset of JSON: an object whose
 * values are strings of printable ASCII without escapes, integers (no fraction, no exponent, at most
 * 18 digits) or, up to a depth, objects of the same. Anything else — an array, true/false/null, a
 * fraction, an escape, a byte outside printable ASCII, a member twice — makes read() return false,
 * and the caller then parses with json-glib. So a caller that only ever answers from this reader
 * what json-glib would have answered (tests check that, message by message) loses nothing. */
#pragma once

#include <glib.h>

#include <string_view>
#include <vector>

#include "common/json.h"

namespace clawvoice::json {

class FlatObject {
 public:
  struct Member {
    enum class Kind { String, Integer, Object } kind = Kind::String;
    std::string_view name;
    std::string_view text;   /* a string's contents */
    gint64 integer = 0;
    size_t object = 0;       /* an object: its index (see object()) */
  };
  using Members = std::vector<Member>;

  /* Reads @text, which must outlive what this returns; @max_depth: how deep objects may nest
   * (0: the root holds no object). False: not plain JSON, leave it to json-glib. */
  bool read(std::string_view text, int max_depth);

  const Members &root() const { return objects_[0]; }
  const Members &object(size_t index) const { return objects_[index]; }

  /* The member @name of @members, or null. */
  static const Member *find(const Members &members, std::string_view name);
  /* A string member's contents; false when absent or not a string. */
  static bool string(const Members &members, std::string_view name, std::string_view *out);
  /* A nested object, or null when absent or not an object. */
  const Members *object_member(const Members &members, std::string_view name) const;

  /* The same object as json-glib's parser builds from the text read (members in order; not sealed). */
  ObjectPtr to_json_object() const;

 private:
  bool parse_object(size_t index, int depth, int max_depth);
  bool parse_plain_string(std::string_view *out);
  bool parse_integer(gint64 *out);
  bool literal(char c);
  void skip_space();
  JsonObject *build(size_t index) const;

  std::string_view text_;
  size_t at_ = 0;
  std::vector<Members> objects_;
};

}  // namespace clawvoice::json
