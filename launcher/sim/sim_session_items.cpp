/* SimSession: conversation items (create, delete, retrieve, truncate). */
#include "sim_session.h"

#include <cmath>

namespace clawvoice::sim {

using json::ObjectPtr;

/* conversation.item.added / .done / .retrieved: {previous_item_id, item}. */
void SimSession::emit_item(const char *type, const std::string &previous_id, JsonObject *item)
{
  ObjectPtr e = make_event(type);
  if (!g_str_equal(type, "conversation.item.retrieved")) {
    if (previous_id.empty())
      json_object_set_null_member(e.get(), "previous_item_id");
    else
      json_object_set_string_member(e.get(), "previous_item_id", previous_id.c_str());
  }
  json_object_set_object_member(e.get(), "item", json::copy_object(item).release());
  emit(std::move(e));
}

bool SimSession::handle_item_create(JsonObject *event, const std::string &event_id)
{
  auto item = Conversation::from_client(json::get_object(event, "item"));
  if (item->type == "function_call_output" && !conversation_.has_function_call(item->call_id))
    return fail(errors::unknown_call_id(item->call_id), event_id);
  if (conversation_.find(item->id))
    return fail(errors::duplicate_item_id(item->id), event_id);
  ConversationItem &ref = *item;
  std::string after = json::get_string(event, "previous_item_id");
  auto previous = conversation_.insert(std::move(item), after);
  if (!previous)
    return fail(errors::item_not_found(after, "previous_item_id"), event_id);
  emit_item("conversation.item.added", *previous, ref.json.get());
  emit_item("conversation.item.done", *previous, ref.json.get());
  if (env_.calls && !info_.call_id.empty() && ref.type == "function_call_output")
    env_.calls->function_answered(info_.call_id, ref.call_id, ref.text);
  publish_conversation();
  return true;
}

bool SimSession::handle_item_delete(JsonObject *event, const std::string &event_id)
{
  std::string item_id = json::get_string(event, "item_id");
  if (!conversation_.remove(item_id))
    return fail(errors::item_not_found(item_id, "item_id"), event_id);
  ObjectPtr deleted = make_event("conversation.item.deleted");
  json_object_set_string_member(deleted.get(), "item_id", item_id.c_str());
  emit(std::move(deleted));
  publish_conversation();
  return true;
}

bool SimSession::handle_item_retrieve(JsonObject *event, const std::string &event_id)
{
  std::string item_id = json::get_string(event, "item_id");
  ConversationItem *item = conversation_.find(item_id);
  if (!item)
    return fail(errors::item_not_found(item_id, "item_id"), event_id);
  emit_item("conversation.item.retrieved", "", item->json.get());
  return true;
}

/* Accepted only for an assistant message with audio, content part 0, and an end within the audio
 * actually SENT for it; every attempt is recorded. */
bool SimSession::handle_truncate(JsonObject *event, const std::string &event_id)
{
  Truncation t;
  t.received_us = g_get_monotonic_time();
  t.item_id = json::get_string(event, "item_id");
  t.audio_end_ms = json::get_int(event, "audio_end_ms");
  const int64_t content_index = json::get_int(event, "content_index");
  ConversationItem *item = conversation_.find(t.item_id);
  if (item)
    t.audio_sent_ms = (int64_t) std::floor(item->audio_ms + 1e-6);

  bool ok = false;
  if (!item)
    fail(errors::item_not_found(t.item_id, "item_id"), event_id);
  else if (item->role != "assistant" || !item->has_audio || item->audio_ms <= 0)
    fail(errors::truncate_not_audio(t.item_id), event_id);
  else if (content_index != 0)
    fail(errors::truncate_content_index(content_index), event_id);
  else if (t.audio_end_ms < 0 || t.audio_end_ms > t.audio_sent_ms)
    fail(errors::truncate_too_long(t.audio_sent_ms, t.audio_end_ms), event_id);
  else
    ok = true;
  t.accepted = ok;
  env_.recorder.add_truncation(t);
  if (!ok)
    return false;

  /* The service drops the transcript so that nothing unheard stays in the context. */
  item->truncated = true;
  item->audio_ms = (double) t.audio_end_ms;
  item->text.clear();
  item->refresh_json(json::get_string(item->json.get(), "status", "completed").c_str());
  ObjectPtr truncated = make_event("conversation.item.truncated");
  json_object_set_string_member(truncated.get(), "item_id", t.item_id.c_str());
  json_object_set_int_member(truncated.get(), "content_index", 0);
  json_object_set_int_member(truncated.get(), "audio_end_ms", t.audio_end_ms);
  emit(std::move(truncated));
  publish_conversation();
  return true;
}

bool SimSession::handle_output_buffer_clear(JsonObject *event, const std::string &event_id)
{
  return fail(errors::output_buffer_clear_unsupported(), event_id);
}

}  // namespace clawvoice::sim
