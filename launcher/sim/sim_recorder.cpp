#include "sim_recorder.h"

namespace clawvoice::sim {

using Guard = std::lock_guard<std::mutex>;

void Recorder::add_received(ReceivedEvent event)
{
  Guard g(lock_);
  received_.push_back(std::move(event));
}

void Recorder::response_created()
{
  Guard g(lock_);
  responses_in_flight_++;
}

void Recorder::response_done()
{
  Guard g(lock_);
  responses_in_flight_--;
}

int Recorder::responses_in_flight() const
{
  Guard g(lock_);
  return responses_in_flight_;
}

void Recorder::add_truncation(Truncation truncation)
{
  Guard g(lock_);
  truncations_.push_back(std::move(truncation));
}

void Recorder::add_error(ErrorSent error)
{
  Guard g(lock_);
  errors_.push_back(std::move(error));
}

void Recorder::add_user_turn(UserTurn turn)
{
  Guard g(lock_);
  turns_.push_back(std::move(turn));
}

void Recorder::connection_opened()
{
  Guard g(lock_);
  accepted_++;
  open_++;
}

void Recorder::connection_closed()
{
  Guard g(lock_);
  open_--;
}

void Recorder::add_input_audio_us(int64_t us)
{
  Guard g(lock_);
  input_audio_us_ += us;
}

void Recorder::set_session(int connection, std::string json)
{
  Guard g(lock_);
  if (connection < latest_connection_)
    return;
  if (connection > latest_connection_)
    conversation_json_ = "[]";
  latest_connection_ = connection;
  session_json_ = std::move(json);
}

void Recorder::set_conversation(int connection, std::string json)
{
  Guard g(lock_);
  if (connection < latest_connection_)
    return;
  latest_connection_ = connection;
  conversation_json_ = std::move(json);
}

std::vector<ReceivedEvent> Recorder::received_events() const
{
  Guard g(lock_);
  return received_;
}

std::vector<Truncation> Recorder::truncations() const
{
  Guard g(lock_);
  return truncations_;
}

std::vector<ErrorSent> Recorder::errors_sent() const
{
  Guard g(lock_);
  return errors_;
}

std::vector<UserTurn> Recorder::user_turns() const
{
  Guard g(lock_);
  return turns_;
}

int Recorder::connections_accepted() const
{
  Guard g(lock_);
  return accepted_;
}

int Recorder::connections_open() const
{
  Guard g(lock_);
  return open_;
}

int64_t Recorder::input_audio_ms() const
{
  Guard g(lock_);
  return input_audio_us_ / 1000;
}

std::string Recorder::session_json() const
{
  Guard g(lock_);
  return session_json_;
}

std::string Recorder::conversation_json() const
{
  Guard g(lock_);
  return conversation_json_;
}

}  // namespace clawvoice::sim
