/* clawvoice simulator — the programmable OpenClaw agent behind the fake gateway, and what the fake
 * gateway records for tests (see fake_gateway.h and docs/simulator.md, "The fake OpenClaw gateway"). */
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace clawvoice::sim {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/* A failure the agent's answer runs into, instead of (or part-way through) a normal answer. */
struct AgentFault {
  enum class Kind {
    None,
    HttpStatus,      /* answer @status with @body (and Retry-After when @retry_after_s >= 0) */
    GarbageStream,   /* after @after_chunks content chunks, a data line that is not JSON, then [DONE] */
    DropMidStream,   /* after @after_chunks content chunks, the socket is shut (no [DONE], no chunk end) */
    Hang,            /* accept the request and never answer, not even headers */
    EndWithoutDone,  /* all content, a finish_reason:"stop" chunk, a clean end without [DONE] */
  } kind = Kind::None;
  unsigned status = 500;
  std::string body;            /* empty: the gateway's own body for @status */
  int retry_after_s = -1;
  unsigned after_chunks = 1;
};

/* How the agent answers one request. */
struct AgentReply {
  std::string text;                  /* empty: the default answer (see AgentOptions::reply_text) */
  unsigned first_chunk_delay_ms = 0; /* thinking time; the SSE headers go out at once */
  unsigned chunk_interval_ms = 0;
  unsigned chunk_chars = 24;         /* content per chunk (split at a character boundary); 0 = one chunk */
  AgentFault fault;
};

/* One earlier turn of a session, as the gateway remembers it. */
struct AgentTurn {
  std::string question;
  std::string answer;
};

/* What the agent is asked, after the gateway resolved agent and session. */
struct AgentRequest {
  int index = 0;                      /* 0-based count of accepted chat requests */
  std::string agent_id;
  std::string session_key;
  std::string message_channel;        /* x-openclaw-message-channel, default "webchat" */
  std::string question;               /* the last user message: the turn */
  std::string system_prompt;          /* system/developer messages, joined with a blank line */
  HeaderList messages;                /* (role, text) as sent, history included */
  std::vector<AgentTurn> history;     /* what this session remembers from earlier requests */
  bool stream = false;
};

struct AgentOptions {
  std::string token;                  /* bearer for /v1/chat/completions; empty = any non-empty bearer */
  std::string hooks_token;            /* bearer (or x-openclaw-token) for /hooks/agent; empty = hooks off (404) */
  std::vector<std::string> agents = {"main"};   /* known agent ids; the first is the default agent */
  unsigned max_auth_failures = 5;     /* failed auths from one address before it gets 429 */
  unsigned lockout_s = 60;            /* how long those 429s last (their Retry-After) */
  /* Defaults of the built-in agent (also the starting point handed to on_request's answer): */
  std::string reply_text;             /* empty: "You asked: <question>. Here is the answer." */
  unsigned first_chunk_delay_ms = 0;
  unsigned chunk_interval_ms = 0;
  /* The agent's behaviour, on the simulator's thread (keep it quick; use the reply's delays to be
   * slow). Default: the built-in agent. A reply with empty text gets the default answer. */
  std::function<AgentReply(const AgentRequest &)> on_request;
};

/* One request to the gateway's chat endpoint, as the fake gateway saw and answered it. */
struct AgentRequestRecord {
  int number = 0;                     /* 1-based, every request including refused ones */
  std::string method;
  std::string path;
  HeaderList headers;                 /* as received, Authorization's value masked */
  std::string body;
  std::string agent_id;               /* resolved ("" when refused before that) */
  std::string session_key;            /* resolved */
  std::string message_channel;
  std::string question;
  bool stream = false;
  unsigned status = 0;                /* HTTP status answered (0 while hanging) */
  std::string error;                  /* the error message answered, if any */
  std::string answer;                 /* the text of the answer sent so far */
  int64_t received_us = 0;            /* g_get_monotonic_time() when the request was handled */
  int64_t last_chunk_us = 0;          /* when the last chunk ([DONE]) was written to the socket */
  bool completed = false;             /* the whole answer was written */
  bool client_closed = false;         /* the client closed the connection before the end */
};

/* One POST /hooks/agent. */
struct AgentHookRecord {
  HeaderList headers;                 /* Authorization / x-openclaw-token masked */
  std::string body;
  std::string message;
  std::string name;
  std::string session_key;
  unsigned status = 0;
  std::string run_id;                 /* when accepted */
  int64_t received_us = 0;
};

}  // namespace clawvoice::sim
