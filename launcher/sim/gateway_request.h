/* clawvoice simulator — reading a request to the fake OpenClaw gateway as strictly as the gateway
 * does: the chat completions body, the agent (model / x-openclaw-agent-id) and the session
 * (x-openclaw-session-key / user). Pure functions, no libsoup, so they are unit-testable. */
#pragma once

#include "agent_options.h"

#include <string>
#include <vector>

namespace clawvoice::sim {

/* A refusal, answered as {"error":{"message":…,"type":…}} with @status. */
struct GatewayRefusal {
  unsigned status = 400;
  std::string message;
  std::string type = "invalid_request_error";
};

/* A chat completions body that passed validation. */
struct ChatCall {
  std::string model = "openclaw";
  bool stream = false;
  std::string user;                /* the OpenAI `user` field ("" when absent) */
  HeaderList messages;             /* (role, text) in order */
  std::string question;            /* the last user message */
  std::string system_prompt;
};

/* Validates the JSON body; false with @refusal filled when the gateway would refuse it. */
bool parse_chat_call(const std::string &body, ChatCall *call, GatewayRefusal *refusal);

/* The agent a request addresses: the header wins, then the model ("openclaw", "openclaw/default",
 * "openclaw/<id>", "openclaw:<id>", "agent:<id>"); the first of @agents is the default. False with
 * @refusal for a model that is no agent target or an agent that does not exist. */
bool resolve_agent(const std::string &header, const std::string &model,
                   const std::vector<std::string> &agents, std::string *agent_id,
                   GatewayRefusal *refusal);

/* The session: the header, else `agent:<id>:openai-user:<user>`, else a fresh
 * `agent:<id>:openai:<uuid>`. False with @refusal for reserved prefixes (subagent:, cron:, acp:). */
bool resolve_session(const std::string &header, const std::string &user,
                     const std::string &agent_id, std::string *session_key,
                     GatewayRefusal *refusal);

/* {"error":{"message":…,"type":…}} */
std::string gateway_error_body(const std::string &message, const std::string &type);

/* The gateway's body for an error status (401, 429, 500, …). */
std::string gateway_status_body(unsigned status);

}  // namespace clawvoice::sim
