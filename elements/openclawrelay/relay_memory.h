/* clawvoice — openclawrelay and the agent's memory: context at call start, the call's record at its
 * end (memory/YYYY-MM-DD.md, and optionally POST /hooks/agent). See openclaw/memory_files.h.
 *
 * What the record holds: the relay sees the questions the voice handed to the agent and the answers,
 * not the whole conversation (realtimesink posts transcripts on the bus, which an element cannot
 * read). So the record is those requests and answers with a one-line summary. */
#pragma once

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

#include "openclaw/gateway_client.h"
#include "openclaw/memory_files.h"
#include "openclawrelay/relay_tasks.h"

namespace clawvoice::openclawrelay {

/* The system message with the memory context for the voice model, or "" when there is none.
 * @sources / @tokens / @error report what was read, for the log. */
std::string memory_context_message(const std::string &memory_dir, guint budget_tokens,
    std::vector<std::string> *sources, size_t *tokens, std::string *error);

/* What is known of a call when it starts; completed with its tasks when it ends. */
struct CallEndPlan {
  std::string memory_dir;        /* "" = write no memory file */
  bool post_transcript = false;  /* POST /hooks/agent with the record */
  std::string hooks_token;
  openclaw::CallRecord record;   /* call id, caller, session key (started is set from @started) */
  std::shared_ptr<GDateTime> started;
  gint64 started_us = 0;         /* monotonic */
};

/* Writes the record of the call to the day's file and, when asked, hands it to the agent through
 * @gateway (kept alive until the hook is answered). Any thread; does file I/O. Returns the path
 * written, "" when none (errors go to the log and @error). */
std::string record_call_end(const CallEndPlan &plan, const std::vector<TaskSnapshot> &tasks,
    std::shared_ptr<openclaw::GatewayClient> gateway, std::shared_ptr<net::NetThread> net, std::string *error);

}  // namespace clawvoice::openclawrelay
