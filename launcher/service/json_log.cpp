#include "json_log.h"

#include <json-glib/json-glib.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common/json.h"

namespace clawvoice::launcher {

static std::atomic<int> min_level{(int) LogLevel::Info};
static std::mutex write_lock;

static const char *level_name(LogLevel level)
{
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
  }
  return "info";
}

void set_log_level(const std::string &level)
{
  if (level == "debug") min_level = (int) LogLevel::Debug;
  else if (level == "warning") min_level = (int) LogLevel::Warning;
  else if (level == "error") min_level = (int) LogLevel::Error;
  else min_level = (int) LogLevel::Info;
}

std::string format_log_line(LogLevel level, const char *event, std::initializer_list<LogField> fields)
{
  GDateTime *now = g_date_time_new_now_utc();
  gchar *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
  gchar *stamp = g_strdup_printf("%s.%03dZ", ts, g_date_time_get_microsecond(now) / 1000);
  g_free(ts);
  g_date_time_unref(now);

  json::ObjectPtr line(json_object_new());
  json_object_set_string_member(line.get(), "ts", stamp);
  json_object_set_string_member(line.get(), "level", level_name(level));
  json_object_set_string_member(line.get(), "event", event);
  g_free(stamp);
  for (const LogField &f : fields) {
    if (const auto *s = std::get_if<std::string>(&f.value))
      json_object_set_string_member(line.get(), f.key.c_str(), s->c_str());
    else if (const auto *i = std::get_if<long long>(&f.value))
      json_object_set_int_member(line.get(), f.key.c_str(), *i);
    else if (const auto *d = std::get_if<double>(&f.value))
      json_object_set_double_member(line.get(), f.key.c_str(), *d);
    else
      json_object_set_boolean_member(line.get(), f.key.c_str(), std::get<bool>(f.value));
  }
  return json::to_string(line.get());
}

void log_event(LogLevel level, const char *event, std::initializer_list<LogField> fields)
{
  if ((int) level < min_level.load())
    return;
  std::string text = format_log_line(level, event, fields);
  std::lock_guard<std::mutex> lock(write_lock);
  fprintf(stdout, "%s\n", text.c_str());
  fflush(stdout);
}

}  // namespace clawvoice::launcher
