#include "realtime/session_config.h"

#include <json-glib/json-glib.h>

#include "common/json.h"

namespace clawvoice::realtime {

const char *audio_format_wire_name(AudioFormat format)
{
  switch (format) {
    case AudioFormat::Pcmu: return "audio/pcmu";
    case AudioFormat::Pcma: return "audio/pcma";
    case AudioFormat::Pcm24k: break;
  }
  return "audio/pcm";
}

unsigned audio_format_bytes_per_ms(AudioFormat format)
{
  return format == AudioFormat::Pcm24k ? 48 : 8;
}

static void add_format(JsonBuilder *b, AudioFormat format)
{
  json_builder_set_member_name(b, "format");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, audio_format_wire_name(format));
  if (format == AudioFormat::Pcm24k) {
    json_builder_set_member_name(b, "rate");
    json_builder_add_int_value(b, 24000);
  }
  json_builder_end_object(b);
}

static void add_turn_detection(JsonBuilder *b, const SessionConfig &c)
{
  json_builder_set_member_name(b, "turn_detection");
  if (c.turn_detection == TurnDetection::None) {
    json_builder_add_null_value(b);
    return;
  }
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  if (c.turn_detection == TurnDetection::SemanticVad) {
    json_builder_add_string_value(b, "semantic_vad");
    json_builder_set_member_name(b, "eagerness");
    json_builder_add_string_value(b, c.semantic_eagerness.c_str());
  } else {
    json_builder_add_string_value(b, "server_vad");
    json_builder_set_member_name(b, "threshold");
    json_builder_add_double_value(b, c.vad_threshold);
    json_builder_set_member_name(b, "prefix_padding_ms");
    json_builder_add_int_value(b, c.vad_prefix_padding_ms);
    json_builder_set_member_name(b, "silence_duration_ms");
    json_builder_add_int_value(b, c.vad_silence_duration_ms);
    if (c.vad_idle_timeout_ms > 0) {
      json_builder_set_member_name(b, "idle_timeout_ms");
      json_builder_add_int_value(b, c.vad_idle_timeout_ms);
    }
  }
  json_builder_set_member_name(b, "create_response");
  json_builder_add_boolean_value(b, c.create_response);
  json_builder_set_member_name(b, "interrupt_response");
  json_builder_add_boolean_value(b, c.interrupt_response);
  json_builder_end_object(b);
}

static void add_audio(JsonBuilder *b, const SessionConfig &c)
{
  json_builder_set_member_name(b, "audio");
  json_builder_begin_object(b);

  json_builder_set_member_name(b, "input");
  json_builder_begin_object(b);
  if (!c.sideband)   /* OpenAI negotiates the codec of a call it carries itself */
    add_format(b, c.input_format);
  /* Unset options are left out rather than sent as null: the schema does not allow null here. */
  if (!c.transcription_model.empty()) {
    json_builder_set_member_name(b, "transcription");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "model");
    json_builder_add_string_value(b, c.transcription_model.c_str());
    if (!c.transcription_language.empty()) {
      json_builder_set_member_name(b, "language");
      json_builder_add_string_value(b, c.transcription_language.c_str());
    }
    json_builder_end_object(b);
  }
  if (!c.noise_reduction.empty()) {
    json_builder_set_member_name(b, "noise_reduction");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, c.noise_reduction.c_str());
    json_builder_end_object(b);
  }
  add_turn_detection(b, c);
  json_builder_end_object(b);

  json_builder_set_member_name(b, "output");
  json_builder_begin_object(b);
  if (!c.sideband)
    add_format(b, c.output_format);
  json_builder_set_member_name(b, "voice");
  json_builder_add_string_value(b, c.voice.c_str());
  json_builder_set_member_name(b, "speed");
  json_builder_add_double_value(b, c.speed);
  json_builder_end_object(b);

  json_builder_end_object(b);
}

static void add_tools(JsonBuilder *b, const SessionConfig &c)
{
  json_builder_set_member_name(b, "tools");
  json_builder_begin_array(b);
  for (const ToolDefinition &tool : c.tools) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "function");
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, tool.name.c_str());
    json_builder_set_member_name(b, "description");
    json_builder_add_string_value(b, tool.description.c_str());
    json_builder_set_member_name(b, "parameters");
    json::NodePtr params = json::parse(tool.parameters_json);
    if (params)
      json_builder_add_value(b, params.release());   /* the builder takes ownership */
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "tool_choice");
  json_builder_add_string_value(b, c.tool_choice.c_str());
}

std::string build_session_update(const SessionConfig &c, const std::string &event_id)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (!event_id.empty()) {
    json_builder_set_member_name(b, "event_id");
    json_builder_add_string_value(b, event_id.c_str());
  }
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "session.update");
  json_builder_set_member_name(b, "session");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "realtime");
  json_builder_set_member_name(b, "output_modalities");
  json_builder_begin_array(b);
  json_builder_add_string_value(b, "audio");
  json_builder_end_array(b);
  json_builder_set_member_name(b, "instructions");
  json_builder_add_string_value(b, c.instructions.c_str());
  add_audio(b, c);
  add_tools(b, c);
  if (c.max_output_tokens > 0) {
    json_builder_set_member_name(b, "max_output_tokens");
    json_builder_add_int_value(b, c.max_output_tokens);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  json::NodePtr root(json_builder_get_root(b));
  return json::to_string(root.get());
}

}  // namespace clawvoice::realtime
