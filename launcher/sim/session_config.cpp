#include "session_config.h"

#include "sim_events.h"

namespace clawvoice::sim {

using json::ObjectPtr;

static const char kDefaultInstructions[] =
    "You are a helpful, witty, and friendly AI. Act like a human, but remember that you aren't a "
    "human and that you can't do human things in the real world. Your voice and personality "
    "should be warm and engaging, with a lively and playful tone. Talk quickly. You should always "
    "call a function if you can.";

static JsonObject *object_member(JsonObject *parent, const char *name)
{
  JsonObject *o = json::get_object(parent, name);
  if (!o) {
    o = json_object_new();
    json_object_set_object_member(parent, name, o);
  }
  return o;
}

static void set_default_int(JsonObject *o, const char *name, gint64 value)
{
  if (!json_object_has_member(o, name))
    json_object_set_int_member(o, name, value);
}

static void set_default_double(JsonObject *o, const char *name, double value)
{
  if (!json_object_has_member(o, name))
    json_object_set_double_member(o, name, value);
}

static void set_default_bool(JsonObject *o, const char *name, bool value)
{
  if (!json_object_has_member(o, name))
    json_object_set_boolean_member(o, name, value);
}

static void fill_format(JsonObject *format)
{
  if (!format)
    return;
  if (json::get_string(format, "type") == "audio/pcm")
    set_default_int(format, "rate", 24000);
}

static void fill_turn_detection(JsonObject *td)
{
  if (!td)
    return;
  std::string type = json::get_string(td, "type", "server_vad");
  if (type == "server_vad") {
    set_default_double(td, "threshold", 0.5);
    set_default_int(td, "prefix_padding_ms", 300);
    set_default_int(td, "silence_duration_ms", 500);
    if (!json_object_has_member(td, "idle_timeout_ms"))
      json_object_set_null_member(td, "idle_timeout_ms");
  } else if (type == "semantic_vad") {
    if (!json_object_has_member(td, "eagerness"))
      json_object_set_string_member(td, "eagerness", "auto");
  }
  set_default_bool(td, "create_response", true);
  set_default_bool(td, "interrupt_response", true);
}

/* Fills what the service fills and drops nulls its schema does not allow. */
static void normalise(JsonObject *session)
{
  JsonObject *audio = object_member(session, "audio");
  JsonObject *input = object_member(audio, "input");
  JsonObject *output = object_member(audio, "output");
  fill_format(json::get_object(input, "format"));
  fill_format(json::get_object(output, "format"));
  fill_turn_detection(json::get_object(input, "turn_detection"));
  for (const char *member : {"transcription", "noise_reduction"})
    if (json_object_has_member(input, member) && !json::get_object(input, member))
      json_object_remove_member(input, member);
  if (json_object_has_member(session, "include") && !json::get_array(session, "include"))
    json_object_remove_member(session, "include");
}

ObjectPtr default_session(const std::string &model, const std::string &voice, int64_t expires_at)
{
  ObjectPtr session = json::parse_object(R"({
    "type": "realtime", "object": "realtime.session",
    "output_modalities": ["audio"],
    "tools": [], "tool_choice": "auto", "max_output_tokens": "inf",
    "tracing": null, "prompt": null,
    "audio": {
      "input": {
        "format": {"type": "audio/pcm", "rate": 24000},
        "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                           "silence_duration_ms": 500, "idle_timeout_ms": null,
                           "create_response": true, "interrupt_response": true}},
      "output": {"format": {"type": "audio/pcm", "rate": 24000}, "speed": 1.0}}})");
  json_object_set_string_member(session.get(), "id", new_id("sess_").c_str());
  json_object_set_string_member(session.get(), "model", model.c_str());
  json_object_set_string_member(session.get(), "instructions", kDefaultInstructions);
  json_object_set_int_member(session.get(), "expires_at", expires_at);
  JsonObject *output = json::get_object(json::get_object(session.get(), "audio"), "output");
  json_object_set_string_member(output, "voice", voice.c_str());
  return session;
}

static bool type_changes(JsonObject *current, JsonObject *patch)
{
  auto a = json::get_optional_string(current, "type");
  auto b = json::get_optional_string(patch, "type");
  return a && b && *a != *b;
}

static void deep_merge(JsonObject *target, JsonObject *patch)
{
  GList *members = json_object_get_members(patch);
  for (GList *l = members; l; l = l->next) {
    const char *name = (const char *) l->data;
    JsonNode *value = json_object_get_member(patch, name);
    JsonObject *current = json::get_object(target, name);
    if (current && JSON_NODE_HOLDS_OBJECT(value) &&
        !type_changes(current, json_node_get_object(value))) {
      deep_merge(current, json_node_get_object(value));
      continue;
    }
    json_object_set_member(target, name, json_node_copy(value));
  }
  g_list_free(members);
}

void merge_session(JsonObject *session, JsonObject *patch)
{
  deep_merge(session, patch);
  normalise(session);
}

static JsonObject *audio_part(JsonObject *session, const char *direction)
{
  return json::get_object(json::get_object(session, "audio"), direction);
}

TurnDetection turn_detection_of(JsonObject *session)
{
  TurnDetection td;
  JsonObject *o = json::get_object(audio_part(session, "input"), "turn_detection");
  if (!o) {
    td.mode = TurnDetection::Mode::None;
    return td;
  }
  td.create_response = json::get_bool(o, "create_response", true);
  td.interrupt_response = json::get_bool(o, "interrupt_response", true);
  if (json::get_string(o, "type") == "semantic_vad") {
    /* No semantics here: eagerness only sets how long a pause ends the turn. */
    td.mode = TurnDetection::Mode::SemanticVad;
    std::string eagerness = json::get_string(o, "eagerness", "auto");
    td.vad.silence_duration_ms = eagerness == "high" ? 300 : eagerness == "low" ? 1200 : 600;
    return td;
  }
  td.mode = TurnDetection::Mode::ServerVad;
  td.vad.threshold = json::get_double(o, "threshold", 0.5);
  td.vad.prefix_padding_ms = (int) json::get_int(o, "prefix_padding_ms", 300);
  td.vad.silence_duration_ms = (int) json::get_int(o, "silence_duration_ms", 500);
  return td;
}

AudioFormat input_format_of(JsonObject *session)
{
  return AudioFormat::from_json(json::get_object(audio_part(session, "input"), "format"));
}

AudioFormat output_format_of(JsonObject *session)
{
  return AudioFormat::from_json(json::get_object(audio_part(session, "output"), "format"));
}

std::string voice_of(JsonObject *session)
{
  return json::get_string(audio_part(session, "output"), "voice", "marin");
}

double speed_of(JsonObject *session)
{
  return json::get_double(audio_part(session, "output"), "speed", 1.0);
}

bool text_only(JsonObject *session)
{
  JsonArray *modalities = json::get_array(session, "output_modalities");
  if (!modalities || json_array_get_length(modalities) != 1)
    return false;
  JsonNode *m = json_array_get_element(modalities, 0);
  return JSON_NODE_HOLDS_VALUE(m) && json_node_get_value_type(m) == G_TYPE_STRING &&
         g_str_equal(json_node_get_string(m), "text");
}

bool transcription_enabled(JsonObject *session)
{
  return json::get_object(audio_part(session, "input"), "transcription") != nullptr;
}

JsonArray *tools_of(JsonObject *session)
{
  return json::get_array(session, "tools");
}

std::string tool_choice_of(JsonObject *session)
{
  if (JsonObject *choice = json::get_object(session, "tool_choice"))
    return json::get_string(choice, "name", "auto");
  return json::get_string(session, "tool_choice", "auto");
}

bool has_both_modalities(JsonArray *modalities)
{
  bool audio = false, text = false;
  for (guint i = 0; modalities && i < json_array_get_length(modalities); i++) {
    JsonNode *n = json_array_get_element(modalities, i);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
      continue;
    audio |= g_str_equal(json_node_get_string(n), "audio");
    text |= g_str_equal(json_node_get_string(n), "text");
  }
  return audio && text;
}

}  // namespace clawvoice::sim
