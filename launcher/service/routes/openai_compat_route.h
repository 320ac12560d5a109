/* clawvoice-launcher — an OpenAI-compatible chat endpoint in front of the agent (docs/openai.md),
 * for ElevenLabs Conversational AI's "custom LLM" and any other OpenAI client.
 *
 *   POST /v1/chat/completions   stream:true → SSE chat.completion.chunk events, then `data: [DONE]`;
 *                               otherwise one chat.completion object
 *   GET  /v1/models             the one model this endpoint serves (config `model`, "openclaw")
 *
 * Only the LAST user turn goes to the agent, into the configured OpenClaw session (`session_key`):
 * the caller's platform keeps its own copy of the conversation, which must not pile up in the
 * agent's memory. The answer streams back cleaned for speech (openai/speech_chunker.h). When the
 * agent says nothing for `filler_after_ms` a short filler (`filler`) goes out first, so the voice
 * never waits in silence (ElevenLabs gives up on a silent LLM).
 *
 * Bearer tokens from the config (several valid at once, for rotation); a wrong one is 401 in
 * OpenAI's error shape; repeated failures from one address and too many requests per token are 429
 * with Retry-After. Every request leaves one `openai_compat.request` audit line (which token by
 * index, never its value). */
#pragma once

#include <memory>
#include <string>

#include "openclaw/gateway_client.h"
#include "routes/openai_access.h"
#include "routes/route.h"

namespace clawvoice::launcher {

class OpenAICompatRoute : public Route {
 public:
  explicit OpenAICompatRoute(const RouteContext &context);
  ~OpenAICompatRoute() override;
  bool install(std::string *error) override;
  std::vector<std::string> banner() const override;

  struct Exchange;   /* one request being answered (network thread) */

 private:
  void on_completions(SoupServerMessage *message, const std::string &path);
  void on_models(SoupServerMessage *message, const std::string &path);
  /* Bearer, lock-out, rate limit; answers the refusal itself. Returns the token index or -1. */
  int admit(SoupServerMessage *message, const std::string &peer);

  const Config &config_;
  const RouteConfig &route_;
  HttpServer &server_;
  RateLimiter limiter_;
  AuthFailures failures_{10, 60};
  std::unique_ptr<openclaw::GatewayClient> client_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

/* {"error":{"message","type","param":null,"code"}} — OpenAI's error body. */
std::string openai_error_json(const std::string &message, const std::string &type, const std::string &code,
                              const std::string &param = "");

}  // namespace clawvoice::launcher
