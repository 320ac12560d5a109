/* clawvoice-launcher — the Twilio front door (docs/twilio.md; facts in Twilio's Media Streams docs).
 *
 *   POST /voice          the number's voice webhook: signature checked (X-Twilio-Signature over the
 *                        configured public URL), a call created, TwiML <Connect><Stream> answered
 *                        with a single-use token as a <Parameter> (Twilio forbids a query string)
 *   WS   /voice/stream   Twilio's media stream: `connected`, then `start` whose customParameters
 *                        carry the token; then the call's pipeline (pipelines/twilio.launch) is built
 *                        and its mulawbridge takes the socket over, with the `start` text. Each
 *                        stream lives on a network thread of the pool, and so does its call's whole
 *                        pipeline network work (net::NetThread::acquire_pooled())
 *   POST /status         signed status callbacks: a call Twilio reports over ends here too
 *
 * A token is good once, for one call, for kStreamWaitSeconds; a stream with another token is closed
 * with a policy error and logged, and affects no call. */
#pragma once

#include <gst/gst.h>

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "routes/route.h"

namespace clawvoice::launcher {

class TwilioRoute : public Route {
 public:
  explicit TwilioRoute(const RouteContext &context);
  ~TwilioRoute() override;
  bool install(std::string *error) override;
  /* Ends Twilio calls on `stop`, logs DTMF. */
  void on_call_message(const std::string &call_id, GstMessage *message) override;
  std::vector<std::string> banner() const override;

 private:
  struct StreamGreeting;
  void on_voice(SoupServerMessage *message, const std::string &path);
  void on_status(SoupServerMessage *message, const std::string &path);
  void on_stream(const std::shared_ptr<net::NetThread> &thread, ClawvoiceWebSocket *connection,
                 const std::string &peer);
  void on_stream_start(StreamGreeting *greeting, const std::string &start_text);
  std::string take_token(const std::string &token);   /* → call id, or "" */
  bool signed_by_twilio(SoupServerMessage *message, const std::string &path,
                        const std::vector<std::pair<std::string, std::string>> &params);

  const Config &config_;
  const RouteConfig &route_;
  CallManager &calls_;
  Metrics &metrics_;
  HttpServer &server_;
  std::mutex lock_;
  struct PendingStream { std::string call_id; gint64 expires_us; };
  std::map<std::string, PendingStream> tokens_;   /* single-use stream tokens → their call */
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);   /* for the server thread's callbacks */
  /* Media streams live on pool threads (HttpServer::add_pooled_websocket): their callbacks hold this
   * lock shared while they use the route (streams on different threads do not wait for each other),
   * and the destructor clears `route` under it exclusively. */
  struct StreamGate {
    std::shared_mutex lock;
    TwilioRoute *route;
  };
  std::shared_ptr<StreamGate> gate_;
};

}  // namespace clawvoice::launcher
