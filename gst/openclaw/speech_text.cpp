#include "openclaw/speech_text.h"

#include <glib.h>

#include <vector>

namespace clawvoice::openclaw {

namespace {

/* Compiled once, shared by all threads (a GRegex is immutable once compiled). */
struct Patterns {
  GRegex *header;        /* "## Title ##" */
  GRegex *list_item;     /* "- item", "* item", "1. item", "2) item", with an optional "[x] " */
  GRegex *rule;          /* "---", "* * *", "___" */
  GRegex *table_sep;     /* "|---|:--:|" */
  GRegex *image;         /* ![alt](url) */
  GRegex *link;          /* [text](url) */
  GRegex *autolink;      /* <https://…> */
  GRegex *url;           /* https://… or www.… */
  GRegex *html_tag;      /* <br>, </b>, <span class="x"> */
  GRegex *strong;        /* **x** and __x__ */
  GRegex *em;            /* *x* and _x_ (not inside words: snake_case stays) */
  GRegex *strike;        /* ~~x~~ */
  GRegex *spaces;
};

GRegex *compile(const char *pattern)
{
  GError *error = nullptr;
  /* No G_REGEX_OPTIMIZE: answers are short, and PCRE2's JIT code reads past buffers in ways
   * valgrind reports as errors, which would hide real ones in the memcheck suites. */
  GRegex *re = g_regex_new(pattern, (GRegexCompileFlags) 0, (GRegexMatchFlags) 0, &error);
  g_assert_no_error(error);   /* the patterns are constants: a failure is a programming error */
  return re;
}

const Patterns &patterns()
{
  static Patterns *p = []() {
    auto *q = new Patterns();
    q->header = compile("^\\s{0,3}#{1,6}\\s+(.*?)\\s*#*\\s*$");
    q->list_item = compile("^\\s*(?:[-*+]|\\d{1,3}[.)])\\s+(?:\\[[ xX]\\]\\s+)?(.*)$");
    q->rule = compile("^\\s{0,3}([-*_])(?:\\s*\\1){2,}\\s*$");
    q->table_sep = compile("^\\s*\\|?\\s*:?-{3,}:?\\s*(?:\\|\\s*:?-{3,}:?\\s*)*\\|?\\s*$");
    q->image = compile("!\\[([^\\]]*)\\]\\([^)]*\\)");
    q->link = compile("\\[([^\\]]+)\\]\\([^)]*\\)");
    q->autolink = compile("<((?:https?://|www\\.)[^>\\s]+)>");
    q->url = compile("\\b(?:https?://|www\\.)[^\\s<>()\\[\\]\"']+");
    q->html_tag = compile("</?[a-zA-Z][a-zA-Z0-9]*(?:\\s[^<>]*)?/?>");
    q->strong = compile("(?<![A-Za-z0-9])(\\*\\*|__)(?=\\S)(.+?)(?<=\\S)\\1(?![A-Za-z0-9])");
    q->em = compile("(?<![A-Za-z0-9*_])([*_])(?=\\S)(.+?)(?<=\\S)\\1(?![A-Za-z0-9*_])");
    q->strike = compile("~~(?=\\S)(.+?)(?<=\\S)~~");
    q->spaces = compile("\\s+");
    return q;
  }();
  return *p;
}

std::string replace(GRegex *re, const std::string &text, const char *replacement)
{
  g_autofree gchar *out = g_regex_replace(re, text.c_str(), (gssize) text.size(), 0, replacement,
      (GRegexMatchFlags) 0, nullptr);
  return out ? std::string(out) : text;
}

/* "https://www.example.com:8080/a/b?c" → "example.com". */
std::string domain_of(const std::string &url)
{
  std::string rest = url;
  size_t scheme = rest.find("://");
  if (scheme != std::string::npos)
    rest = rest.substr(scheme + 3);
  std::string host = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = host.rfind('@');   /* user:password@host: never read credentials aloud */
  if (at != std::string::npos)
    host = host.substr(at + 1);
  host = host.substr(0, host.find(':'));
  if (g_ascii_strncasecmp(host.c_str(), "www.", 4) == 0)
    host = host.substr(4);
  g_autofree gchar *lower = g_ascii_strdown(host.c_str(), (gssize) host.size());
  return lower;
}

gboolean replace_url(const GMatchInfo *info, GString *out, gpointer)
{
  g_autofree gchar *whole = g_match_info_fetch(info, 0);
  std::string url = whole;
  /* Sentence punctuation right after a URL belongs to the sentence. */
  std::string tail;
  while (!url.empty() && std::string(".,;:!?").find(url.back()) != std::string::npos) {
    tail.insert(tail.begin(), url.back());
    url.pop_back();
  }
  std::string domain = domain_of(url);
  if (!domain.empty()) {
    g_string_append(out, "a link on ");
    g_string_append(out, domain.c_str());
  }
  g_string_append(out, tail.c_str());
  return FALSE;
}

std::string replace_urls(GRegex *re, const std::string &text)
{
  g_autofree gchar *out = g_regex_replace_eval(re, text.c_str(), (gssize) text.size(), 0,
      (GRegexMatchFlags) 0, replace_url, nullptr, nullptr);
  return out ? std::string(out) : text;
}

/* Everything inside one line of prose. Inline code is unwrapped first and kept as is. */
std::string clean_inline(const std::string &line)
{
  const Patterns &re = patterns();
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    size_t tick = line.find('`', i);
    std::string prose = line.substr(i, tick == std::string::npos ? std::string::npos : tick - i);
    if (!prose.empty()) {
      prose = replace(re.image, prose, "\\1");
      prose = replace(re.link, prose, "\\1");
      prose = replace(re.autolink, prose, "\\1");
      prose = replace_urls(re.url, prose);
      prose = replace(re.html_tag, prose, " ");
      prose = replace(re.strong, prose, "\\2");
      prose = replace(re.em, prose, "\\2");
      prose = replace(re.strike, prose, "\\1");
      out += prose;
    }
    if (tick == std::string::npos)
      break;
    size_t run = line.find_first_not_of('`', tick);
    if (run == std::string::npos)
      break;   /* trailing backticks: nothing to say */
    std::string fence = line.substr(tick, run - tick);
    size_t close = line.find(fence, run);
    if (close == std::string::npos) {
      out += line.substr(run);   /* unbalanced: drop the marks, keep the words */
      break;
    }
    std::string code = line.substr(run, close - run);
    out += code;
    i = close + fence.size();
  }
  return out;
}

bool ends_sentence(const std::string &text)
{
  if (text.empty())
    return true;
  char last = text.back();
  if (std::string(".!?:;").find(last) != std::string::npos)
    return true;
  /* "…" and closing quotes/brackets after punctuation count too. */
  if (g_str_has_suffix(text.c_str(), "\u2026"))
    return true;
  if ((last == '"' || last == ')' || last == '\'') && text.size() >= 2)
    return std::string(".!?").find(text[text.size() - 2]) != std::string::npos;
  return false;
}

std::string as_sentence(std::string text)
{
  while (!text.empty() && g_ascii_isspace(text.back()))
    text.pop_back();
  if (!ends_sentence(text))
    text += '.';
  return text;
}

bool matches(GRegex *re, const std::string &line, std::string *group1 = nullptr)
{
  GMatchInfo *info = nullptr;
  bool ok = g_regex_match(re, line.c_str(), (GRegexMatchFlags) 0, &info);
  if (ok && group1) {
    g_autofree gchar *g = g_match_info_fetch(info, 1);
    *group1 = g ? g : "";
  }
  g_match_info_free(info);
  return ok;
}

bool is_table_row(const std::string &line)
{
  std::string t = line;
  size_t start = t.find_first_not_of(" \t");
  return start != std::string::npos && t[start] == '|' && t.find('|', start + 1) != std::string::npos;
}

std::vector<std::string> split_lines(const std::string &text)
{
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    lines.push_back(line);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return lines;
}

std::string trim(const std::string &s)
{
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos)
    return "";
  size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

}  // namespace

std::string clean_for_speech(const std::string &text)
{
  const Patterns &re = patterns();
  std::vector<std::string> lines = split_lines(text);
  std::vector<std::string> pieces;
  for (size_t i = 0; i < lines.size(); i++) {
    std::string line = lines[i];
    std::string t = trim(line);

    /* Fenced code: one mention, then skip to the closing fence (or the end). */
    if (g_str_has_prefix(t.c_str(), "```") || g_str_has_prefix(t.c_str(), "~~~")) {
      std::string fence = t.substr(0, 3);
      size_t j = i + 1;
      while (j < lines.size() && !g_str_has_prefix(trim(lines[j]).c_str(), fence.c_str()))
        j++;
      pieces.push_back("(code omitted)");
      i = j;
      continue;
    }

    /* Tables: "| a | b |" rows, or a header row followed by a separator row. */
    bool header_then_separator = t.find('|') != std::string::npos && i + 1 < lines.size() &&
        matches(re.table_sep, lines[i + 1]) && lines[i + 1].find('-') != std::string::npos;
    if (is_table_row(t) || header_then_separator) {
      size_t j = i, rows = 0, separators = 0;
      while (j < lines.size() && !trim(lines[j]).empty() &&
             (is_table_row(lines[j]) || lines[j].find('|') != std::string::npos)) {
        if (matches(re.table_sep, lines[j]))
          separators++;
        else
          rows++;
        j++;
      }
      /* With a separator, the first row is the header, not data. */
      size_t data_rows = separators > 0 && rows > 0 ? rows - 1 : rows;
      pieces.push_back(data_rows == 1 ? "(a table with 1 row)"
                                      : "(a table with " + std::to_string(data_rows) + " rows)");
      i = j - 1;
      continue;
    }

    if (t.empty() || matches(re.rule, t))
      continue;

    /* Blockquote marks. */
    while (!t.empty() && t[0] == '>')
      t = trim(t.substr(1));

    std::string content;
    if (matches(re.header, t, &content) || matches(re.list_item, t, &content)) {
      pieces.push_back(as_sentence(clean_inline(content)));
      continue;
    }
    pieces.push_back(clean_inline(t));
  }

  std::string joined;
  for (const std::string &piece : pieces) {
    if (trim(piece).empty())
      continue;
    if (!joined.empty())
      joined += ' ';
    joined += piece;
  }
  return trim(replace(re.spaces, joined, " "));
}

}  // namespace clawvoice::openclaw
