/* twilio-bench — the bridge that N emulated Twilio calls go through: clawvoice-launcher (the Twilio
 * route, pipelines/twilio.launch), or the plain Node.js bridge it is compared with
 * (node-bridge/bridge.mjs). Either is a fresh child process on 127.0.0.1 whose Realtime backend is
 * the simulator in the benchmark process; the benchmark only needs its pid (for /proc), where
 * Twilio posts the voice webhook, and what it counts of its own. */
#pragma once

#include <glib.h>

#include <memory>
#include <string>

namespace clawvoice::bench {

enum class BridgeKind { Launcher, NodeBridge };

struct BridgeSetup {
  std::string realtime_url;   /* the simulator's ws://127.0.0.1:PORT/v1/realtime */
  std::string api_key;        /* the simulator's key */
  std::string twilio_auth_token;
  size_t max_calls = 0;
};

class BridgeUnderTest {
 public:
  virtual ~BridgeUnderTest() = default;   /* stops the process if still running */
  virtual GPid pid() const = 0;
  /* Where the emulator posts the signed voice webhook (and the URL it signs). */
  virtual std::string voice_webhook_url() const = 0;
  /* Audio frames the bridge says it dropped (the launcher's clawvoice_audio_frames_dropped_total);
   * negative when the bridge does not count them. */
  virtual double dropped_frames() const = 0;
  /* Stops the process by its pid. */
  virtual void stop() = 0;
};

/* A started bridge, or nullptr with *error set. */
std::unique_ptr<BridgeUnderTest> start_bridge(BridgeKind kind, const BridgeSetup &setup,
                                              std::string *error);

/* What runs, for the benchmark's first line ("launcher /path/…", "node bridge /path/…"). */
std::string describe_bridge(BridgeKind kind);

}  // namespace clawvoice::bench
