/* clawvoice-launcher — structured logs: one JSON object per line, one line per event.
 *
 *   {"ts":"2026-11-21T10:00:00.123Z","level":"info","event":"call.started","call_id":"call_…",…}
 *
 * Secrets never reach this file's callers' fields: log what a value IS (masked, a length, a
 * fingerprint), never the value. Thread-safe; lines are written whole. */
#pragma once

#include <initializer_list>
#include <string>
#include <variant>

namespace clawvoice::launcher {

enum class LogLevel { Debug, Info, Warning, Error };

struct LogField {
  std::string key;
  std::variant<std::string, long long, double, bool> value;
  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, const char *v) : key(std::move(k)), value(std::string(v ? v : "")) {}
  LogField(std::string k, long long v) : key(std::move(k)), value(v) {}
  LogField(std::string k, int v) : key(std::move(k)), value((long long) v) {}
  LogField(std::string k, unsigned v) : key(std::move(k)), value((long long) v) {}
  LogField(std::string k, long v) : key(std::move(k)), value((long long) v) {}
  LogField(std::string k, unsigned long v) : key(std::move(k)), value((long long) v) {}
  LogField(std::string k, double v) : key(std::move(k)), value(v) {}
  LogField(std::string k, bool v) : key(std::move(k)), value(v) {}
};

/* Lines below this level are not written. "debug" | "info" | "warning" | "error". */
void set_log_level(const std::string &level);
void log_event(LogLevel level, const char *event, std::initializer_list<LogField> fields = {});

/* The JSON line log_event() would write (without the newline), for tests. */
std::string format_log_line(LogLevel level, const char *event, std::initializer_list<LogField> fields);

}  // namespace clawvoice::launcher
