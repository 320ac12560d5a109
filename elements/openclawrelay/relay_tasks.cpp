#include "openclawrelay/relay_tasks.h"

#include <map>
#include <mutex>

#include "openclaw/speech_text.h"
#include "openclawrelay/openclawrelay-messages.h"
#include "openclawrelay/relay_phrases.h"

namespace clawvoice::openclawrelay {

using openclaw::GatewayError;

const char *task_status_name(TaskStatus status)
{
  switch (status) {
    case TaskStatus::Pending: return CLAWVOICE_TASK_PENDING;
    case TaskStatus::Running: return CLAWVOICE_TASK_RUNNING;
    case TaskStatus::Done: return CLAWVOICE_TASK_DONE;
    case TaskStatus::Failed: return CLAWVOICE_TASK_FAILED;
    case TaskStatus::Cancelled: return CLAWVOICE_TASK_CANCELLED;
    case TaskStatus::Timeout: return CLAWVOICE_TASK_TIMEOUT;
  }
  return "unknown";
}

namespace {

bool is_active(TaskStatus s)
{
  return s == TaskStatus::Pending || s == TaskStatus::Running;
}

struct Task {
  TaskSnapshot info;
  gint64 started_us = 0;
  gint64 ended_us = 0;
  openclaw::GatewayClient::RequestId request = 0;
  guint progress_timer = 0;   /* network thread only */
  guint timeout_timer = 0;
};

}  // namespace

struct TaskBoard::Core {
  std::shared_ptr<net::NetThread> net;
  std::shared_ptr<openclaw::GatewayClient> gateway;
  RelaySettings settings;

  mutable std::mutex lock;   /* guards what follows */
  TaskBoardCallbacks callbacks;
  std::map<guint, Task> tasks;
  guint next_id = 1;
  bool closed = false;

  TaskSnapshot snapshot_of(const Task &t) const
  {
    TaskSnapshot s = t.info;
    gint64 end = t.ended_us ? t.ended_us : g_get_monotonic_time();
    s.elapsed_ms = (end - t.started_us) / 1000;
    return s;
  }

  TaskBoardCallbacks callbacks_copy() const
  {
    std::lock_guard<std::mutex> guard(lock);
    return callbacks;
  }

  void post(const TaskSnapshot &s) const
  {
    TaskBoardCallbacks cb = callbacks_copy();
    if (cb.on_status)
      cb.on_status(s);
  }

  /* Network thread. Ends an active task: its timers stop, its request is left alone (the caller
   * cancels it when it is still running). Returns false when it had already ended. */
  bool end(guint id, TaskStatus status, const std::string &answer, const std::string &error, TaskSnapshot *out)
  {
    std::lock_guard<std::mutex> guard(lock);
    auto it = tasks.find(id);
    if (it == tasks.end() || !is_active(it->second.info.status))
      return false;
    Task &t = it->second;
    net->cancel_timer(t.progress_timer);
    net->cancel_timer(t.timeout_timer);
    t.progress_timer = t.timeout_timer = 0;
    t.info.status = status;
    t.info.answer = answer;
    t.info.error = error;
    t.ended_us = g_get_monotonic_time();
    *out = snapshot_of(t);
    return true;
  }

  void say(const std::string &text, bool urgent) const
  {
    TaskBoardCallbacks cb = callbacks_copy();
    if (cb.say)
      cb.say(text, urgent);
  }

  void running(guint id)
  {
    TaskSnapshot s;
    {
      std::lock_guard<std::mutex> guard(lock);
      auto it = tasks.find(id);
      if (it == tasks.end() || it->second.info.status != TaskStatus::Pending)
        return;
      it->second.info.status = TaskStatus::Running;
      s = snapshot_of(it->second);
    }
    post(s);
  }

  void answered(guint id, const std::string &text)
  {
    std::string spoken = openclaw::clean_for_speech(text);
    if (spoken.empty()) {
      GatewayError e{openclaw::GatewayErrorKind::MalformedStream, 200, -1, "the agent's answer was empty"};
      failed(id, e);
      return;
    }
    TaskSnapshot s;
    if (!end(id, TaskStatus::Done, spoken, "", &s))
      return;
    /* Said first: the voice is what the caller waits for; the bus can follow. */
    say(answer_inject(s.question, spoken), settings.urgent);
    post(s);
  }

  void failed(guint id, const GatewayError &error)
  {
    std::string sentence = failure_sentence(error);
    TaskSnapshot s;
    if (!end(id, TaskStatus::Failed, "", std::string(openclaw::gateway_error_kind_name(error.kind)) + ": " +
            error.message, &s))
      return;
    say(failure_inject(s.question, sentence), settings.urgent);
    post(s);
    TaskBoardCallbacks cb = callbacks_copy();
    if (cb.on_failure)
      cb.on_failure(s, error);
  }

  void progress(guint id)
  {
    std::string question;
    {
      std::lock_guard<std::mutex> guard(lock);
      auto it = tasks.find(id);
      if (it == tasks.end() || !is_active(it->second.info.status))
        return;
      it->second.progress_timer = 0;   /* it fired: one cue per task */
      question = it->second.info.question;
    }
    /* Never urgent: a cue must not cut into the caller or a reply. */
    say(progress_inject(question, settings.progress_text), false);
  }

  void timed_out(guint id)
  {
    openclaw::GatewayClient::RequestId request = 0;
    {
      std::lock_guard<std::mutex> guard(lock);
      auto it = tasks.find(id);
      if (it == tasks.end())
        return;
      it->second.timeout_timer = 0;
      request = it->second.request;
    }
    TaskSnapshot s;
    if (!end(id, TaskStatus::Timeout, "", "no answer within " + std::to_string(settings.timeout_ms) + " ms", &s))
      return;
    if (request)
      gateway->cancel(request);   /* on the network thread: no callback of it runs after this */
    say(timeout_inject(s.question, settings.timeout_text), settings.urgent);
    post(s);
  }

  /* Network thread. */
  void cancel_active(const std::string &why)
  {
    std::vector<std::pair<guint, openclaw::GatewayClient::RequestId>> active;
    {
      std::lock_guard<std::mutex> guard(lock);
      for (auto &[id, t] : tasks)
        if (is_active(t.info.status))
          active.emplace_back(id, t.request);
    }
    for (auto [id, request] : active) {
      TaskSnapshot s;
      if (!end(id, TaskStatus::Cancelled, "", why, &s))
        continue;
      if (request)
        gateway->cancel(request);
      post(s);
    }
  }

  std::vector<TaskSnapshot> all() const
  {
    std::lock_guard<std::mutex> guard(lock);
    std::vector<TaskSnapshot> out;
    for (const auto &[id, t] : tasks)
      out.push_back(snapshot_of(t));
    return out;
  }
};

namespace {

void begin(const std::shared_ptr<TaskBoard::Core> &core, guint id)
{
  openclaw::ChatRequest request;
  TaskSnapshot pending;
  {
    std::lock_guard<std::mutex> guard(core->lock);
    auto it = core->tasks.find(id);
    if (core->closed || it == core->tasks.end() || it->second.info.status != TaskStatus::Pending)
      return;
    request.session_key = core->settings.session_key;
    if (!core->settings.question_system_prompt.empty())
      request.messages.push_back({"system", core->settings.question_system_prompt});
    request.messages.push_back({"user", it->second.info.question});
    pending = core->snapshot_of(it->second);
  }
  core->post(pending);

  /* Weak: the gateway client, owned by the core, keeps these callbacks. */
  std::weak_ptr<TaskBoard::Core> weak = core;
  openclaw::ChatCallbacks callbacks;
  callbacks.on_request_sent = [weak, id]() {
    if (auto c = weak.lock())
      c->running(id);
  };
  callbacks.on_done = [weak, id](const std::string &text) {
    if (auto c = weak.lock())
      c->answered(id, text);
  };
  callbacks.on_error = [weak, id](const GatewayError &error) {
    if (auto c = weak.lock())
      c->failed(id, error);
  };
  openclaw::GatewayClient::RequestId rid = core->gateway->chat(std::move(request), std::move(callbacks));

  const RelaySettings &s = core->settings;
  guint progress = 0, timeout = 0;
  if (s.progress_delay_ms > 0 && (s.timeout_ms == 0 || s.progress_delay_ms < s.timeout_ms)) {
    progress = core->net->add_timer(s.progress_delay_ms, [weak, id]() {
      if (auto c = weak.lock())
        c->progress(id);
    });
  }
  if (s.timeout_ms > 0) {
    timeout = core->net->add_timer(s.timeout_ms, [weak, id]() {
      if (auto c = weak.lock())
        c->timed_out(id);
    });
  }
  std::lock_guard<std::mutex> guard(core->lock);
  Task &t = core->tasks[id];
  t.request = rid;
  t.progress_timer = progress;
  t.timeout_timer = timeout;
}

}  // namespace

TaskBoard::TaskBoard(std::shared_ptr<net::NetThread> net, std::shared_ptr<openclaw::GatewayClient> gateway,
    RelaySettings settings, TaskBoardCallbacks callbacks)
    : net_(net), core_(std::make_shared<Core>())
{
  core_->net = std::move(net);
  core_->gateway = std::move(gateway);
  core_->settings = std::move(settings);
  core_->callbacks = std::move(callbacks);
}

TaskBoard::~TaskBoard()
{
  close("the relay stopped");
}

guint TaskBoard::reserve(const std::string &call_id, const std::string &question, guint *active)
{
  std::lock_guard<std::mutex> guard(core_->lock);
  guint running = 0;
  for (const auto &[id, t] : core_->tasks)
    running += is_active(t.info.status);
  if (active)
    *active = running;
  if (core_->closed || running >= core_->settings.max_tasks)
    return 0;
  guint id = core_->next_id++;
  Task &t = core_->tasks[id];
  t.info.id = id;
  t.info.call_id = call_id;
  t.info.question = question;
  t.started_us = g_get_monotonic_time();
  return id;
}

void TaskBoard::launch(guint task_id)
{
  std::shared_ptr<Core> core = core_;
  net_->invoke([core, task_id]() { begin(core, task_id); });
}

void TaskBoard::hang_up(const std::string &why, std::function<void(std::vector<TaskSnapshot>)> then)
{
  std::shared_ptr<Core> core = core_;
  net_->invoke([core, why, then = std::move(then)]() {
    core->cancel_active(why);
    if (then)
      then(core->all());
  });
}

void TaskBoard::close(const std::string &why)
{
  std::shared_ptr<Core> core = core_;
  {
    std::lock_guard<std::mutex> guard(core->lock);
    if (core->closed)
      return;
  }
  net_->invoke_sync([core, why]() {
    core->cancel_active(why);
    std::lock_guard<std::mutex> guard(core->lock);
    core->closed = true;
    core->callbacks = {};
  });
}

std::vector<TaskSnapshot> TaskBoard::snapshot() const
{
  return core_->all();
}

guint TaskBoard::active() const
{
  std::lock_guard<std::mutex> guard(core_->lock);
  guint n = 0;
  for (const auto &[id, t] : core_->tasks)
    n += is_active(t.info.status);
  return n;
}

}  // namespace clawvoice::openclawrelay
