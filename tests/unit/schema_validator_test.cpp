/* SchemaValidator against OpenAI's own Realtime component schemas: GA events pass, beta shapes and
 * malformed events fail with the exact code / param / message the real service sends, and every
 * example published in the schemas (x-oaiMeta.example) validates. */
#include "common/json.h"
#include "realtime/schema_validator.h"

extern "C" {
#include "clawvoice-schema-resources.h"
}

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <thread>
#include <vector>

using clawvoice::realtime::SchemaError;
using clawvoice::realtime::SchemaValidator;
namespace json = clawvoice::json;

namespace {

std::string describe(const std::optional<SchemaError> &e)
{
  if (!e)
    return "valid";
  return "[" + e->code + "] param='" + e->param + "' " + e->message;
}

std::optional<SchemaError> client(const std::string &text)
{
  std::string error;
  json::ObjectPtr o = json::parse_object(text, &error);
  if (!o)
    return SchemaError{"test_bad_json", error, ""};
  return SchemaValidator::instance().validate_client_event(o.get());
}

std::optional<SchemaError> server(const std::string &text)
{
  std::string error;
  json::ObjectPtr o = json::parse_object(text, &error);
  if (!o)
    return SchemaError{"test_bad_json", error, ""};
  return SchemaValidator::instance().validate_server_event(o.get());
}

std::optional<SchemaError> named(const std::string &schema, const std::string &text)
{
  std::string error;
  json::NodePtr n = json::parse(text, &error);
  if (!n)
    return SchemaError{"test_bad_json", error, ""};
  return SchemaValidator::instance().validate(schema, n.get());
}

#define EXPECT_VALID(result) EXPECT_FALSE((result).has_value()) << describe(result)

void expect_error(const std::optional<SchemaError> &e, const std::string &code, const std::string &param,
                  const std::string &message)
{
  ASSERT_TRUE(e.has_value()) << "expected " << code << " at '" << param << "', but it validated";
  EXPECT_EQ(e->code, code) << describe(e);
  EXPECT_EQ(e->param, param) << describe(e);
  EXPECT_EQ(e->message, message) << describe(e);
}

/* A session.update around @session_members (JSON members of the realtime session, no braces). */
std::string realtime_update(const std::string &session_members)
{
  return R"({"type":"session.update","session":{"type":"realtime")" +
         (session_members.empty() ? "" : "," + session_members) + "}}";
}

const char *kGaSessionUpdate = R"({
  "type": "session.update",
  "session": {
    "type": "realtime",
    "output_modalities": ["audio"],
    "instructions": "You are a helpful voice assistant.",
    "audio": {
      "input": {
        "format": {"type": "audio/pcm", "rate": 24000},
        "transcription": {"model": "gpt-4o-mini-transcribe"},
        "noise_reduction": {"type": "near_field"},
        "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                           "silence_duration_ms": 500, "create_response": true,
                           "interrupt_response": true}
      },
      "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1.0}
    },
    "tools": [{
      "type": "function",
      "name": "send_to_openclaw",
      "description": "Forward a request to OpenClaw.",
      "parameters": {"type": "object", "properties": {"message": {"type": "string"}},
                     "required": ["message"]}
    }],
    "tool_choice": "auto"
  }
})";

}  // namespace

/* ---- valid GA client events ---- */

TEST(SchemaValidatorClient, GaSessionUpdateFromReferenceDoc)
{
  EXPECT_VALID(client(kGaSessionUpdate));
}

TEST(SchemaValidatorClient, TurnDetectionNullIsValid)
{
  EXPECT_VALID(client(realtime_update(R"("audio":{"input":{"turn_detection":null}})")));
}

TEST(SchemaValidatorClient, OtherValidSessionShapes)
{
  EXPECT_VALID(client(realtime_update("")));
  EXPECT_VALID(client(realtime_update(R"("audio":{"input":{"format":{"type":"audio/pcmu"}},
                                                   "output":{"format":{"type":"audio/pcma"}}})")));
  EXPECT_VALID(client(realtime_update(R"("audio":{"input":{"turn_detection":
      {"type":"semantic_vad","eagerness":"low"}}})")));
  EXPECT_VALID(client(realtime_update(R"("audio":{"input":{"turn_detection":
      {"type":"server_vad","idle_timeout_ms":6000}}})")));
  EXPECT_VALID(client(realtime_update(R"("audio":{"output":{"voice":{"id":"voice_1234"}}})")));
  EXPECT_VALID(client(realtime_update(R"("tracing":null)")));
  EXPECT_VALID(client(realtime_update(R"("tracing":"auto")")));
  EXPECT_VALID(client(realtime_update(R"("max_output_tokens":"inf","tool_choice":"none")")));
  EXPECT_VALID(client(realtime_update(R"("max_output_tokens":4096)")));
  EXPECT_VALID(client(realtime_update(R"("tool_choice":{"type":"function","name":"send_to_openclaw"})")));
  EXPECT_VALID(client(realtime_update(R"("model":"gpt-realtime","truncation":"auto")")));
  EXPECT_VALID(client(R"({"type":"session.update","session":{"type":"transcription",
      "audio":{"input":{"format":{"type":"audio/pcm","rate":24000},
                        "transcription":{"model":"gpt-4o-transcribe","language":"de"}}}}})"));
}

TEST(SchemaValidatorClient, InputAudioBufferEvents)
{
  EXPECT_VALID(client(R"({"type":"input_audio_buffer.append","audio":"AAAAAA=="})"));
  EXPECT_VALID(client(R"({"event_id":"evt_1","type":"input_audio_buffer.append","audio":""})"));
  EXPECT_VALID(client(R"({"type":"input_audio_buffer.commit"})"));
  EXPECT_VALID(client(R"({"type":"input_audio_buffer.clear"})"));
}

TEST(SchemaValidatorClient, ConversationItemCreate)
{
  EXPECT_VALID(client(R"({"type":"conversation.item.create","item":
      {"type":"function_call_output","call_id":"call_123","output":"{\"ok\":true}"}})"));
  EXPECT_VALID(client(R"({"type":"conversation.item.create","previous_item_id":"item_1","item":
      {"type":"message","role":"user","content":[{"type":"input_text","text":"Hello"}]}})"));
  EXPECT_VALID(client(R"({"type":"conversation.item.create","item":
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi!"}]}})"));
  EXPECT_VALID(client(R"({"type":"conversation.item.create","item":
      {"type":"message","role":"system","content":[{"type":"input_text","text":"Be brief."}]}})"));
}

TEST(SchemaValidatorClient, ResponseEvents)
{
  EXPECT_VALID(client(R"({"type":"response.create"})"));
  EXPECT_VALID(client(R"({"type":"response.create","response":
      {"instructions":"Say hello.","conversation":"auto"}})"));
  EXPECT_VALID(client(R"({"type":"response.create","response":
      {"conversation":"none","output_modalities":["text"],"metadata":{"purpose":"summary"},
       "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Hi"}]}]}})"));
  EXPECT_VALID(client(R"({"type":"response.cancel"})"));
  EXPECT_VALID(client(R"({"type":"response.cancel","response_id":"resp_1"})"));
  EXPECT_VALID(client(R"({"type":"conversation.item.truncate","item_id":"item_1",
                          "content_index":0,"audio_end_ms":1500})"));
}

TEST(SchemaValidatorClient, IntegralDecimalCountsAsInteger)
{
  EXPECT_VALID(client(R"({"type":"conversation.item.truncate","item_id":"item_1",
                          "content_index":0,"audio_end_ms":1500.0})"));
}

/* ---- errors, with the service's exact shapes ---- */

TEST(SchemaValidatorErrors, UnknownParameterWithArrayIndex)
{
  expect_error(client(realtime_update(R"("tools":[{"type":"function","name":"f","meta":1}])")),
               "unknown_parameter", "session.tools[0].meta", "Unknown parameter: 'session.tools[0].meta'.");
  expect_error(client(realtime_update(R"("tools":[{"type":"function","name":"f"},
                                                  {"type":"function","name":"g","meta":1}])")),
               "unknown_parameter", "session.tools[1].meta", "Unknown parameter: 'session.tools[1].meta'.");
}

TEST(SchemaValidatorErrors, UnknownTopLevelMember)
{
  expect_error(client(R"({"type":"input_audio_buffer.clear","foo":1})"), "unknown_parameter", "foo",
               "Unknown parameter: 'foo'.");
}

TEST(SchemaValidatorErrors, MissingRequired)
{
  expect_error(client(R"({"type":"conversation.item.create","item":
                          {"type":"function_call_output","output":"x"}})"),
               "missing_required_parameter", "item.call_id", "Missing required parameter: 'item.call_id'.");
  expect_error(client(R"({"type":"input_audio_buffer.append"})"), "missing_required_parameter", "audio",
               "Missing required parameter: 'audio'.");
  expect_error(client(R"({"type":"session.update"})"), "missing_required_parameter", "session",
               "Missing required parameter: 'session'.");
}

TEST(SchemaValidatorErrors, InvalidType)
{
  expect_error(client(realtime_update(R"("instructions":42)")), "invalid_type", "session.instructions",
               "Invalid type for 'session.instructions': expected a string, but got an integer instead.");
  expect_error(client(R"({"type":"conversation.item.truncate","item_id":"i","content_index":0,
                          "audio_end_ms":1.5})"),
               "invalid_type", "audio_end_ms",
               "Invalid type for 'audio_end_ms': expected an integer, but got a decimal instead.");
  expect_error(client(R"({"type":"input_audio_buffer.append","audio":null})"), "invalid_type", "audio",
               "Invalid type for 'audio': expected a string, but got null instead.");
  expect_error(client(realtime_update(R"("output_modalities":"audio")")), "invalid_type",
               "session.output_modalities",
               "Invalid type for 'session.output_modalities': expected an array, but got a string instead.");
  /* An anyOf whose branches all have other types: one message naming them all. */
  expect_error(client(realtime_update(R"("tool_choice":5)")), "invalid_type", "session.tool_choice",
               "Invalid type for 'session.tool_choice': expected one of a string or an object, but got an "
               "integer instead.");
  expect_error(client(realtime_update(R"("audio":{"input":{"turn_detection":"server_vad"}})")),
               "invalid_type", "session.audio.input.turn_detection",
               "Invalid type for 'session.audio.input.turn_detection': expected one of an object or null, "
               "but got a string instead.");
}

TEST(SchemaValidatorErrors, InvalidEnumValue)
{
  expect_error(client(realtime_update(R"("audio":{"input":{"format":{"type":"pcm16"}}})")), "invalid_value",
               "session.audio.input.format.type",
               "Invalid value: 'pcm16'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.");
  expect_error(client(realtime_update(R"("audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}})")),
               "invalid_value", "session.audio.input.format.rate",
               "Invalid value: '16000'. Supported values are: '24000'.");
  expect_error(client(realtime_update(R"("output_modalities":["audio","video"])")), "invalid_value",
               "session.output_modalities[1]", "Invalid value: 'video'. Supported values are: 'text' and 'audio'.");
  expect_error(client(realtime_update(R"("audio":{"input":{"noise_reduction":{"type":"studio"}}})")),
               "invalid_value", "session.audio.input.noise_reduction.type",
               "Invalid value: 'studio'. Supported values are: 'near_field' and 'far_field'.");
  expect_error(client(realtime_update(R"("tracing":"manual")")), "invalid_value", "session.tracing",
               "Invalid value: 'manual'. Supported values are: 'auto'.");
}

TEST(SchemaValidatorErrors, DiscriminatedBranchesReportTheSpecificError)
{
  /* turn_detection: anyOf(anyOf(server_vad, semantic_vad), null) */
  expect_error(client(realtime_update(R"("audio":{"input":{"turn_detection":{"type":"vad"}}})")),
               "invalid_value", "session.audio.input.turn_detection.type",
               "Invalid value: 'vad'. Supported values are: 'server_vad' and 'semantic_vad'.");
  expect_error(client(realtime_update(R"("audio":{"input":{"turn_detection":
                                          {"type":"semantic_vad","threshold":0.5}}})")),
               "unknown_parameter", "session.audio.input.turn_detection.threshold",
               "Unknown parameter: 'session.audio.input.turn_detection.threshold'.");
  /* Three message branches share type "message": told apart by role. */
  expect_error(client(R"({"type":"conversation.item.create","item":{"type":"message","role":"robot",
                          "content":[]}})"),
               "invalid_value", "item.role",
               "Invalid value: 'robot'. Supported values are: 'system', 'user', and 'assistant'.");
  expect_error(client(R"({"type":"conversation.item.create","item":{"type":"message","role":"user",
                          "content":[{"type":"output_text","text":"x"}]}})"),
               "invalid_value", "item.content[0].type",
               "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_audio', and "
               "'input_image'.");
  expect_error(client(R"({"type":"conversation.item.create","item":{"type":"message","role":"assistant",
                          "content":[{"type":"input_text","text":"x"}]}})"),
               "invalid_value", "item.content[0].type",
               "Invalid value: 'input_text'. Supported values are: 'output_text' and 'output_audio'.");
  auto e = client(R"({"type":"conversation.item.create","item":{"type":"note"}})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_value");
  EXPECT_EQ(e->param, "item.type");
  EXPECT_EQ(e->message.rfind("Invalid value: 'note'. Supported values are: 'message', 'function_call', "
                             "'function_call_output', ",
                             0),
            0u)
    << e->message;
  /* response.create tools have no declared discriminator, but both branches pin `type`. */
  expect_error(client(R"({"type":"response.create","response":{"tools":[{"type":"function","x":1}]}})"),
               "unknown_parameter", "response.tools[0].x", "Unknown parameter: 'response.tools[0].x'.");
  /* Discriminator of the wrong type. */
  expect_error(client(realtime_update(R"("audio":{"input":{"format":{"type":5}}})")), "invalid_type",
               "session.audio.input.format.type",
               "Invalid type for 'session.audio.input.format.type': expected a string, but got an integer "
               "instead.");
}

TEST(SchemaValidatorErrors, UndiscriminatedAnyOfReportsDeepestBranch)
{
  /* tool_choice: anyOf(string enum, {type:function,name}, {type:mcp,server_label,name}) */
  expect_error(client(realtime_update(R"("tool_choice":{"type":"function"})")), "missing_required_parameter",
               "session.tool_choice.name", "Missing required parameter: 'session.tool_choice.name'.");
  expect_error(client(realtime_update(R"("tool_choice":"sometimes")")), "invalid_value", "session.tool_choice",
               "Invalid value: 'sometimes'. Supported values are: 'none', 'auto', and 'required'.");
  /* voice: anyOf(VoiceIdsShared, {id}) */
  expect_error(client(realtime_update(R"("audio":{"output":{"voice":{"name":"x"}}})")),
               "missing_required_parameter", "session.audio.output.voice.id",
               "Missing required parameter: 'session.audio.output.voice.id'.");
}

TEST(SchemaValidatorErrors, NumericAndLengthBounds)
{
  expect_error(client(realtime_update(R"("audio":{"output":{"speed":2.0}})")), "decimal_above_max_value",
               "session.audio.output.speed",
               "Invalid 'session.audio.output.speed': decimal above maximum value. Expected a value <= 1.5, but "
               "got 2 instead.");
  expect_error(client(realtime_update(R"("audio":{"output":{"speed":0.1}})")), "decimal_below_min_value",
               "session.audio.output.speed",
               "Invalid 'session.audio.output.speed': decimal below minimum value. Expected a value >= 0.25, "
               "but got 0.1 instead.");
  expect_error(client(realtime_update(R"("audio":{"input":{"turn_detection":
                                          {"type":"server_vad","idle_timeout_ms":100}}})")),
               "integer_below_min_value", "session.audio.input.turn_detection.idle_timeout_ms",
               "Invalid 'session.audio.input.turn_detection.idle_timeout_ms': integer below minimum value. "
               "Expected a value >= 5000, but got 100 instead.");
  std::string long_id(513, 'x');
  expect_error(client(R"({"type":"input_audio_buffer.commit","event_id":")" + long_id + "\"}"),
               "string_above_max_length", "event_id",
               "Invalid 'event_id': string too long. Expected a string with maximum length 512, but got a "
               "string with length 513 instead.");
  expect_error(client(realtime_update(R"("audio":{"input":{"transcription":{"languages":[]}}})")),
               "empty_array", "session.audio.input.transcription.languages",
               "Invalid 'session.audio.input.transcription.languages': empty array. Expected an array with "
               "minimum length 1, but got an empty array instead.");
}

/* ---- the beta API's shapes are not GA ---- */

TEST(SchemaValidatorBeta, BetaSessionMembersAreUnknown)
{
  const std::vector<std::pair<std::string, std::string>> beta = {
    {"modalities", R"(["text","audio"])"},
    {"voice", R"("alloy")"},
    {"input_audio_format", R"("pcm16")"},
    {"output_audio_format", R"("g711_ulaw")"},
    {"turn_detection", R"({"type":"server_vad"})"},
    {"input_audio_transcription", R"({"model":"whisper-1"})"},
    {"temperature", "0.8"},
    {"max_response_output_tokens", R"("inf")"},
  };
  for (const auto &[member, value] : beta) {
    SCOPED_TRACE(member);
    expect_error(client(realtime_update("\"" + member + "\":" + value)), "unknown_parameter",
                 "session." + member, "Unknown parameter: 'session." + member + "'.");
  }
}

TEST(SchemaValidatorBeta, BetaFormatIsInvalidValue)
{
  expect_error(client(realtime_update(R"("audio":{"input":{"format":{"type":"audio/pcm16"}}})")),
               "invalid_value", "session.audio.input.format.type",
               "Invalid value: 'audio/pcm16'. Supported values are: 'audio/pcm', 'audio/pcmu', and "
               "'audio/pcma'.");
  expect_error(client(realtime_update(R"("audio":{"input":{"format":"pcm16"}})")), "invalid_type",
               "session.audio.input.format",
               "Invalid type for 'session.audio.input.format': expected an object, but got a string instead.");
}

TEST(SchemaValidatorBeta, SessionWithoutTypeIsMissingType)
{
  /* What a beta client migrating to GA first hears from the service. */
  expect_error(client(R"({"type":"session.update","session":{"modalities":["text"]}})"),
               "missing_required_parameter", "session.type", "Missing required parameter: 'session.type'.");
}

TEST(SchemaValidatorBeta, SessionTypeSelectsBranch)
{
  expect_error(client(R"({"type":"session.update","session":{"type":"conversation"}})"), "invalid_value",
               "session.type", "Invalid value: 'conversation'. Supported values are: 'realtime' and "
               "'transcription'.");
  /* instructions exist only on realtime sessions */
  expect_error(client(R"({"type":"session.update","session":{"type":"transcription","instructions":"x"}})"),
               "unknown_parameter", "session.instructions", "Unknown parameter: 'session.instructions'.");
  expect_error(client(R"({"type":"session.update","session":{"type":"transcription",
                          "audio":{"output":{}}}})"),
               "unknown_parameter", "session.audio.output", "Unknown parameter: 'session.audio.output'.");
}

/* ---- event type ---- */

TEST(SchemaValidatorEventType, UnknownClientEventType)
{
  auto e = client(R"({"type":"foo.bar"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_value");
  EXPECT_EQ(e->param, "type");
  const std::string prefix = "Invalid value: 'foo.bar'. Supported values are: 'session.update', ";
  EXPECT_EQ(e->message.rfind(prefix, 0), 0u) << e->message;
  for (const char *t : {"input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
                        "conversation.item.create", "conversation.item.truncate", "conversation.item.delete",
                        "conversation.item.retrieve", "response.create", "response.cancel",
                        "output_audio_buffer.clear"})
    EXPECT_NE(e->message.find(std::string("'") + t + "'"), std::string::npos) << t;
  EXPECT_NE(e->message.find(", and '"), std::string::npos);
  EXPECT_EQ(e->message.back(), '.');
  /* A server event is not a client event. */
  auto s = client(R"({"type":"session.created","session":{}})");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->code, "invalid_value");
  EXPECT_EQ(s->param, "type");
  EXPECT_EQ(s->message.rfind("Invalid value: 'session.created'. Supported values are: 'session.update', ", 0), 0u);
}

TEST(SchemaValidatorEventType, MissingOrMistypedType)
{
  expect_error(client(R"({"session":{}})"), "missing_required_parameter", "type",
               "Missing required parameter: 'type'.");
  expect_error(client(R"({"type":7})"), "invalid_type", "type",
               "Invalid type for 'type': expected a string, but got an integer instead.");
  expect_error(server(R"({"event_id":"e"})"), "missing_required_parameter", "type",
               "Missing required parameter: 'type'.");
  auto e = server(R"({"type":"session.update"})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_value");
  EXPECT_EQ(e->param, "type");
}

/* ---- server events ---- */

TEST(SchemaValidatorServer, ErrorEvent)
{
  EXPECT_VALID(server(R"({"type":"error","event_id":"event_1","error":{"type":"invalid_request_error",
      "code":"unknown_parameter","message":"Unknown parameter: 'session.foo'.","param":"session.foo",
      "event_id":null}})"));
  EXPECT_VALID(server(R"({"type":"error","event_id":"event_1","error":{"type":"server_error",
      "code":null,"message":"boom","param":null}})"));
  expect_error(server(R"({"type":"error","event_id":"event_1","error":{"type":"x"}})"),
               "missing_required_parameter", "error.message", "Missing required parameter: 'error.message'.");
}

TEST(SchemaValidatorServer, AudioDeltaAndSpeechStarted)
{
  EXPECT_VALID(server(R"({"type":"response.output_audio.delta","event_id":"e1","response_id":"r1",
      "item_id":"i1","output_index":0,"content_index":0,"delta":"AAAA"})"));
  EXPECT_VALID(server(R"({"type":"input_audio_buffer.speech_started","event_id":"e2",
      "audio_start_ms":1000,"item_id":"i2"})"));
  expect_error(server(R"({"type":"input_audio_buffer.speech_started","event_id":"e2",
      "audio_start_ms":"1000","item_id":"i2"})"),
               "invalid_type", "audio_start_ms",
               "Invalid type for 'audio_start_ms': expected an integer, but got a string instead.");
}

/* ---- named schemas, singleton ---- */

TEST(SchemaValidatorNamed, ValidateNamedSchema)
{
  EXPECT_VALID(named("RealtimeAudioFormats", R"({"type":"audio/pcmu"})"));
  EXPECT_VALID(named("RealtimeSessionCreateRequestGA", R"({"type":"realtime","instructions":"x"})"));
  expect_error(named("RealtimeSessionCreateRequestGA", R"({"type":"realtime","voice":"x"})"),
               "unknown_parameter", "voice", "Unknown parameter: 'voice'.");
  auto e = named("NoSuchSchema", "{}");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "unknown_schema");
}

TEST(SchemaValidatorNamed, SingletonIsSharedAndThreadSafe)
{
  const SchemaValidator *first = &SchemaValidator::instance();
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; t++)
    threads.emplace_back([t, first, &failures] {
      for (int i = 0; i < 50; i++) {
        if (&SchemaValidator::instance() != first)
          failures[t]++;
        if (client(kGaSessionUpdate).has_value())
          failures[t]++;
        auto e = client(realtime_update(R"("voice":"alloy")"));
        if (!e || e->param != "session.voice")
          failures[t]++;
      }
    });
  for (auto &th : threads)
    th.join();
  for (int f : failures)
    EXPECT_EQ(f, 0);
}

/* ---- data-driven: every example published in the schemas ---- */

namespace {

/* The examples are JSON "as in the docs": // comments, trailing commas, several documents in one
 * string. Strip those liberties and split into documents. */
std::vector<std::string> split_examples(const std::string &text)
{
  std::string clean;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (in_string) {
      clean += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n')
        i++;
      clean += '\n';
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      size_t end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
      continue;
    }
    clean += c;
  }

  std::vector<std::string> docs;
  std::string current;
  int depth = 0;
  in_string = escaped = false;
  for (size_t i = 0; i < clean.size(); i++) {
    char c = clean[i];
    if (in_string) {
      current += c;
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ',') {
      size_t next = clean.find_first_not_of(" \t\r\n", i + 1);
      if (next != std::string::npos && (clean[next] == '}' || clean[next] == ']'))
        continue;  // trailing comma
    }
    if (c == '{' || c == '[')
      depth++;
    if (depth == 0)
      continue;  // prose between documents
    if (c == '"')
      in_string = true;
    current += c;
    if (c == '}' || c == ']') {
      if (--depth == 0) {
        docs.push_back(current);
        current.clear();
      }
    }
  }
  return docs;
}

struct Example {
  std::string schema;
  size_t index;
  std::string text;
};

std::vector<Example> load_examples()
{
  std::vector<Example> out;
  GBytes *bytes = g_resource_lookup_data(clawvoice_schema_get_resource(),
                                         "/org/clawvoice/schema/openai-realtime-openapi.json",
                                         G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
  if (!bytes)
    return out;
  gsize size = 0;
  const char *data = (const char *) g_bytes_get_data(bytes, &size);
  json::ObjectPtr root = json::parse_object(std::string(data, size));
  g_bytes_unref(bytes);
  JsonObject *schemas = json::get_object(root.get(), "schemas");
  GList *names = json_object_get_members(schemas);
  for (GList *l = names; l; l = l->next) {
    const char *name = (const char *) l->data;
    JsonObject *meta = json::get_object(json::get_object(schemas, name), "x-oaiMeta");
    std::string example = json::get_string(meta, "example");
    size_t i = 0;
    for (const auto &doc : split_examples(example))
      out.push_back({name, i++, doc});
  }
  g_list_free(names);
  return out;
}

/* Published examples that disagree with their own schema. The validator follows the schema; each
 * entry says why the example fails, which error it gives, and which edits (members removed, values
 * replaced; dotted paths as in error params) make it conform, and the test checks that the edited
 * example validates, so nothing else is wrong with it. */
struct KnownBad {
  const char *reason;
  const char *code;
  const char *param;
  std::vector<std::string> remove;                          // members to delete
  std::vector<std::pair<std::string, std::string>> replace;  // member -> JSON value
};

const std::map<std::string, KnownBad> &known_bad()
{
  static const std::map<std::string, KnownBad> table = {
    {"RealtimeServerEventInputAudioBufferDtmfEventReceived_0",
     {"the example's type has a leading space (\" input_audio_buffer.dtmf_event_received\")",
      "invalid_value", "type", {}, {{"type", R"("input_audio_buffer.dtmf_event_received")"}}}},
    {"RealtimeClientEventResponseCreate_1",
     {"response.input[0] is an {type: item_reference} item, which RealtimeConversationItem does not list",
      "invalid_value", "response.input[0].type", {"response.input[0]"}, {}}},
    {"RealtimeServerEventConversationItemInputAudioTranscriptionDelta_0",
     {"the service's `obfuscation` member is not in the schema", "unknown_parameter", "obfuscation",
      {"obfuscation"}, {}}},
    {"RealtimeServerEventConversationItemInputAudioTranscriptionFailed_0",
     {"error.param is null, the schema says string", "invalid_type", "error.param", {"error.param"}, {}}},
    {"RealtimeServerEventConversationItemRetrieved_0",
     {"beta content part: type 'audio' (GA: 'output_audio') with a `format` member", "invalid_value",
      "item.content[0].type", {"item.content[0].format"}, {{"item.content[0].type", R"("output_audio")"}}}},
    {"RealtimeServerEventResponseOutputItemDone_0",
     {"beta content part type 'text' (GA: 'output_text')", "invalid_value", "item.content[0].type", {},
      {{"item.content[0].type", R"("output_text")"}}}},
    {"RealtimeServerEventResponseCreated_0",
     {"the service sends null for unset members the schema does not make nullable", "invalid_type",
      "response.status_details", {"response.status_details", "response.usage"}, {}}},
    {"RealtimeServerEventResponseDone_0",
     {"the service sends null for unset members the schema does not make nullable", "invalid_type",
      "response.status_details", {"response.status_details"}, {}}},
    {"RealtimeServerEventSessionCreated_0",
     {"the validator checks session.created's session as the RESPONSE shape the service sends (the "
      "schema says request); the example still has null members the schema does not make nullable",
      "invalid_type", "session.audio.input.transcription",
      {"session.include", "session.audio.input.transcription", "session.audio.input.noise_reduction"}, {}}},
    {"RealtimeServerEventSessionUpdated_0",
     {"the validator checks session.updated's session as the RESPONSE shape the service sends (the "
      "schema says request); the example still has null members the schema does not make nullable",
      "invalid_type", "session.audio.input.transcription",
      {"session.include", "session.audio.input.transcription", "session.audio.input.noise_reduction"}, {}}},
    {"RealtimeCreateClientSecretResponse_0",
     {"the service sends null for unset members the schema does not make nullable", "invalid_type",
      "session.audio.input.transcription",
      {"session.include", "session.audio.input.transcription",
       "session.audio.input.noise_reduction"}, {}}},
    {"RealtimeTranscriptionSessionCreateResponseGA_0",
     {"beta shape: audio.input.format is the string 'pcm16' (GA: an object), and null members",
      "invalid_type", "audio.input.format",
      {"audio.input.noise_reduction", "audio.input.transcription.language"},
      {{"audio.input.format", R"({"type":"audio/pcm","rate":24000})"}}}},
  };
  return table;
}

class PublishedExample : public ::testing::TestWithParam<Example> {};

std::optional<SchemaError> validate_example(const Example &ex, const std::string &text)
{
  if (ex.schema.rfind("RealtimeClientEvent", 0) == 0 && ex.schema != "RealtimeClientEvent")
    return client(text);
  if (ex.schema.rfind("RealtimeServerEvent", 0) == 0 && ex.schema != "RealtimeServerEvent")
    return server(text);
  return named(ex.schema, text);
}

/* Finds the container of @path ("a.b[2].c") and the last segment's name or index. */
bool locate(JsonNode *root, const std::string &path, JsonNode **parent, std::string *member, long *index)
{
  JsonNode *node = root;
  size_t i = 0;
  *parent = nullptr;
  while (i < path.size()) {
    if (path[i] == '.')
      i++;
    *parent = node;
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      *index = std::stol(path.substr(i + 1, close - i - 1));
      member->clear();
      i = close + 1;
      if (!JSON_NODE_HOLDS_ARRAY(node) || *index >= (long) json_array_get_length(json_node_get_array(node)))
        return false;
      if (i < path.size())
        node = json_array_get_element(json_node_get_array(node), *index);
    } else {
      size_t end = path.find_first_of(".[", i);
      *member = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
      *index = -1;
      i = end == std::string::npos ? path.size() : end;
      if (!JSON_NODE_HOLDS_OBJECT(node) || !json_object_has_member(json_node_get_object(node), member->c_str()))
        return false;
      if (i < path.size())
        node = json_object_get_member(json_node_get_object(node), member->c_str());
    }
  }
  return *parent != nullptr;
}

std::string apply_fixes(const std::string &text, const KnownBad &bad)
{
  json::NodePtr root = json::parse(text);
  JsonNode *parent;
  std::string member;
  long index;
  for (const auto &path : bad.remove) {
    EXPECT_TRUE(locate(root.get(), path, &parent, &member, &index)) << "no " << path;
    if (index >= 0)
      json_array_remove_element(json_node_get_array(parent), (guint) index);
    else
      json_object_remove_member(json_node_get_object(parent), member.c_str());
  }
  for (const auto &[path, value] : bad.replace) {
    EXPECT_TRUE(locate(root.get(), path, &parent, &member, &index)) << "no " << path;
    json::NodePtr v = json::parse(value);
    if (index >= 0)
      ADD_FAILURE() << "replacing array elements is not supported: " << path;
    else
      json_object_set_member(json_node_get_object(parent), member.c_str(), json_node_copy(v.get()));
  }
  return json::to_string(root.get());
}

}  // namespace

TEST_P(PublishedExample, Validates)
{
  const Example &ex = GetParam();
  SCOPED_TRACE(ex.text);
  std::string key = ex.schema + "_" + std::to_string(ex.index);
  auto result = validate_example(ex, ex.text);
  auto bad = known_bad().find(key);
  if (bad == known_bad().end()) {
    EXPECT_VALID(result);
    return;
  }
  SCOPED_TRACE(bad->second.reason);
  ASSERT_TRUE(result.has_value()) << "known-bad example now validates; drop it from known_bad()";
  EXPECT_EQ(result->code, bad->second.code) << describe(result);
  EXPECT_EQ(result->param, bad->second.param) << describe(result);
  std::string fixed = apply_fixes(ex.text, bad->second);
  EXPECT_VALID(validate_example(ex, fixed)) << fixed;
}

INSTANTIATE_TEST_SUITE_P(SchemaExamples, PublishedExample, ::testing::ValuesIn(load_examples()),
                         [](const ::testing::TestParamInfo<Example> &info) {
                           return info.param.schema + "_" + std::to_string(info.param.index);
                         });

TEST(SchemaExamplesCoverage, EveryEventSchemaHasAnExample)
{
  auto examples = load_examples();
  size_t client_examples = 0, server_examples = 0;
  for (const auto &ex : examples) {
    client_examples += ex.schema.rfind("RealtimeClientEvent", 0) == 0;
    server_examples += ex.schema.rfind("RealtimeServerEvent", 0) == 0;
  }
  EXPECT_GE(client_examples, 11u);  // one per client event type, response.create has two
  EXPECT_GE(server_examples, 40u);
}
