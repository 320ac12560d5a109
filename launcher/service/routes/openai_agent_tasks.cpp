#include "routes/openai_agent_tasks.h"

#include "json_log.h"
#include "openai/random_token.h"
#include "openclaw/speech_text.h"

namespace clawvoice::launcher {

const char *const kVoiceAnswerPrompt =
    "This request comes from a live voice conversation (channel: voice). Your answer will be read aloud by a "
    "voice assistant: answer in one to three short spoken sentences of plain text, with no markdown, lists, "
    "tables, code, emojis or URLs.";

AgentTasks::AgentTasks(std::shared_ptr<net::NetThread> thread, const AgentEndpoint &agent) : agent_id_(agent.agent_id)
{
  openclaw::GatewayOptions options;
  options.base_url = agent.url;
  options.token = agent.token;
  options.agent_id = agent.agent_id;
  options.message_channel = "voice";
  client_ = std::make_unique<openclaw::GatewayClient>(std::move(thread), options);
}

AgentTasks::~AgentTasks()
{
  client_.reset();   /* cancels what is in flight; no callback after this */
  *alive_ = false;
}

std::string AgentTasks::session_key_for(const std::string &session_id) const
{
  std::string clean;
  for (char c : session_id)
    if (g_ascii_isalnum(c) || c == '-' || c == '_')
      clean += c;
  if (clean.size() > 64)
    clean.resize(64);
  return "agent:" + agent_id_ + ":voice:direct:" + (clean.empty() ? "anonymous" : clean);
}

std::string AgentTasks::start(const std::string &message, const std::string &session_id,
                              std::function<void(const AgentTaskResult &)> on_finished)
{
  const gint64 now = g_get_monotonic_time();
  AgentTaskResult task;
  task.id = "task_" + openai::random_hex(12);
  task.session_id = session_id;
  task.status = "running";
  task.started_us = now;
  {
    std::lock_guard<std::mutex> guard(lock_);
    forget_old(now);
    tasks_[task.id] = task;
  }
  std::string id = task.id;
  auto finish = [this, alive = alive_, id, on_finished](const std::string &status, const std::string &text,
                                                        const std::string &error) {
    if (!*alive)
      return;
    AgentTaskResult done;
    {
      std::lock_guard<std::mutex> guard(lock_);
      auto it = tasks_.find(id);
      if (it == tasks_.end())
        return;
      it->second.status = status;
      it->second.text = text;
      it->second.error = error;
      it->second.finished_us = g_get_monotonic_time();
      done = it->second;
    }
    log_event(status == "done" ? LogLevel::Info : LogLevel::Warning, "openai.task_finished",
              {{"task_id", id}, {"status", status}, {"elapsed_ms", (long long) ((done.finished_us - done.started_us) / 1000)},
               {"error", error}});
    if (on_finished)
      on_finished(done);
  };
  openclaw::ChatRequest request;
  request.session_key = session_key_for(session_id);
  request.messages = {{"system", kVoiceAnswerPrompt}, {"user", message}};
  openclaw::ChatCallbacks callbacks;
  callbacks.on_done = [finish](const std::string &text) { finish("done", openclaw::clean_for_speech(text), ""); };
  callbacks.on_error = [finish](const openclaw::GatewayError &error) {
    finish("failed", "", std::string(openclaw::gateway_error_kind_name(error.kind)) + ": " + error.message);
  };
  client_->chat(std::move(request), std::move(callbacks));
  return id;
}

bool AgentTasks::result(const std::string &id, AgentTaskResult *out) const
{
  std::lock_guard<std::mutex> guard(lock_);
  auto it = tasks_.find(id);
  if (it == tasks_.end())
    return false;
  *out = it->second;
  return true;
}

void AgentTasks::forget_old(gint64 now)
{
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    bool expired = it->second.finished_us && now - it->second.finished_us > (gint64) kKeepSeconds * G_USEC_PER_SEC;
    it = expired ? tasks_.erase(it) : std::next(it);
  }
  while (tasks_.size() >= kMaxTasks) {
    /* Still too many (a flood): the oldest started goes first. */
    auto oldest = tasks_.begin();
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it)
      if (it->second.started_us < oldest->second.started_us)
        oldest = it;
    tasks_.erase(oldest);
  }
}

}  // namespace clawvoice::launcher
