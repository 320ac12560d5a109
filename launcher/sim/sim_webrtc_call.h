/* clawvoice simulator — one browser-direct WebRTC call (`POST /v1/realtime/calls`), as OpenAI's
 * WebRTC mode carries it: Opus audio both ways on one sendrecv track, the Realtime JSON events on the
 * data channel `oai-events` the browser opened.
 *
 * The call does not re-implement the model: it is a bridge into an ordinary simulator session. It
 * opens a WebSocket to the simulator's own /v1/realtime with the browser's key (so the door, the
 * validation and the whole SimSession state machine are the same as for any WebSocket client),
 * configures it with the client secret's session, and then
 *
 *   browser Opus  → webrtcbin → opusdec → 24 kHz PCM → input_audio_buffer.append  → session
 *   session response.output_audio.delta → 24 kHz PCM → appsrc → clocksync → opusenc → webrtcbin
 *   data channel text  ⇄  session events (the audio deltas excepted: they travel as RTP)
 *
 * and adds what only the WebRTC mode has: output_audio_buffer.started / .stopped around the audio
 * the browser actually plays, .cleared when a barge-in flushes it.
 *
 * The answer is not trickled: the HTTP answer is the only signalling, so it waits for webrtcbin to
 * finish gathering and carries every local candidate. Lives on the simulator's thread; GStreamer's
 * threads only hop onto it. */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace clawvoice::sim {

struct WebRtcCallSetup {
  std::string call_id;          /* rtc_… */
  std::string offer_sdp;
  int opus_payload_type = 111;  /* the offer's (webrtcbin answers recvonly on any other) */
  std::string key;              /* the bearer the browser used; the bridge's WebSocket uses it too */
  std::string session_json;     /* GA session to apply (the client secret's), "" = defaults */
  std::string model = "gpt-realtime";
  std::string realtime_url;     /* ws://host:port/v1/realtime of this simulator */
  std::string ice_address;      /* local address for ICE ("" = libnice's own choice) */
};

class SimWebRtcCall : public std::enable_shared_from_this<SimWebRtcCall> {
 public:
  /* @ok: the SDP answer (with candidates) or, when !ok, why there is none. */
  using AnsweredFn = std::function<void(bool ok, const std::string &sdp_or_error)>;
  using EndedFn = std::function<void(const std::string &call_id, const std::string &reason)>;

  static std::shared_ptr<SimWebRtcCall> create(WebRtcCallSetup setup, GMainContext *context, EndedFn ended);
  ~SimWebRtcCall();

  /* Sim thread: builds the pipeline, answers the offer; @answered runs once, on the sim thread. */
  void start(AnsweredFn answered);
  /* Sim thread: ends the call (idempotent); the ended callback runs once. */
  void end(const std::string &reason);

  const std::string &id() const { return setup_.call_id; }
  bool ended() const { return ended_; }

 private:
  enum class Bridge { Connecting, Configuring, Ready, Closed };

  SimWebRtcCall(WebRtcCallSetup setup, GMainContext *context, EndedFn ended);
  void hop(std::function<void(SimWebRtcCall &)> fn);   /* any thread → sim thread */
  bool build_pipeline(std::string *error);
  void negotiate();
  void candidate_gathered(guint mline, const std::string &candidate);
  void gathering_done();
  void send_answer();
  void connection_state(int state);
  void data_channel(GstObject *channel);
  void channel_open();
  void channel_text(const std::string &text);
  void connect_model();
  static void on_model_connected(GObject *source, GAsyncResult *result, gpointer data);
  static void on_model_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data);
  static void on_model_closed(SoupWebsocketConnection *, gpointer data);
  void model_event(const std::string &text);
  void to_model(const std::string &text);
  void to_page(const std::string &text);
  void play(const std::string &pcm_base64, const std::string &response_id);
  void playout_over(const std::string &response_id);
  void flush_playout();
  GstClockTime running_time() const;
  void mic_pcm(const guint8 *data, gsize size);   /* streaming thread */

  WebRtcCallSetup setup_;
  GMainContext *context_;
  EndedFn ended_fn_;
  AnsweredFn answered_;
  bool ended_ = false;

  GstElement *pipeline_ = nullptr, *webrtc_ = nullptr, *out_ = nullptr, *in_ = nullptr;
  GstObject *channel_ = nullptr;                       /* GstWebRTCDataChannel */
  guint bus_watch_ = 0;
  std::vector<std::pair<guint, std::string>> candidates_;
  std::string answer_sdp_;
  bool answer_set_ = false, gathered_ = false;
  GSource *answer_timer_ = nullptr;

  SoupSession *soup_ = nullptr;
  SoupWebsocketConnection *model_ = nullptr;
  GCancellable *cancel_ = nullptr;
  Bridge bridge_ = Bridge::Connecting;
  std::deque<std::string> for_model_;                  /* page events waiting for the session */
  std::deque<std::string> for_page_;                   /* session events waiting for the channel */
  bool channel_open_ = false;

  GstClockTime next_pts_ = 0;                          /* end of the audio queued to play */
  std::string speaking_response_;                      /* output_audio_buffer.started sent for it */
  GSource *stopped_timer_ = nullptr;
  /* Barge-in: audio queued before the latest clear is dropped on its way out (buffer offset). */
  std::shared_ptr<std::atomic<guint64>> generation_ = std::make_shared<std::atomic<guint64>>(0);

  std::mutex mic_lock_;
  std::string mic_pending_;                            /* PCM not yet sent (< 100 ms) */
};

}  // namespace clawvoice::sim
