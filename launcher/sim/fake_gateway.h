/* clawvoice simulator — a fake OpenClaw gateway on the simulator's SoupServer.
 *
 * Serves `POST /v1/chat/completions` (streamed SSE answers without a final finish_reason chunk, or
 * plain chat.completion objects) and `POST /hooks/agent`, with the gateway's authentication, rate
 * limiting, agent and session selection and memory of earlier turns per session. The agent behind
 * it is programmable (AgentOptions::on_request) and can be slow or fail in the ways real ones do.
 *
 * Lives on the simulator's thread: attach() and shutdown() run there; the record accessors may be
 * called from any thread (they copy under a lock). */
#pragma once

#include "agent_options.h"
#include "gateway_request.h"

#include <libsoup/soup.h>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace clawvoice::sim {

class FakeGateway {
 public:
  explicit FakeGateway(AgentOptions options);
  ~FakeGateway();
  FakeGateway(const FakeGateway &) = delete;
  FakeGateway &operator=(const FakeGateway &) = delete;

  /* Adds the gateway's handlers to @server; timers go on @context (the server's). */
  void attach(SoupServer *server, GMainContext *context);
  /* Ends the answers in progress (their connections close); before the server goes away. */
  void shutdown();

  std::vector<AgentRequestRecord> requests() const;
  std::vector<AgentHookRecord> hooks() const;
  /* What the gateway remembers of a session (empty for an unknown key). */
  std::vector<AgentTurn> session(const std::string &session_key) const;

  /* For the answers' libsoup callbacks (sim thread). */
  struct Answer;   /* one answer being written */
  void update_record(size_t index, const std::function<void(AgentRequestRecord &)> &change);
  void finish_answer(Answer *answer);
  void remember(const std::string &session_key, AgentTurn turn);

 private:
  enum class Door { Open, Unauthorized, RateLimited };
  /* @allow_any: any non-empty bearer; @token_header: x-openclaw-token counts too (hooks). */
  Door check_auth(SoupServerMessage *msg, const std::string &token, bool allow_any,
                  bool token_header, int *retry_after_s);
  void handle_chat(SoupServerMessage *msg, const char *path);
  void handle_hook(SoupServerMessage *msg, const char *path);
  void start_answer(SoupServerMessage *msg, size_t record, const ChatCall &call,
                    const AgentRequest &request, const AgentReply &reply);
  void answer_whole(SoupServerMessage *msg, size_t record, const ChatCall &call,
                    const AgentRequest &request, const AgentReply &reply);
  void launch(Answer *answer, unsigned delay_ms);
  AgentReply reply_for(const AgentRequest &request);

  static void on_chat(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self);
  static void on_hook(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self);
  static void on_timer_step(Answer *answer);

  AgentOptions options_;
  GMainContext *context_ = nullptr;
  std::list<std::unique_ptr<Answer>> answers_;   /* sim thread only */
  int accepted_ = 0;                               /* sim thread only */
  struct Failures {
    unsigned count = 0;
    gint64 locked_until_us = 0;
  };
  std::map<std::string, Failures> failures_;      /* by client address; sim thread only */

  mutable std::mutex lock_;                        /* guards what follows */
  std::vector<AgentRequestRecord> records_;
  std::vector<AgentHookRecord> hooks_;
  std::map<std::string, std::vector<AgentTurn>> sessions_;
};

}  // namespace clawvoice::sim
