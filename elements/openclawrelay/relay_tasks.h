/* clawvoice — openclawrelay's task board: the questions the voice handed to the agent, in flight.
 *
 * Each task is one gateway request with a status, a progress cue timer and a timeout timer. All of a
 * task's life after reserve() happens on the shared network thread (gateway callbacks and timers run
 * there), so statuses change in one place and cancel() can never race a late answer. The board talks
 * back through callbacks, also on the network thread: `say` (a system message for the voice model)
 * and `on_status` (every status change, for the bus). */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/net_thread.h"
#include "openclaw/gateway_client.h"
#include "openclawrelay/relay_settings.h"

namespace clawvoice::openclawrelay {

enum class TaskStatus { Pending, Running, Done, Failed, Cancelled, Timeout };
const char *task_status_name(TaskStatus status);   /* the CLAWVOICE_TASK_* names */

struct TaskSnapshot {
  guint id = 0;
  std::string call_id;
  TaskStatus status = TaskStatus::Pending;
  std::string question;
  std::string answer;   /* Done: the answer as handed to the voice (cleaned for speech) */
  std::string error;    /* Failed / Timeout / Cancelled: what went wrong */
  gint64 elapsed_ms = 0;
};

struct TaskBoardCallbacks {
  std::function<void(const std::string &text, bool urgent)> say;
  std::function<void(const TaskSnapshot &task)> on_status;
  /* A gateway failure, for the element's warning (after on_status). */
  std::function<void(const TaskSnapshot &task, const openclaw::GatewayError &error)> on_failure;
};

class TaskBoard {
 public:
  TaskBoard(std::shared_ptr<net::NetThread> net, std::shared_ptr<openclaw::GatewayClient> gateway,
      RelaySettings settings, TaskBoardCallbacks callbacks);
  ~TaskBoard();   /* implies close() */
  TaskBoard(const TaskBoard &) = delete;
  TaskBoard &operator=(const TaskBoard &) = delete;

  /* Any thread, never blocks: takes a slot for a new task (status pending, posted). Returns its id,
   * or 0 when max_tasks tasks are already active (then @active says how many). */
  guint reserve(const std::string &call_id, const std::string &question, guint *active = nullptr);
  /* Any thread, never blocks: sends the reserved task's question to the gateway. */
  void launch(guint task_id);
  /* Any thread, never blocks: the call ended; cancels every active task (status cancelled, nothing
   * said), then runs @then on the network thread with the final snapshot. */
  void hang_up(const std::string &why, std::function<void(std::vector<TaskSnapshot>)> then = nullptr);
  /* Like hang_up, then no callback runs any more. Waits for the network thread: state changes only. */
  void close(const std::string &why);

  std::vector<TaskSnapshot> snapshot() const;   /* any thread */
  guint active() const;                         /* pending + running, any thread */

  struct Core;   /* shared with the network thread's closures */

 private:
  std::shared_ptr<net::NetThread> net_;
  std::shared_ptr<Core> core_;
};

}  // namespace clawvoice::openclawrelay
