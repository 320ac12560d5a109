#include "openclawrelay/relay_memory.h"

#include <gst/gst.h>

#include "openclawrelay/relay_phrases.h"

GST_DEBUG_CATEGORY_EXTERN(gst_openclaw_relay_debug);
#define GST_CAT_DEFAULT gst_openclaw_relay_debug

namespace clawvoice::openclawrelay {

std::string memory_context_message(const std::string &memory_dir, guint budget_tokens,
    std::vector<std::string> *sources, size_t *tokens, std::string *error)
{
  if (memory_dir.empty() || budget_tokens == 0)
    return "";
  openclaw::MemoryContext context = openclaw::load_memory_context(memory_dir, budget_tokens, error);
  if (sources)
    *sources = context.sources;
  if (tokens)
    *tokens = context.tokens;
  return context.text.empty() ? "" : memory_inject(context.text);
}

std::string record_call_end(const CallEndPlan &plan, const std::vector<TaskSnapshot> &tasks,
    std::shared_ptr<openclaw::GatewayClient> gateway, std::shared_ptr<net::NetThread> net, std::string *error)
{
  if (plan.memory_dir.empty() && !plan.post_transcript)
    return "";
  openclaw::CallRecord record = plan.record;
  record.started = plan.started.get();
  record.duration_ms = (g_get_monotonic_time() - plan.started_us) / 1000;
  for (const TaskSnapshot &t : tasks)
    record.tasks.push_back({t.question, task_status_name(t.status), t.status == TaskStatus::Done ? t.answer : t.error});
  std::string markdown = openclaw::format_call_record(record);

  std::string path;
  if (!plan.memory_dir.empty() && plan.started) {
    std::string e;
    if (openclaw::append_daily_note(plan.memory_dir, plan.started.get(), markdown, &e)) {
      path = openclaw::daily_file_path(plan.memory_dir, plan.started.get());
      GST_INFO("call %s: record appended to %s", record.call_id.c_str(), path.c_str());
    } else {
      GST_WARNING("call %s: memory file not written: %s", record.call_id.c_str(), e.c_str());
      if (error)
        *error = e;
    }
  }

  if (plan.post_transcript && gateway && net) {
    /* The hook outlives the element's call: hold the client until the gateway answered (bounded by
     * its connect timeout), and let it go outside its own callback. */
    auto holder = std::make_shared<std::shared_ptr<openclaw::GatewayClient>>(gateway);
    std::string call_id = record.call_id;
    gateway->post_agent_hook(plan.hooks_token, markdown, record.session_key,
        [holder, net, call_id](bool ok, const std::string &detail) {
          if (ok)
            GST_INFO("call %s: transcript handed to the agent (run %s)", call_id.c_str(), detail.c_str());
          else
            GST_WARNING("call %s: POST /hooks/agent failed: %s", call_id.c_str(), detail.c_str());
          std::shared_ptr<openclaw::GatewayClient> client = std::move(*holder);
          net->invoke([client]() mutable { client.reset(); });
        });
  }
  return path;
}

}  // namespace clawvoice::openclawrelay
