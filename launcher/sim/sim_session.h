/* clawvoice simulator — one WebSocket connection: the Realtime API's protocol state machine.
 *
 * Validates every client event against the schemas, keeps the effective session, the input audio
 * buffer with its server VAD, the conversation and the active response, and answers with the
 * events the service sends. Lives and dies on the simulator's thread; the code is split by
 * concern: sim_session.cpp (connection, dispatch, session.update, expiry),
 * sim_session_audio.cpp (input audio buffer, VAD, turns), sim_session_items.cpp (conversation
 * items, truncation), sim_session_responses.cpp (responses). */
#pragma once

#include "conversation.h"
#include "realtime_simulator.h"
#include "session_config.h"
#include "sim_events.h"
#include "sim_recorder.h"
#include "sim_response.h"
#include "speech_synth.h"
#include "voice_activity.h"

#include <libsoup/soup.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace clawvoice::sim {

/* What all connections of one simulator share. */
struct SimEnvironment {
  const Options &options;
  Recorder &recorder;
  SpeechSynthesizer &synth;
  std::atomic<int64_t> close_next_reply_after_ms{-1};   /* -1 = not armed */
  SimCalls *calls = nullptr;   /* OpenAI-hosted calls: what a sideband session saw goes on its record */
};

struct ConnectionInfo {
  int number = 0;            /* 1-based */
  std::string model = "gpt-realtime";
  std::string call_id;       /* non-empty: a sideband connection (events only, no audio) */
  bool beta = false;         /* the client sent `OpenAI-Beta: realtime=v1` */
  GSocket *socket = nullptr; /* the TCP socket under the WebSocket, for abrupt drops */
};

class SimSession : public ResponseHost {
 public:
  using ClosedFn = std::function<void(SimSession *)>;

  SimSession(SimEnvironment &env, SoupWebsocketConnection *conn, ConnectionInfo info,
             ClosedFn on_closed);
  ~SimSession() override;
  SimSession(const SimSession &) = delete;
  SimSession &operator=(const SimSession &) = delete;

  /* A sideband joins the session its call was accepted with (the accept's body, a GA session);
   * call before open(), so that session.created shows it. */
  void adopt_call_session(JsonObject *accepted);
  /* Sends session.created (or, for a beta client, the error and close 4000). */
  void open();
  bool is_open() const;
  int number() const { return info_.number; }

  /* The GMainContext the session lives in (its connection's, the thread-default when it was
   * made): its timers and its socket's sources are there. */
  GMainContext *context() const { return context_; }
  /* Runs @fn as the session's context: directly when that is the one running, else inline on the
   * simulator's thread with the session's context made current and woken afterwards, so that
   * whatever @fn attaches to it (a timer, a write that must wait) is seen. For code that runs for
   * another context (the server's) and touches the session. */
  void within(const std::function<void()> &fn);

  void close(gushort code, const char *reason);
  void drop();              /* the network "fails": no close frame */
  void expire();            /* error session_expired, then close */
  void shutdown();          /* the simulator stops: stop the response, close */
  void send_raw(const std::string &text);
  void send_error(const ErrorInfo &error);
  /* The caller of an OpenAI-carried call says @text (their audio never reaches a sideband): the
   * turn runs as if VAD had heard it — speech_started / _stopped, committed, the user item, its
   * transcription when configured, then the reply turn detection asks for. Returns false when
   * the session is closed. */
  bool caller_says(const std::string &text);

  /* ResponseHost */
  void emit(json::ObjectPtr event) override;
  void output_item_added(const ConversationItem &item, bool in_conversation) override;
  void output_item_done(const ConversationItem &item, bool in_conversation) override;
  bool audio_sent(const std::string &item_id, double total_ms, double delta_ms) override;
  void response_finished(const std::string &response_id) override;

 private:
  using Handler = bool (SimSession::*)(JsonObject *event, const std::string &event_id);

  /* sim_session.cpp */
  static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data);
  static void on_closed(SoupWebsocketConnection *conn, gpointer data);
  static gboolean on_expiry(gpointer data);
  void handle_text(const std::string &text);
  void handle_binary(size_t size);
  bool dispatch(const std::string &type, JsonObject *event, const std::string &event_id);
  bool fail(ErrorInfo error, const std::string &event_id);   /* sends it; returns false */
  bool handle_session_update(JsonObject *event, const std::string &event_id);
  void apply_session(json::ObjectPtr session);
  void publish_session();
  void publish_conversation();
  void stop_activity();

  /* sim_session_audio.cpp */
  bool handle_append(JsonObject *event, const std::string &event_id);
  bool handle_commit(JsonObject *event, const std::string &event_id);
  bool handle_clear(JsonObject *event, const std::string &event_id);
  void configure_input();
  void on_vad_event(const VadEvent &event);
  void commit_turn(const std::string &item_id, double start_ms, double end_ms, double speech_ms,
                   bool from_vad, const std::string *transcript = nullptr);
  void send_transcription(ConversationItem &item, const UserTurn &turn);

  /* sim_session_items.cpp */
  bool handle_item_create(JsonObject *event, const std::string &event_id);
  bool handle_item_delete(JsonObject *event, const std::string &event_id);
  bool handle_item_retrieve(JsonObject *event, const std::string &event_id);
  bool handle_truncate(JsonObject *event, const std::string &event_id);
  bool handle_output_buffer_clear(JsonObject *event, const std::string &event_id);
  void emit_item(const char *type, const std::string &previous_id, JsonObject *item);

  /* sim_session_responses.cpp */
  bool handle_response_create(JsonObject *event, const std::string &event_id);
  bool handle_response_cancel(JsonObject *event, const std::string &event_id);
  Reply reply_for_context(JsonObject *params);
  Reply reply_to_turn(const UserTurn &turn, JsonObject *params);
  void start_response(Reply reply, JsonObject *params);

  SimEnvironment &env_;
  const Options &options_;
  GMainContext *context_;
  SoupWebsocketConnection *conn_;
  ConnectionInfo info_;
  ClosedFn on_closed_;
  bool closed_ = false;
  bool dropped_ = false;
  GSource *expiry_ = nullptr;

  json::ObjectPtr session_;
  std::string conversation_id_;
  Conversation conversation_;
  bool assistant_audio_ = false;   /* the voice is fixed once the assistant has spoken */

  /* Input audio buffer (positions in ms on the input timeline). */
  AudioFormat input_format_;
  TurnDetection turn_detection_;
  std::unique_ptr<VoiceActivityDetector> vad_;
  double timeline_ms_ = 0;
  double buffer_start_ms_ = 0;
  std::string speech_item_id_;
  double speech_start_ms_ = 0;
  int turns_ = 0;
  std::map<std::string, UserTurn> turns_by_item_;

  std::unique_ptr<SimResponse> active_;
  std::unique_ptr<SimResponse> retired_;   /* the last finished one (may still be on the stack) */
  double reply_audio_ms_ = 0;
  int64_t last_input_tokens_ = 0;
};

}  // namespace clawvoice::sim
