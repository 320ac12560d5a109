/* SimSession: responses (response.create / .cancel, VAD-triggered) and the ResponseHost side. */
#include "sim_session.h"

#include "reply_policy.h"

#include <algorithm>
#include <cmath>

namespace clawvoice::sim {

using json::ObjectPtr;

bool SimSession::handle_response_create(JsonObject *event, const std::string &event_id)
{
  if (active_)
    return fail(errors::active_response(active_->id()), event_id);
  JsonObject *params = json::get_object(event, "response");
  if (has_both_modalities(json::get_array(params, "output_modalities")))
    return fail(errors::both_modalities("response.output_modalities"), event_id);
  start_response(reply_for_context(params), params);
  return true;
}

bool SimSession::handle_response_cancel(JsonObject *event, const std::string &event_id)
{
  auto wanted = json::get_optional_string(event, "response_id");
  if (!active_ || (wanted && *wanted != active_->id()))
    return fail(errors::cancel_not_active(), event_id);
  active_->cancel("client_cancelled");
  return true;
}

Reply SimSession::reply_to_turn(const UserTurn &turn, JsonObject *params)
{
  if (options_.on_user_turn)
    return options_.on_user_turn(turn);
  JsonArray *tools = json::get_array(params, "tools");
  if (!tools)
    tools = tools_of(session_.get());
  std::string choice = params && json_object_has_member(params, "tool_choice")
                           ? tool_choice_of(params) : tool_choice_of(session_.get());
  return default_reply_to_turn(options_, turn, tools, choice);
}

/* What the model answers to a response.create: the newest item decides. */
Reply SimSession::reply_for_context(JsonObject *params)
{
  const ConversationItem *last = conversation_.last();
  if (last && last->type == "function_call_output")
    return options_.on_tool_output ? options_.on_tool_output(last->call_id, last->text)
                                   : default_reply_to_tool_output(options_, last->text);
  if (last && last->role == "user") {
    auto it = turns_by_item_.find(last->id);
    UserTurn turn;
    if (it != turns_by_item_.end()) {
      turn = it->second;
    } else {   /* a typed message: no audio, its text is the transcript */
      turn.index = turns_;
      turn.item_id = last->id;
      turn.transcript = last->text;
    }
    return reply_to_turn(turn, params);
  }
  if (last && last->role == "system")
    return default_reply_to_instruction(options_, last->text);
  return default_greeting(options_);
}

static int64_t tokens_for_text(size_t chars)
{
  return (int64_t) ((chars + 3) / 4);
}

void SimSession::start_response(Reply reply, JsonObject *params)
{
  JsonObject *session = session_.get();
  JsonObject *out = json::get_object(json::get_object(params, "audio"), "output");
  ResponsePlan plan;
  plan.reply = std::move(reply);
  plan.text_only = params && json::get_array(params, "output_modalities") ? text_only(params)
                                                                           : text_only(session);
  plan.send_audio = info_.call_id.empty();
  plan.in_conversation = json::get_string(params, "conversation", "auto") != "none";
  plan.format = json::get_object(out, "format") ? AudioFormat::from_json(json::get_object(out, "format"))
                                                : output_format_of(session);
  plan.voice = json::get_string(out, "voice", voice_of(session));
  plan.speed = speed_of(session);
  plan.conversation_id = conversation_id_;
  if (JsonObject *metadata = json::get_object(params, "metadata"))
    plan.metadata = json::copy_object(metadata);
  std::string instructions = json::get_string(params, "instructions",
                                              json::get_string(session, "instructions"));
  plan.input_text_tokens = tokens_for_text(instructions.size() + conversation_.text_chars());
  plan.input_audio_tokens = std::llround(conversation_.user_audio_ms() / 1000.0 * 10.0);
  const int64_t input = plan.input_text_tokens + plan.input_audio_tokens;
  /* Prompt caching: a prefix of at least 1024 tokens seen before is cached in steps of 64. */
  plan.cached_tokens = last_input_tokens_ >= 1024 ? std::min(last_input_tokens_, input) / 64 * 64 : 0;
  last_input_tokens_ = input;
  plan.delta_ms = std::max(10u, options_.delta_ms);
  plan.response_delay_ms = options_.response_delay_ms;
  plan.burst_speed = options_.burst_speed;

  reply_audio_ms_ = 0;
  active_ = std::make_unique<SimResponse>(*this, env_.synth, std::move(plan));
  active_->start();
}

void SimSession::output_item_added(const ConversationItem &item, bool in_conversation)
{
  if (!in_conversation)
    return;
  auto copy = std::make_unique<ConversationItem>(ConversationItem{
      item.id, item.type, item.role, item.call_id, item.has_audio, item.audio_ms, false,
      item.text, json::copy_object(item.json.get())});
  const std::string previous = conversation_.last_id();
  ConversationItem &ref = *copy;
  conversation_.insert(std::move(copy));
  emit_item("conversation.item.added", previous, ref.json.get());
  publish_conversation();
}

void SimSession::output_item_done(const ConversationItem &item, bool in_conversation)
{
  if (env_.calls && !info_.call_id.empty()) {   /* a sideband: the call's record shows it */
    if (item.type == "function_call")
      env_.calls->function_called(info_.call_id, item.call_id, json::get_string(item.json.get(), "name"), item.text);
    else if (item.type == "message" && item.role == "assistant")
      env_.calls->assistant_spoke(info_.call_id, item.text);
  }
  ConversationItem *mine = in_conversation ? conversation_.find(item.id) : nullptr;
  if (!mine)
    return;
  if (!mine->truncated) {
    mine->audio_ms = item.audio_ms;
    mine->text = item.text;
    mine->json = json::copy_object(item.json.get());
  }
  emit_item("conversation.item.done", conversation_.previous_id(item.id), mine->json.get());
  publish_conversation();
}

bool SimSession::audio_sent(const std::string &item_id, double total_ms, double delta_ms)
{
  assistant_audio_ = true;
  if (ConversationItem *item = conversation_.find(item_id))
    if (!item->truncated)
      item->audio_ms = total_ms;
  reply_audio_ms_ += delta_ms;
  int64_t armed = env_.close_next_reply_after_ms.load();
  if (armed >= 0 && reply_audio_ms_ >= (double) armed &&
      env_.close_next_reply_after_ms.compare_exchange_strong(armed, -1)) {
    drop();
    return false;
  }
  return true;
}

void SimSession::response_finished(const std::string &response_id)
{
  if (active_ && active_->id() == response_id)
    retired_ = std::move(active_);
  publish_conversation();
}

}  // namespace clawvoice::sim
