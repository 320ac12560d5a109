#include "openclaw/memory_files.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>

namespace clawvoice::openclaw {

namespace {

/* A file bigger than this is not a memory note; read its start only. */
constexpr gsize kMaxFileBytes = 1024 * 1024;

size_t char_count(const std::string &text)
{
  if (g_utf8_validate(text.c_str(), (gssize) text.size(), nullptr))
    return (size_t) g_utf8_strlen(text.c_str(), (gssize) text.size());
  return text.size();
}

bool read_file(const std::string &path, std::string *out, std::string *error)
{
  gchar *data = nullptr;
  gsize size = 0;
  GError *e = nullptr;
  if (!g_file_get_contents(path.c_str(), &data, &size, &e)) {
    bool missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    if (!missing && error)
      *error = e->message;
    g_clear_error(&e);
    return false;
  }
  out->assign(data, std::min(size, kMaxFileBytes));
  g_free(data);
  if (!g_utf8_validate(out->c_str(), (gssize) out->size(), nullptr)) {
    g_autofree gchar *fixed = g_utf8_make_valid(out->c_str(), (gssize) out->size());
    *out = fixed;
  }
  return true;
}

std::vector<std::string> paragraphs_of(const std::string &text)
{
  std::vector<std::string> out;
  std::string current;
  size_t start = 0;
  auto flush = [&]() {
    size_t a = current.find_first_not_of(" \t\n");
    if (a != std::string::npos) {
      size_t b = current.find_last_not_of(" \t\n");
      out.push_back(current.substr(a, b - a + 1));
    }
    current.clear();
  };
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      flush();
    else
      current += line + "\n";
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  flush();
  return out;
}

/* The first @max_chars characters of @text, cut back to a word boundary, with an ellipsis. */
std::string cut_at_word(const std::string &text, size_t max_chars)
{
  if (max_chars < 2)
    return "";
  const gchar *begin = text.c_str();
  const gchar *limit = g_utf8_offset_to_pointer(begin, (glong) (max_chars - 1));   /* room for "…" */
  std::string head(begin, (size_t) (limit - begin));
  size_t space = head.find_last_of(" \n\t");
  if (space != std::string::npos && space > head.size() / 2)
    head = head.substr(0, space);
  return head + "\u2026";
}

bool is_daily_name(const char *name)
{
  /* YYYY-MM-DD.md */
  if (strlen(name) != 13 || !g_str_has_suffix(name, ".md"))
    return false;
  for (int i = 0; i < 10; i++) {
    bool dash = i == 4 || i == 7;
    if (dash ? name[i] != '-' : !g_ascii_isdigit(name[i]))
      return false;
  }
  return true;
}

/* Picks the paragraphs of one file that fit in @budget (characters, header included). */
struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;
};

std::string render(const Section &s)
{
  std::string out = "## " + s.heading + "\n\n";
  for (size_t i = 0; i < s.paragraphs.size(); i++)
    out += s.paragraphs[i] + (i + 1 < s.paragraphs.size() ? "\n\n" : "\n");
  return out;
}

/* Fills @section from @paragraphs (tried in @order) within @left characters; returns what it used. */
size_t fill(Section *section, const std::vector<std::string> &paragraphs, bool newest_last, size_t left,
    bool nothing_yet, bool *trimmed)
{
  size_t heading = char_count("## " + section->heading + "\n\n") + 2;   /* + the blank line between sections */
  if (left <= heading)
    return 0;
  size_t room = left - heading;
  std::vector<bool> keep(paragraphs.size(), false);
  std::vector<std::string> text = paragraphs;
  size_t used = 0;
  for (size_t k = 0; k < paragraphs.size(); k++) {
    size_t i = newest_last ? paragraphs.size() - 1 - k : k;
    size_t size = char_count(paragraphs[i]) + 2;
    if (used + size <= room) {
      keep[i] = true;
      used += size;
    } else {
      *trimmed = true;
      if (nothing_yet && used == 0 && room - used > 40) {
        /* One paragraph bigger than the whole budget: better a cut paragraph than nothing. */
        text[i] = cut_at_word(paragraphs[i], room - used - 2);
        keep[i] = true;
        used += char_count(text[i]) + 2;
      }
    }
  }
  for (size_t i = 0; i < paragraphs.size(); i++)
    if (keep[i])
      section->paragraphs.push_back(text[i]);
  return section->paragraphs.empty() ? 0 : heading + used;
}

}  // namespace

size_t estimate_tokens(const std::string &text)
{
  return (char_count(text) + kCharsPerToken - 1) / kCharsPerToken;
}

MemoryContext load_memory_context(const std::string &dir, size_t budget_tokens, std::string *error,
    unsigned max_days)
{
  MemoryContext context;
  if (!g_file_test(dir.c_str(), G_FILE_TEST_IS_DIR)) {
    if (error)
      *error = "memory directory not found: " + dir;
    return context;
  }
  size_t left = budget_tokens * kCharsPerToken;
  std::vector<std::pair<Section, std::string>> sections;

  std::string text;
  std::string read_error;
  if (read_file(dir + "/MEMORY.md", &text, &read_error)) {
    Section s{"MEMORY.md", {}};
    size_t used = fill(&s, paragraphs_of(text), false, left, true, &context.trimmed);
    if (used) {
      left -= std::min(left, used);
      sections.emplace_back(std::move(s), "MEMORY.md");
    }
  }

  std::vector<std::string> days;
  g_autofree gchar *daily_dir = g_build_filename(dir.c_str(), "memory", nullptr);
  if (GDir *d = g_dir_open(daily_dir, 0, nullptr)) {
    while (const gchar *name = g_dir_read_name(d))
      if (is_daily_name(name))
        days.emplace_back(name);
    g_dir_close(d);
  }
  std::sort(days.rbegin(), days.rend());   /* newest first */
  if (days.size() > max_days) {
    days.resize(max_days);
    context.trimmed = true;
  }
  for (const std::string &day : days) {
    if (!read_file(std::string(daily_dir) + "/" + day, &text, &read_error))
      continue;
    Section s{day.substr(0, 10), {}};
    size_t used = fill(&s, paragraphs_of(text), true, left, sections.empty(), &context.trimmed);
    if (!used) {
      context.trimmed = true;
      continue;
    }
    left -= std::min(left, used);
    sections.emplace_back(std::move(s), "memory/" + day);
  }
  if (error && !read_error.empty())
    *error = read_error;

  for (size_t i = 0; i < sections.size(); i++) {
    if (i)
      context.text += "\n";
    context.text += render(sections[i].first);
    context.sources.push_back(sections[i].second);
  }
  context.tokens = estimate_tokens(context.text);
  return context;
}

/* @text on one line, at most @limit characters, cut at a word boundary with an ellipsis. */
static std::string one_line(const std::string &text, size_t limit)
{
  std::string flat;
  for (char c : text)
    flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (flat.size() <= limit)
    return flat;
  size_t cut = flat.rfind(' ', limit);
  if (cut == std::string::npos || cut < limit / 2)
    cut = limit;
  while (cut > 0 && (flat[cut] & 0xC0) == 0x80)   /* never split a UTF-8 character */
    cut--;
  return flat.substr(0, cut) + "…";
}

std::string format_call_record(const CallRecord &record)
{
  std::string time = "?";
  if (record.started) {
    g_autofree gchar *t = g_date_time_format(record.started, "%H:%M");
    time = t;
  }
  std::string out = "## Voice call at " + time;
  if (!record.caller.empty())
    out += " from " + record.caller;
  out += "\n\n";

  size_t answered = 0;
  for (const auto &task : record.tasks)
    answered += task.status == "done";
  gint64 seconds = record.duration_ms / 1000;
  g_autofree gchar *length = g_strdup_printf("%" G_GINT64_FORMAT " min %" G_GINT64_FORMAT " s", seconds / 60,
      seconds % 60);
  out += "Summary: ";
  out += record.call_id.empty() ? std::string("Lasted ") : "Call " + record.call_id + ", lasted ";
  out += length;
  if (!record.transcript.empty())
    out += ", " + std::to_string(record.transcript.size()) + " turn" + (record.transcript.size() == 1 ? "" : "s");
  auto first_question = std::find_if(record.transcript.begin(), record.transcript.end(),
      [](const TranscriptLine &line) { return line.role == "user"; });
  if (first_question != record.transcript.end())
    out += "; the caller began with \"" + one_line(first_question->text, 120) + "\"";
  g_autofree gchar *requests = g_strdup_printf("; %zu request%s to the agent, %zu answered.", record.tasks.size(),
      record.tasks.size() == 1 ? "" : "s", answered);
  out += requests;
  if (!record.session_key.empty())
    out += " Agent session: `" + record.session_key + "`.";
  out += "\n";

  if (!record.tasks.empty())
    out += "\n";
  for (const auto &task : record.tasks) {
    out += "- Caller asked: \"" + task.question + "\"\n";
    if (task.status == "done")
      out += "  Agent answered: \"" + task.answer + "\"\n";
    else
      out += "  Not answered (" + task.status + ")" + (task.answer.empty() ? "" : ": " + task.answer) + "\n";
  }

  if (!record.transcript.empty()) {
    out += "\nTranscript:\n\n";
    for (const auto &line : record.transcript)
      out += std::string(line.role == "user" ? "- Caller: " : "- Voice: ") + one_line(line.text, 4000) + "\n";
  }
  return out;
}

std::string daily_file_path(const std::string &dir, GDateTime *when)
{
  g_autofree gchar *day = g_date_time_format(when, "%Y-%m-%d.md");
  g_autofree gchar *path = g_build_filename(dir.c_str(), "memory", day, nullptr);
  return path;
}

bool append_daily_note(const std::string &dir, GDateTime *when, const std::string &markdown, std::string *error)
{
  g_autofree gchar *daily_dir = g_build_filename(dir.c_str(), "memory", nullptr);
  if (g_mkdir_with_parents(daily_dir, 0755) != 0) {
    if (error)
      *error = std::string("cannot create ") + daily_dir + ": " + g_strerror(errno);
    return false;
  }
  std::string path = daily_file_path(dir, when);
  std::string existing;
  std::string ignored;
  read_file(path, &existing, &ignored);
  std::string separator;
  if (!existing.empty())
    separator = g_str_has_suffix(existing.c_str(), "\n\n") ? "" : (existing.back() == '\n' ? "\n" : "\n\n");

  FILE *f = g_fopen(path.c_str(), "a");
  if (!f) {
    if (error)
      *error = "cannot open " + path + ": " + g_strerror(errno);
    return false;
  }
  std::string text = separator + markdown;
  if (text.empty() || text.back() != '\n')
    text += '\n';
  bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = fclose(f) == 0 && ok;
  if (!ok && error)
    *error = "cannot write " + path + ": " + g_strerror(errno);
  return ok;
}

}  // namespace clawvoice::openclaw
