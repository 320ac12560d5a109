/* clawvoice — the OpenClaw agent's memory files, as the voice relay reads and writes them.
 *
 * An OpenClaw workspace keeps long-term memory in `MEMORY.md` and a diary in `memory/YYYY-MM-DD.md`.
 * At the start of a call the relay gives the voice model a short context from them; at the end it
 * appends what was said to the day's file, so the agent (and the next call) knows.
 *
 * Budget: tokens are estimated at 4 characters each (the usual rule of thumb for English; exact
 * counts need the model's tokenizer, which the budget does not warrant). MEMORY.md comes first
 * (durable facts), then the daily files newest first; each file contributes whole paragraphs, and
 * a daily file its newest (last) paragraphs first. Only a first paragraph too big on its own is cut,
 * at a word boundary. */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace clawvoice::openclaw {

constexpr size_t kCharsPerToken = 4;

size_t estimate_tokens(const std::string &text);

struct MemoryContext {
  std::string text;                  /* markdown, one "## <source>" section per file used; "" if none */
  size_t tokens = 0;                 /* estimate_tokens(text) */
  std::vector<std::string> sources;  /* "MEMORY.md", "memory/2026-11-20.md", … in the order used */
  bool trimmed = false;              /* something was left out to fit the budget */
};

/* Reads @dir/MEMORY.md and the newest daily files (at most @max_days) within @budget_tokens.
 * Missing files are fine (an empty context); an unreadable directory sets @error. */
MemoryContext load_memory_context(const std::string &dir, size_t budget_tokens, std::string *error = nullptr,
    unsigned max_days = 7);

/* One task the voice handed to the agent during a call. */
struct CallTaskRecord {
  std::string question;
  std::string status;   /* done, failed, timeout, cancelled, … */
  std::string answer;   /* the answer, or what went wrong */
};

/* One turn of the conversation, as transcribed. */
struct TranscriptLine {
  std::string role;   /* "user" (the caller) or "assistant" (the voice) */
  std::string text;
};

/* What the relay knows of a call at its end. */
struct CallRecord {
  std::string call_id;
  std::string caller;
  std::string session_key;
  GDateTime *started = nullptr;   /* borrowed; local time */
  gint64 duration_ms = 0;
  std::vector<CallTaskRecord> tasks;
  std::vector<TranscriptLine> transcript;
};

/* The markdown section appended to the day's file: a heading, a short summary (length, turns, what
 * the caller asked first, requests to the agent), the requests and the agent's answers, then the
 * transcript of the whole conversation. */
std::string format_call_record(const CallRecord &record);
/* "<dir>/memory/YYYY-MM-DD.md" for @when's local date. */
std::string daily_file_path(const std::string &dir, GDateTime *when);
/* Appends @markdown (separated by a blank line) to the day's file, creating memory/ if needed. */
bool append_daily_note(const std::string &dir, GDateTime *when, const std::string &markdown,
    std::string *error = nullptr);

}  // namespace clawvoice::openclaw
