/* clawvoice simulator — one response of the simulated model, from response.created to
 * response.done: a spoken (or written) reply streamed in timed bursts, or a function call.
 *
 * The audio is synthesised on a worker while the "thinking" delay runs; then deltas of
 * Options::delta_ms of audio leave every delta_ms / burst_speed milliseconds (faster than real
 * time, as the service does). A response can be cancelled at any point (it still ends with
 * output_audio.done / output_item.done / response.done, status "cancelled") or aborted silently
 * when its connection goes away. Everything runs on the simulator's GMainContext. */
#pragma once

#include "audio_format.h"
#include "common/json.h"
#include "conversation.h"
#include "realtime_simulator.h"
#include "speech_synth.h"

#include <gio/gio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace clawvoice::sim {

/* What the response needs from its session. */
class ResponseHost {
 public:
  virtual ~ResponseHost() = default;
  virtual void emit(json::ObjectPtr event) = 0;
  /* An output item starts / ends: the session updates its conversation (unless the response is
   * out of band) and sends conversation.item.added / .done. */
  virtual void output_item_added(const ConversationItem &item, bool in_conversation) = 0;
  virtual void output_item_done(const ConversationItem &item, bool in_conversation) = 0;
  /* @total_ms of audio now sent for @item_id. Returns false to stop at once (the connection was
   * dropped): the response then sends nothing more. */
  virtual bool audio_sent(const std::string &item_id, double total_ms, double delta_ms) = 0;
  virtual void response_finished(const std::string &response_id) = 0;
};

struct ResponsePlan {
  Reply reply;
  bool text_only = false;
  bool send_audio = true;          /* false on sideband connections: the call carries the audio */
  bool in_conversation = true;     /* response.conversation "none" → out of band */
  AudioFormat format;
  std::string voice = "marin";
  double speed = 1.0;
  std::string conversation_id;
  json::ObjectPtr metadata;        /* may be null */
  int64_t input_text_tokens = 0;
  int64_t input_audio_tokens = 0;
  int64_t cached_tokens = 0;
  unsigned delta_ms = 200;
  unsigned response_delay_ms = 150;
  double burst_speed = 4.0;
};

class SimResponse {
 public:
  SimResponse(ResponseHost &host, SpeechSynthesizer &synth, ResponsePlan plan);
  ~SimResponse();   /* aborts silently if still running */
  SimResponse(const SimResponse &) = delete;
  SimResponse &operator=(const SimResponse &) = delete;

  const std::string &id() const { return id_; }
  /* Sends response.created and starts thinking / synthesising. */
  void start();
  /* Ends now with status "cancelled" (reason turn_detected | client_cancelled). */
  void cancel(const char *reason);
  /* Stops silently: no more events (the connection is gone). */
  void abort();
  bool finished() const { return stage_ == Stage::Finished; }

 private:
  enum class Stage { Thinking, Streaming, Finished };

  json::ObjectPtr response_json(const char *status, const char *reason) const;
  json::ObjectPtr item_event(const char *type, bool with_content_index) const;
  void on_synthesised(std::vector<int16_t> pcm);
  void maybe_begin();
  void begin_message();
  void call_tool();
  void stream_tick();
  void send_transcript_up_to(size_t words);
  void end_message(const char *item_status);
  void finish(const char *status, const char *reason);
  void schedule(unsigned interval_ms);   /* one-shot while thinking, repeating while streaming */
  void clear_timer();
  static gboolean on_timer(gpointer data);

  ResponseHost &host_;
  SpeechSynthesizer &synth_;
  ResponsePlan plan_;
  std::string id_;
  Stage stage_ = Stage::Thinking;
  GCancellable *cancellable_ = nullptr;
  GSource *timer_ = nullptr;
  bool delay_elapsed_ = false;
  bool audio_ready_ = false;

  ConversationItem item_;          /* the output item (empty id until it is added) */
  std::vector<int16_t> pcm_;       /* the whole reply at format.rate() */
  std::vector<std::string> words_; /* the reply text, word by word (with trailing spaces) */
  size_t chunks_total_ = 0;
  size_t chunks_sent_ = 0;
  size_t words_sent_ = 0;
  double audio_sent_ms_ = 0;
  bool content_started_ = false;
  json::ArrayPtr output_;          /* finished output items, for response.done */
};

}  // namespace clawvoice::sim
