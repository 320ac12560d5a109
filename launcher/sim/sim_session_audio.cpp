/* SimSession: the input audio buffer, the server VAD, and committed user turns. */
#include "sim_session.h"

#include "reply_policy.h"

#include <algorithm>
#include <cmath>

namespace clawvoice::sim {

using json::ObjectPtr;

/* (Re)builds the VAD for the session's input format and turn detection; the timeline goes on,
 * a turn in progress is forgotten. */
void SimSession::configure_input()
{
  input_format_ = input_format_of(session_.get());
  turn_detection_ = turn_detection_of(session_.get());
  vad_.reset();
  if (turn_detection_.enabled()) {
    vad_ = std::make_unique<VoiceActivityDetector>(input_format_.rate(), timeline_ms_,
                                                   turn_detection_.vad);
    vad_->set_floor_ms(buffer_start_ms_);
  }
}

bool SimSession::handle_append(JsonObject *event, const std::string &event_id)
{
  if (!info_.call_id.empty())
    return fail(errors::audio_on_sideband(), event_id);
  std::vector<uint8_t> bytes;
  if (!decode_base64_strict(json::get_string(event, "audio"), &bytes))
    return fail(errors::invalid_base64(), event_id);
  if (bytes.size() % input_format_.bytes_per_sample() != 0)
    return fail(errors::partial_sample(bytes.size(), input_format_.bytes_per_sample()), event_id);
  const double ms = input_format_.ms_for_bytes(bytes.size());
  timeline_ms_ += ms;
  env_.recorder.add_input_audio_us(std::llround(ms * 1000.0));
  if (!vad_)
    return true;
  std::vector<int16_t> pcm = decode_audio(input_format_, bytes.data(), bytes.size());
  for (const VadEvent &e : vad_->process(pcm.data(), pcm.size())) {
    on_vad_event(e);
    if (!vad_)
      break;   /* the session went away under us */
  }
  return true;
}

void SimSession::on_vad_event(const VadEvent &event)
{
  if (event.type == VadEvent::Type::SpeechStarted) {
    speech_item_id_ = new_id("item_");
    speech_start_ms_ = (double) event.audio_ms;
    ObjectPtr started = make_event("input_audio_buffer.speech_started");
    json_object_set_int_member(started.get(), "audio_start_ms", event.audio_ms);
    json_object_set_string_member(started.get(), "item_id", speech_item_id_.c_str());
    emit(std::move(started));
    if (active_ && turn_detection_.interrupt_response)
      active_->cancel("turn_detected");
    return;
  }
  ObjectPtr stopped = make_event("input_audio_buffer.speech_stopped");
  json_object_set_int_member(stopped.get(), "audio_end_ms", event.audio_ms);
  json_object_set_string_member(stopped.get(), "item_id", speech_item_id_.c_str());
  emit(std::move(stopped));
  commit_turn(speech_item_id_, speech_start_ms_, (double) event.audio_ms,
              (double) event.speech_ms, true);
}

bool SimSession::handle_commit(JsonObject *event, const std::string &event_id)
{
  if (!info_.call_id.empty())
    return fail(errors::audio_on_sideband(), event_id);
  const double buffered = timeline_ms_ - buffer_start_ms_;
  if (buffered < 100.0)
    return fail(errors::commit_empty(buffered), event_id);
  std::string item_id = vad_ && vad_->in_speech() ? speech_item_id_ : new_id("item_");
  if (vad_)
    vad_->reset();
  commit_turn(item_id, buffer_start_ms_, timeline_ms_, buffered, false);
  return true;
}

bool SimSession::handle_clear(JsonObject *event, const std::string &event_id)
{
  buffer_start_ms_ = timeline_ms_;
  if (vad_) {
    vad_->reset();
    vad_->set_floor_ms(buffer_start_ms_);
  }
  emit(make_event("input_audio_buffer.cleared"));
  return true;
}

/* The service shows `"transcript": null` until a transcription arrives; the schema has no null
 * there, so the member is left out until then. */
static ObjectPtr user_audio_item(const std::string &id)
{
  ObjectPtr item = json::parse_object(R"({"object":"realtime.item","type":"message",
      "status":"completed","role":"user","content":[{"type":"input_audio"}]})");
  json_object_set_string_member(item.get(), "id", id.c_str());
  return item;
}

/* The buffer [start_ms, end_ms) becomes a user message: committed, conversation.item.added /
 * .done, the transcription if enabled, then (VAD with create_response) a response. */
void SimSession::commit_turn(const std::string &item_id, double start_ms, double end_ms,
                             double speech_ms, bool from_vad, const std::string *transcript)
{
  const std::string previous = conversation_.last_id();
  ObjectPtr committed = make_event("input_audio_buffer.committed");
  if (previous.empty())
    json_object_set_null_member(committed.get(), "previous_item_id");
  else
    json_object_set_string_member(committed.get(), "previous_item_id", previous.c_str());
  json_object_set_string_member(committed.get(), "item_id", item_id.c_str());
  emit(std::move(committed));
  buffer_start_ms_ = end_ms;
  if (vad_)
    vad_->set_floor_ms(end_ms);

  UserTurn turn;
  turn.index = turns_++;
  turn.item_id = item_id;
  turn.audio_start_ms = std::llround(start_ms);
  turn.audio_end_ms = std::llround(end_ms);
  if (transcript)
    turn.transcript = *transcript;
  else
    turn.transcript = options_.transcribe ? options_.transcribe(turn)
                                          : default_transcript(speech_ms / 1000.0);

  auto item = std::make_unique<ConversationItem>();
  ConversationItem &ref = *item;
  item->id = item_id;
  item->type = "message";
  item->role = "user";
  item->has_audio = true;
  item->audio_ms = end_ms - start_ms;
  item->json = user_audio_item(item_id);
  conversation_.insert(std::move(item));
  emit_item("conversation.item.added", previous, ref.json.get());
  emit_item("conversation.item.done", previous, ref.json.get());
  if (transcription_enabled(session_.get()))
    send_transcription(ref, turn);
  env_.recorder.add_user_turn(turn);
  if (env_.calls && !info_.call_id.empty())
    env_.calls->caller_spoke(info_.call_id, turn.transcript);
  turns_by_item_[item_id] = turn;
  publish_conversation();

  if (from_vad && turn_detection_.create_response && !active_)
    start_response(reply_to_turn(turn, nullptr), nullptr);
}

/* About how long @text takes to say (~14 characters a second), at least 0.6 s. */
static double speaking_ms(const std::string &text)
{
  glong chars = g_utf8_validate(text.c_str(), (gssize) text.size(), nullptr) ? g_utf8_strlen(text.c_str(), -1)
                                                                              : (glong) text.size();
  return std::max(600.0, 70.0 * (double) chars);
}

/* The caller's words on a call whose audio the service has and we do not (a sideband): the same
 * events a VAD turn gives, on the session's input timeline, at once. Without turn detection the
 * turn is committed as a client would, and nothing answers it until a response.create. */
bool SimSession::caller_says(const std::string &text)
{
  if (!is_open())
    return false;
  const double speech_ms = speaking_ms(text);
  const double start_ms = timeline_ms_;
  /* VAD ends a turn after the silence that follows it (voice_activity.h). */
  const double end_ms = start_ms + speech_ms +
                        (turn_detection_.enabled() ? turn_detection_.vad.silence_duration_ms : 0);
  timeline_ms_ = end_ms;
  if (!turn_detection_.enabled()) {
    commit_turn(new_id("item_"), start_ms, end_ms, speech_ms, false, &text);
    return true;
  }
  if (vad_)
    vad_->reset();
  VadEvent started;
  started.type = VadEvent::Type::SpeechStarted;
  started.audio_ms = std::llround(start_ms);
  on_vad_event(started);
  const std::string item_id = speech_item_id_;
  ObjectPtr stopped = make_event("input_audio_buffer.speech_stopped");
  json_object_set_int_member(stopped.get(), "audio_end_ms", std::llround(end_ms));
  json_object_set_string_member(stopped.get(), "item_id", item_id.c_str());
  emit(std::move(stopped));
  commit_turn(item_id, start_ms, end_ms, speech_ms, true, &text);
  return true;
}

void SimSession::send_transcription(ConversationItem &item, const UserTurn &turn)
{
  item.text = turn.transcript;
  item.refresh_json("completed");
  ObjectPtr done = make_event("conversation.item.input_audio_transcription.completed");
  json_object_set_string_member(done.get(), "item_id", item.id.c_str());
  json_object_set_int_member(done.get(), "content_index", 0);
  json_object_set_string_member(done.get(), "transcript", turn.transcript.c_str());
  JsonObject *usage = json_object_new();
  json_object_set_string_member(usage, "type", "duration");
  json_object_set_double_member(usage, "seconds", item.audio_ms / 1000.0);
  json_object_set_object_member(done.get(), "usage", usage);
  emit(std::move(done));
}

}  // namespace clawvoice::sim
