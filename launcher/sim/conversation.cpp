#include "conversation.h"

#include "sim_events.h"

namespace clawvoice::sim {

using json::ObjectPtr;

static bool is_audio_part(const std::string &type)
{
  return type == "input_audio" || type == "output_audio";
}

/* Concatenated text of a message's content; drops audio bytes from the item. */
static std::string read_content(JsonObject *item, bool *has_audio)
{
  std::string text;
  JsonArray *content = json::get_array(item, "content");
  for (guint i = 0; content && i < json_array_get_length(content); i++) {
    JsonObject *part = json_array_get_object_element(content, i);
    std::string type = json::get_string(part, "type");
    if (is_audio_part(type)) {
      *has_audio = true;
      if (json_object_has_member(part, "audio"))
        json_object_remove_member(part, "audio");
      text += json::get_string(part, "transcript");
    } else {
      text += json::get_string(part, "text");
    }
  }
  return text;
}

std::unique_ptr<ConversationItem> Conversation::from_client(JsonObject *item)
{
  auto out = std::make_unique<ConversationItem>();
  out->json = json::copy_object(item);
  JsonObject *o = out->json.get();
  out->id = json::get_string(o, "id");
  if (out->id.empty()) {
    out->id = new_id("item_");
    json_object_set_string_member(o, "id", out->id.c_str());
  }
  json_object_set_string_member(o, "object", "realtime.item");
  json_object_set_string_member(o, "status", "completed");
  out->type = json::get_string(o, "type");
  out->role = json::get_string(o, "role");
  out->call_id = json::get_string(o, "call_id");
  if (out->type == "message")
    out->text = read_content(o, &out->has_audio);
  else if (out->type == "function_call")
    out->text = json::get_string(o, "arguments");
  else if (out->type == "function_call_output")
    out->text = json::get_string(o, "output");
  return out;
}

void ConversationItem::refresh_json(const char *status)
{
  JsonObject *o = json.get();
  json_object_set_string_member(o, "status", status);
  JsonArray *content = json::get_array(o, "content");
  for (guint i = 0; content && i < json_array_get_length(content); i++) {
    JsonObject *part = json_array_get_object_element(content, i);
    std::string type = json::get_string(part, "type");
    if (is_audio_part(type) && (role == "assistant" || !text.empty()))
      json_object_set_string_member(part, "transcript", text.c_str());
    else if (type == "output_text")
      json_object_set_string_member(part, "text", text.c_str());
  }
  if (type == "function_call")
    json_object_set_string_member(o, "arguments", text.c_str());
}

ConversationItem *Conversation::find(const std::string &id)
{
  for (auto &item : items_)
    if (item->id == id)
      return item.get();
  return nullptr;
}

const ConversationItem *Conversation::last() const
{
  return items_.empty() ? nullptr : items_.back().get();
}

std::string Conversation::last_id() const
{
  return items_.empty() ? std::string() : items_.back()->id;
}

std::string Conversation::previous_id(const std::string &id) const
{
  for (size_t i = 1; i < items_.size(); i++)
    if (items_[i]->id == id)
      return items_[i - 1]->id;
  return std::string();
}

bool Conversation::has_function_call(const std::string &call_id) const
{
  for (auto &item : items_)
    if (item->type == "function_call" && item->call_id == call_id)
      return true;
  return false;
}

std::optional<std::string> Conversation::insert(std::unique_ptr<ConversationItem> item,
                                                const std::string &previous_id)
{
  size_t at = items_.size();
  if (previous_id == "root") {
    at = 0;
  } else if (!previous_id.empty()) {
    at = items_.size() + 1;
    for (size_t i = 0; i < items_.size(); i++)
      if (items_[i]->id == previous_id)
        at = i + 1;
    if (at > items_.size())
      return std::nullopt;
  }
  std::string before = at > 0 ? items_[at - 1]->id : std::string();
  items_.insert(items_.begin() + (ptrdiff_t) at, std::move(item));
  return before;
}

bool Conversation::remove(const std::string &id)
{
  for (auto it = items_.begin(); it != items_.end(); ++it) {
    if ((*it)->id == id) {
      items_.erase(it);
      return true;
    }
  }
  return false;
}

std::string Conversation::to_json() const
{
  json::ArrayPtr a(json_array_new());
  for (auto &item : items_)
    json_array_add_object_element(a.get(), json_object_ref(item->json.get()));
  json::NodePtr node(json_node_init_array(json_node_alloc(), a.get()));
  return json::to_string(node.get());
}

double Conversation::user_audio_ms() const
{
  double ms = 0;
  for (auto &item : items_)
    if (item->role == "user")
      ms += item->audio_ms;
  return ms;
}

size_t Conversation::text_chars() const
{
  size_t n = 0;
  for (auto &item : items_)
    n += item->text.size();
  return n;
}

}  // namespace clawvoice::sim
