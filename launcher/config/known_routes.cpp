/* clawvoice — the routes the launcher knows. */
#include "known_routes.h"

#include <string>

#include "config.h"

namespace clawvoice::launcher {

const std::vector<RouteSpec> &known_routes()
{
  static const std::vector<RouteSpec> routes = {
    /* Twilio Media Streams: POST /voice (signed webhook), WS /voice/stream, POST /status. */
    {"twilio", "twilio.launch", true, true},
    /* Browser WebRTC: POST /api/session, WS /signal, the voice page at / (docs/browser.md). */
    {"browser", "browser.launch", false, false},
    /* OpenAI-hosted calls: POST /openai/webhook, sideband pipelines, /api/token|send|result, WS /ws
     * (docs/openai.md). */
    {"openai", "openai-sideband.launch", false, false},
    /* OpenAI-compatible chat for ElevenLabs and other OpenAI clients: /v1/chat/completions, /v1/models.
     * It builds no pipeline; its launch file is never used. */
    {"openai_compat", "openai-sideband.launch", false, false},
    /* SIP over UDP: INVITE → 200 with an SDP answer, RTP per call (docs/sip.md). */
    {"sip", "sip.launch", false, false},
  };
  return routes;
}

std::vector<std::string> known_route_names()
{
  std::vector<std::string> names;
  for (const RouteSpec &spec : known_routes())
    names.push_back(spec.name);
  return names;
}

}  // namespace clawvoice::launcher
