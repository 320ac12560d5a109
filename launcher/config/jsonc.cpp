/* clawvoice — a strict parser for JSON with comments, keeping where every value sits. */
#include "jsonc.h"

#include <glib.h>

#include <map>

namespace clawvoice::launcher {

const JsoncValue *JsoncValue::find(const std::string &key) const
{
  for (const JsoncMember &m : members) {
    if (m.key == key)
      return &m.value;
  }
  return nullptr;
}

const char *jsonc_kind_name(JsoncValue::Kind kind)
{
  switch (kind) {
    case JsoncValue::Kind::Null: return "null";
    case JsoncValue::Kind::Bool: return "a boolean";
    case JsoncValue::Kind::Number: return "a number";
    case JsoncValue::Kind::String: return "a string";
    case JsoncValue::Kind::Object: return "an object";
    case JsoncValue::Kind::Array: return "an array";
  }
  return "?";
}

namespace {

/* Deeper than any sane config; keeps a hostile file from exhausting the stack. */
constexpr int kMaxDepth = 64;

struct Failure {};   /* thrown inside the parser only, caught by parse_jsonc() */

class Parser {
 public:
  explicit Parser(const std::string &text) : s_(text) {}

  JsoncValue parse_document(JsoncSyntaxError *error)
  {
    error_ = error;
    if (s_.compare(0, 3, "\xEF\xBB\xBF") == 0)   /* a UTF-8 byte order mark some editors write */
      advance(3);
    skip_space();
    if (at_end())
      fail("the file is empty: expected a JSON object");
    JsoncValue root = parse_value(0);
    skip_space();
    if (!at_end())
      fail(std::string("unexpected ") + describe_here() + " after the end of the document");
    return root;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }

  /* Moves on `n` bytes, keeping line and column (in characters: UTF-8 continuation bytes do not
   * count) right. */
  void advance(size_t n = 1)
  {
    for (size_t i = 0; i < n && pos_ < s_.size(); i++, pos_++) {
      unsigned char c = s_[pos_];
      if (c == '\n') {
        line_++;
        column_ = 1;
      } else if ((c & 0xC0) != 0x80) {
        column_++;
      }
    }
  }

  [[noreturn]] void fail(const std::string &message) { fail_at(line_, column_, message); }
  [[noreturn]] void fail_at(int line, int column, const std::string &message)
  {
    error_->line = line;
    error_->column = column;
    error_->message = message;
    throw Failure();
  }

  std::string describe_here() const
  {
    if (at_end())
      return "end of file";
    unsigned char c = s_[pos_];
    if (c < 0x20 || c >= 0x7f)
      return "character";
    return std::string("'") + (char) c + "'";
  }

  void skip_space()
  {
    while (!at_end()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (!at_end() && peek() != '\n')
          advance();
      } else if (c == '/' && peek(1) == '*') {
        int line = line_, column = column_;
        advance(2);
        while (!at_end() && !(peek() == '*' && peek(1) == '/'))
          advance();
        if (at_end())
          fail_at(line, column, "comment '/*' is never closed with '*/'");
        advance(2);
      } else if (c == '/') {
        fail("a lone '/': comments are '// …' or '/* … */'");
      } else {
        return;
      }
    }
  }

  JsoncValue parse_value(int depth)
  {
    if (depth > kMaxDepth)
      fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    JsoncValue v;
    v.line = line_;
    v.column = column_;
    char c = peek();
    if (c == '{') {
      parse_object(&v, depth);
    } else if (c == '[') {
      parse_array(&v, depth);
    } else if (c == '"') {
      v.kind = JsoncValue::Kind::String;
      v.text = parse_string();
    } else if (c == '-' || g_ascii_isdigit(c)) {
      v.kind = JsoncValue::Kind::Number;
      v.text = parse_number();
    } else if (c == '\'') {
      fail("strings are written in double quotes, not single quotes");
    } else if (g_ascii_isalpha(c)) {
      std::string word;
      while (g_ascii_isalnum(peek()) || peek() == '_')
        word += peek(), advance();
      if (word == "true" || word == "false") {
        v.kind = JsoncValue::Kind::Bool;
        v.boolean = word == "true";
      } else if (word == "null") {
        v.kind = JsoncValue::Kind::Null;
      } else {
        fail_at(v.line, v.column, "unexpected word '" + word + "' (a string needs double quotes)");
      }
    } else {
      fail(std::string("expected a value, found ") + describe_here());
    }
    return v;
  }

  void parse_object(JsoncValue *v, int depth)
  {
    v->kind = JsoncValue::Kind::Object;
    std::map<std::string, int> first_line;
    advance();   /* { */
    skip_space();
    if (peek() == '}') {
      advance();
      return;
    }
    for (;;) {
      skip_space();
      if (peek() != '"') {
        if (g_ascii_isalpha(peek()) || peek() == '_' || peek() == '\'')
          fail("keys are written in double quotes");
        fail(std::string("expected a key in double quotes, found ") + describe_here());
      }
      JsoncMember member;
      member.line = line_;
      int key_column = column_;
      member.key = parse_string();
      auto [it, inserted] = first_line.emplace(member.key, member.line);
      if (!inserted)
        fail_at(member.line, key_column,
                "duplicate key '" + member.key + "' (first at line " + std::to_string(it->second) + ")");
      skip_space();
      if (peek() != ':')
        fail(std::string("expected ':' after the key '") + member.key + "', found " + describe_here());
      advance();
      skip_space();
      member.value = parse_value(depth + 1);
      v->members.push_back(std::move(member));
      skip_space();
      if (peek() == ',') {
        int line = line_, column = column_;
        advance();
        skip_space();
        if (peek() == '}')
          fail_at(line, column, "trailing comma before '}' (not allowed in JSON)");
        continue;
      }
      if (peek() == '}') {
        advance();
        return;
      }
      if (peek() == '"')
        fail("missing ',' between members");
      fail(std::string("expected ',' or '}', found ") + describe_here());
    }
  }

  void parse_array(JsoncValue *v, int depth)
  {
    v->kind = JsoncValue::Kind::Array;
    advance();   /* [ */
    skip_space();
    if (peek() == ']') {
      advance();
      return;
    }
    for (;;) {
      skip_space();
      v->items.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        int line = line_, column = column_;
        advance();
        skip_space();
        if (peek() == ']')
          fail_at(line, column, "trailing comma before ']' (not allowed in JSON)");
        continue;
      }
      if (peek() == ']') {
        advance();
        return;
      }
      fail(std::string("expected ',' or ']', found ") + describe_here());
    }
  }

  unsigned read_hex4()
  {
    unsigned cp = 0;
    for (int i = 0; i < 4; i++) {
      char c = peek();
      if (!g_ascii_isxdigit(c))
        fail("'\\u' takes four hexadecimal digits");
      cp = cp * 16 + g_ascii_xdigit_value(c);
      advance();
    }
    return cp;
  }

  std::string parse_string()
  {
    int line = line_, column = column_;
    advance();   /* " */
    std::string out;
    for (;;) {
      if (at_end())
        fail_at(line, column, "string is never closed with '\"'");
      unsigned char c = peek();
      if (c == '"') {
        advance();
        return out;
      }
      if (c < 0x20)
        fail(c == '\n' ? "line break inside a string (write \\n)" : "control character inside a string");
      if (c != '\\') {
        out += (char) c;
        advance();
        continue;
      }
      advance();
      char e = peek();
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          advance();
          unsigned cp = read_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {   /* a surrogate pair spells one character */
            if (peek() != '\\' || peek(1) != 'u')
              fail("'\\u' high surrogate without its low half");
            advance(2);
            unsigned low = read_hex4();
            if (low < 0xDC00 || low > 0xDFFF)
              fail("'\\u' high surrogate followed by something else than a low surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("'\\u' low surrogate without its high half");
          }
          if (cp == 0)
            fail("'\\u0000' is not allowed in a config string");
          char buf[8];
          int n = g_unichar_to_utf8(cp, buf);
          out.append(buf, n);
          continue;   /* read_hex4 has moved on already */
        }
        default:
          fail(std::string("unknown escape '\\") + (g_ascii_isprint(e) ? std::string(1, e) : "?") +
               "' (known: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
      advance();
    }
  }

  std::string parse_number()
  {
    size_t start = pos_;
    if (peek() == '-')
      advance();
    if (peek() == '0') {
      advance();
      if (g_ascii_isdigit(peek()))
        fail("numbers do not start with 0 (no octal, no padding)");
      if (peek() == 'x' || peek() == 'X')
        fail("hexadecimal numbers are not JSON");
    } else if (g_ascii_isdigit(peek())) {
      while (g_ascii_isdigit(peek()))
        advance();
    } else {
      fail("'-' must be followed by a digit");
    }
    if (peek() == '.') {
      advance();
      if (!g_ascii_isdigit(peek()))
        fail("a '.' in a number must be followed by a digit");
      while (g_ascii_isdigit(peek()))
        advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      advance();
      if (peek() == '+' || peek() == '-')
        advance();
      if (!g_ascii_isdigit(peek()))
        fail("an exponent needs digits");
      while (g_ascii_isdigit(peek()))
        advance();
    }
    if (g_ascii_isalpha(peek()))
      fail("unexpected letter after a number");
    return s_.substr(start, pos_ - start);
  }

  const std::string &s_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  JsoncSyntaxError *error_ = nullptr;
};

/* Where the first invalid UTF-8 byte is, as (line, column). */
static std::pair<int, int> position_of(const std::string &text, size_t offset)
{
  int line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); i++) {
    unsigned char c = text[i];
    if (c == '\n') {
      line++;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      column++;
    }
  }
  return {line, column};
}

}  // namespace

std::optional<JsoncValue> parse_jsonc(const std::string &text, JsoncSyntaxError *error)
{
  const gchar *bad = nullptr;
  if (!g_utf8_validate(text.data(), (gssize) text.size(), &bad)) {
    auto [line, column] = position_of(text, bad - text.data());
    error->line = line;
    error->column = column;
    error->message = *bad == '\0' ? "NUL byte in the file" : "invalid UTF-8 (the file must be UTF-8)";
    return std::nullopt;
  }
  Parser parser(text);
  try {
    return parser.parse_document(error);
  } catch (const Failure &) {
    return std::nullopt;
  }
}

}  // namespace clawvoice::launcher
