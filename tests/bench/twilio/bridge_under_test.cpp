#include "bridge_under_test.h"

#include "launcher_process.h"
#include "node_bridge_process.h"
#include "process_sample.h"

using clawvoice::test::launcher::LauncherProcess;

namespace clawvoice::bench {

namespace {

const char kControlToken[] = "bench-control-token-0123456789";

class LauncherBridge : public BridgeUnderTest {
 public:
  explicit LauncherBridge(const BridgeSetup &s)
      : process_(std::string(R"({
    "server": { "listen": "127.0.0.1:0", "control_token": ")") + kControlToken + R"(" },
    "calls": { "max_concurrent": )" + std::to_string(s.max_calls) + R"( },
    "realtime": { "backend": "openai", "url": ")" + s.realtime_url + R"(", "api_key": ")" + s.api_key + R"(" },
    "routes": { "twilio": { "auth_token": ")" + s.twilio_auth_token + R"(" } }
  })")
  {
  }
  bool started() const { return process_.started(); }
  std::string start_error() const { return process_.start_error(); }

  GPid pid() const override { return process_.pid(); }
  std::string voice_webhook_url() const override { return process_.url("/voice"); }
  double dropped_frames() const override
  {
    return prometheus_value(process_.get("/metrics", kControlToken).body,
                            "clawvoice_audio_frames_dropped_total");
  }
  void stop() override { process_.stop(); }

 private:
  LauncherProcess process_;
};

class NodeBridge : public BridgeUnderTest {
 public:
  explicit NodeBridge(const BridgeSetup &s) : process_(s.realtime_url, s.api_key) {}
  bool started() const { return process_.started(); }
  std::string start_error() const { return process_.start_error(); }

  GPid pid() const override { return process_.pid(); }
  /* The sample's webhook; it does not check Twilio's signature. */
  std::string voice_webhook_url() const override { return process_.url("/incoming-call"); }
  double dropped_frames() const override { return -1; }
  void stop() override { process_.stop(); }

 private:
  NodeBridgeProcess process_;
};

template <typename Bridge>
std::unique_ptr<BridgeUnderTest> started_or_error(std::unique_ptr<Bridge> bridge, std::string *error)
{
  if (bridge->started())
    return bridge;
  *error = bridge->start_error();
  return nullptr;
}

}  // namespace

std::unique_ptr<BridgeUnderTest> start_bridge(BridgeKind kind, const BridgeSetup &setup,
                                              std::string *error)
{
  if (kind == BridgeKind::NodeBridge)
    return started_or_error(std::make_unique<NodeBridge>(setup), error);
  return started_or_error(std::make_unique<LauncherBridge>(setup), error);
}

std::string describe_bridge(BridgeKind kind)
{
  if (kind == BridgeKind::NodeBridge)
    return "node bridge " + node_bridge_dir() + "/bridge.mjs";
  return "launcher " + test::launcher::launcher_binary();
}

}  // namespace clawvoice::bench
