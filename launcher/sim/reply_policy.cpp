#include "reply_policy.h"

#include "common/json.h"

#include <glib.h>

namespace clawvoice::sim {

std::string default_transcript(double speech_seconds)
{
  char text[64];
  g_snprintf(text, sizeof text, "(%.1f seconds of speech)", speech_seconds);
  return text;
}

static Reply speak(std::string text)
{
  Reply r;
  r.kind = Reply::Kind::Speak;
  r.text = std::move(text);
  return r;
}

/* The tool to call: the one tool_choice names, else the first function tool. */
static JsonObject *pick_tool(JsonArray *tools, const std::string &tool_choice)
{
  JsonObject *first = nullptr;
  for (guint i = 0; tools && i < json_array_get_length(tools); i++) {
    JsonNode *n = json_array_get_element(tools, i);
    if (!JSON_NODE_HOLDS_OBJECT(n))
      continue;
    JsonObject *tool = json_node_get_object(n);
    if (json::get_string(tool, "type", "function") != "function")
      continue;
    if (json::get_string(tool, "name") == tool_choice)
      return tool;
    if (!first)
      first = tool;
  }
  return first;
}

static std::string first_required_string_parameter(JsonObject *tool)
{
  JsonObject *params = json::get_object(tool, "parameters");
  JsonObject *properties = json::get_object(params, "properties");
  JsonArray *required = json::get_array(params, "required");
  for (guint i = 0; required && i < json_array_get_length(required); i++) {
    JsonNode *n = json_array_get_element(required, i);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
      continue;
    const char *name = json_node_get_string(n);
    if (json::get_string(json::get_object(properties, name), "type") == "string")
      return name;
  }
  return "message";
}

static std::string describe_turn(const UserTurn &turn)
{
  char text[512];
  g_snprintf(text, sizeof text, "The caller spoke (turn %d, %.1f s of audio): %s",
             turn.index + 1, (turn.audio_end_ms - turn.audio_start_ms) / 1000.0,
             turn.transcript.c_str());
  return text;
}

Reply default_reply_to_turn(const Options &options, const UserTurn &turn, JsonArray *tools,
                            const std::string &tool_choice)
{
  JsonObject *tool = options.tool_calls && tool_choice != "none" ? pick_tool(tools, tool_choice)
                                                                  : nullptr;
  if (tool) {
    Reply r;
    r.kind = Reply::Kind::CallTool;
    r.tool_name = json::get_string(tool, "name");
    json::ObjectPtr args(json_object_new());
    json_object_set_string_member(args.get(), first_required_string_parameter(tool).c_str(),
                                  describe_turn(turn).c_str());
    r.tool_arguments = json::to_string(args.get());
    return r;
  }
  if (!options.reply_text.empty())
    return speak(options.reply_text);
  std::string heard = turn.transcript;
  if (heard.size() >= 2 && heard.front() == '(' && heard.back() == ')')
    heard = heard.substr(1, heard.size() - 2);
  return speak("I heard: " + heard + ".");
}

std::string speakable_tool_output(const std::string &output)
{
  json::NodePtr node = json::parse(output);
  if (node && JSON_NODE_HOLDS_VALUE(node.get()) &&
      json_node_get_value_type(node.get()) == G_TYPE_STRING)
    return json_node_get_string(node.get());
  if (node && JSON_NODE_HOLDS_OBJECT(node.get())) {
    JsonObject *o = json_node_get_object(node.get());
    for (const char *field : {"result", "text", "message", "answer", "output", "content"})
      if (auto s = json::get_optional_string(o, field))
        return *s;
  }
  return output;
}

Reply default_reply_to_tool_output(const Options &options, const std::string &output)
{
  std::string text = speakable_tool_output(output);
  if (g_utf8_validate(text.c_str(), (gssize) text.size(), nullptr) &&
      g_utf8_strlen(text.c_str(), -1) > 400) {
    g_autofree char *head = g_utf8_substring(text.c_str(), 0, 400);   /* whole characters */
    text = head;
  }
  return speak("Here is the answer. " + text);
}

Reply default_reply_to_instruction(const Options &options, const std::string &instruction)
{
  if (!options.reply_text.empty())
    return speak(options.reply_text);
  /* A deterministic stand-in for following the instruction: say what it says to say. */
  std::string text = instruction;
  size_t colon = text.find(": ");
  if (colon != std::string::npos && colon + 2 < text.size())
    text = text.substr(colon + 2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  if (g_utf8_validate(text.c_str(), (gssize) text.size(), nullptr) && g_utf8_strlen(text.c_str(), -1) > 400) {
    g_autofree char *head = g_utf8_substring(text.c_str(), 0, 400);
    text = head;
  }
  return speak(text);
}

Reply default_greeting(const Options &options)
{
  if (!options.reply_text.empty())
    return speak(options.reply_text);
  return speak("Hello! How can I help you today?");
}

}  // namespace clawvoice::sim
