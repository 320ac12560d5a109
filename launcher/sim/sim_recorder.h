/* clawvoice simulator — what the simulator saw and did, kept for tests to inspect.
 *
 * Written on the simulator's thread, read from any thread: every accessor copies under the lock. */
#pragma once

#include "realtime_simulator.h"

#include <mutex>
#include <string>
#include <vector>

namespace clawvoice::sim {

class Recorder {
 public:
  void add_received(ReceivedEvent event);
  void add_truncation(Truncation truncation);
  void add_error(ErrorSent error);
  void add_user_turn(UserTurn turn);
  void connection_opened();
  void connection_closed();
  void add_input_audio_us(int64_t us);
  void response_created();
  void response_done();
  /* The effective session and the conversation of connection @connection; the accessors return
   * those of the most recent connection. */
  void set_session(int connection, std::string json);
  void set_conversation(int connection, std::string json);

  std::vector<ReceivedEvent> received_events() const;
  std::vector<Truncation> truncations() const;
  std::vector<ErrorSent> errors_sent() const;
  std::vector<UserTurn> user_turns() const;
  int connections_accepted() const;
  int connections_open() const;
  int64_t input_audio_ms() const;
  int responses_in_flight() const;
  std::string session_json() const;
  std::string conversation_json() const;

 private:
  mutable std::mutex lock_;
  std::vector<ReceivedEvent> received_;
  std::vector<Truncation> truncations_;
  std::vector<ErrorSent> errors_;
  std::vector<UserTurn> turns_;
  int accepted_ = 0;
  int open_ = 0;
  int64_t input_audio_us_ = 0;
  int responses_in_flight_ = 0;
  int latest_connection_ = 0;
  std::string session_json_;
  std::string conversation_json_ = "[]";
};

}  // namespace clawvoice::sim
