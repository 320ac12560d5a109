/* clawvoice — a client of the OpenClaw gateway's HTTP API (see docs: openai-http-api.md).
 *
 * chat() asks the agent a question through the OpenAI-compatible `POST /v1/chat/completions` with
 * `stream: true` and hands back the answer as it streams (SSE); post_agent_hook() hands the agent
 * an event through `POST /hooks/agent` (fire-and-forget: no answer text comes back).
 *
 * Everything runs on the shared network thread (one SoupSession, many requests in flight); every
 * method may be called from any thread and returns at once. Callbacks run on the network thread.
 *
 * Timeouts: connect_timeout_s bounds the connection AND the wait for the response headers (the
 * gateway sends those at once, before the agent starts). The answer itself may take minutes (tools,
 * sub-agents), so the body has no timeout here: the caller's own task timeout calls cancel(). */
#pragma once

#include <glib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/latency_stats.h"
#include "net/net_thread.h"

namespace clawvoice::openclaw {

struct GatewayOptions {
  std::string base_url = "http://127.0.0.1:18789";   /* no trailing slash */
  std::string token;                  /* bearer; never logged */
  std::string agent_id = "main";      /* sent as model "openclaw" + header x-openclaw-agent-id */
  std::string message_channel = "voice";   /* x-openclaw-message-channel */
  unsigned connect_timeout_s = 10;
};

struct ChatMessage {
  std::string role;      /* "system" | "user" | "assistant" */
  std::string content;
};

struct ChatRequest {
  std::string session_key;            /* x-openclaw-session-key (required: a voice conversation pins one) */
  std::vector<ChatMessage> messages;  /* the last "user" message is the turn */
};

enum class GatewayErrorKind {
  Unauthorized,      /* 401 (or 403): wrong gateway token */
  RateLimited,       /* 429; retry_after_s from Retry-After when given */
  ServerError,       /* 5xx, or an error object inside the stream */
  Refused,           /* no connection: refused, unreachable, unknown host */
  Timeout,           /* no response headers within connect_timeout_s */
  MalformedStream,   /* 200 but not text/event-stream, bad JSON in a chunk, stream cut short */
  BadRequest,        /* other 4xx (unknown agent, refused session key…), or refused client-side */
  Cancelled,         /* never reported through on_error (cancel() is silent); for callers' own use */
};
const char *gateway_error_kind_name(GatewayErrorKind kind);

struct GatewayError {
  GatewayErrorKind kind;
  guint http_status = 0;       /* 0 when the gateway never answered */
  int retry_after_s = -1;      /* RateLimited: seconds from Retry-After, -1 when absent */
  std::string message;         /* for humans and logs; never holds the token */
};

struct ChatCallbacks {                /* all run on the network thread */
  std::function<void()> on_request_sent;                 /* request headers handed to the socket */
  std::function<void(const std::string &delta)> on_delta;
  std::function<void(const std::string &full_text)> on_done;   /* [DONE] or clean end of stream */
  std::function<void(const GatewayError &error)> on_error;     /* exactly one of on_done/on_error, never after cancel() */
};

class GatewayClient {
 public:
  GatewayClient(std::shared_ptr<net::NetThread> thread, GatewayOptions options);
  ~GatewayClient();                  /* cancels everything; no callback after it returns */
  GatewayClient(const GatewayClient &) = delete;
  GatewayClient &operator=(const GatewayClient &) = delete;

  using RequestId = guint64;
  /* Any thread, never blocks; stream:true. Ids start at 1 (0 is never a request). */
  RequestId chat(ChatRequest request, ChatCallbacks callbacks);
  /* Any thread; aborts the HTTP request (the gateway sees the connection close). No callback of
   * that request runs once the network thread has processed the cancel; call it from the network
   * thread (e.g. from a callback) to be sure none runs after it returns. Unknown ids are ignored. */
  void cancel(RequestId id);
  void cancel_all();

  /* POST /hooks/agent {"message","name":"Voice","sessionKey"?} with bearer hooks token; result via
   * @done(ok, detail) on the net thread: detail is the runId when ok, else what went wrong. */
  void post_agent_hook(const std::string &hooks_token, const std::string &message,
                       const std::string &session_key,
                       std::function<void(bool ok, const std::string &detail)> done);

  /* Opens a connection to the gateway ahead of the first question, so that question does not
   * wait for a TCP handshake. Optional; nothing is reported, a gateway that is down is no error. */
  void preconnect();

  /* Requests (chats and hooks) started and not yet finished or cancelled. */
  guint in_flight() const { return in_flight_.load(); }
  /* Time from chat() to the request headers handed to the socket (µs), for stats and benchmarks. */
  const LatencyStats &send_delay() const { return send_delay_; }

  struct State;   /* libsoup side, network thread only (public for the C callbacks) */

 private:
  std::shared_ptr<net::NetThread> thread_;
  std::shared_ptr<State> state_;
  std::atomic<RequestId> next_id_{1};
  std::atomic<guint> in_flight_{0};
  LatencyStats send_delay_;
};

/* Text of the request body chat() sends (for tests and the log, never with the token). */
std::string build_chat_body(const GatewayOptions &options, const ChatRequest &request);

/* Why a session key is refused (the gateway reserves `subagent:`, `cron:`, `acp:`), or "" if it
 * is fine. Empty keys are refused too: without one every turn would start a fresh session. */
std::string session_key_problem(const std::string &session_key);

}  // namespace clawvoice::openclaw
