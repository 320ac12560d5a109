/* Our client events, checked against OpenAI's schemas with the same validator the simulator uses. */
#include <gtest/gtest.h>

#include "common/json.h"
#include "realtime/client_events.h"
#include "realtime/schema_validator.h"
#include "realtime/session_config.h"

using namespace clawvoice;
using namespace clawvoice::realtime;

static void expect_valid(const std::string &text)
{
  json::ObjectPtr event = json::parse_object(text);
  ASSERT_TRUE(event) << text;
  auto error = SchemaValidator::instance().validate_client_event(event.get());
  EXPECT_FALSE(error.has_value()) << text << "\n -> " << (error ? error->code + ": " + error->message : "");
}

TEST(ClientEvents, SessionUpdateVariantsAreValidGA)
{
  SessionConfig c;
  c.instructions = "Be brief.";
  c.transcription_model = "gpt-4o-mini-transcribe";
  c.transcription_language = "en";
  c.noise_reduction = "near_field";
  c.vad_idle_timeout_ms = 6000;
  c.max_output_tokens = 500;
  c.tools.push_back({"send_to_openclaw", "Send a task to OpenClaw.",
      R"({"type":"object","properties":{"message":{"type":"string"}},"required":["message"]})"});
  for (AudioFormat in : {AudioFormat::Pcm24k, AudioFormat::Pcmu, AudioFormat::Pcma}) {
    for (TurnDetection td : {TurnDetection::ServerVad, TurnDetection::SemanticVad, TurnDetection::None}) {
      c.input_format = in;
      c.output_format = in;
      c.turn_detection = td;
      expect_valid(build_session_update(c, "evt_1"));
    }
  }
  c.sideband = true;
  expect_valid(build_session_update(c));
  SessionConfig bare;
  expect_valid(build_session_update(bare));
}

TEST(ClientEvents, SessionUpdateUsesNoBetaNames)
{
  SessionConfig c;
  std::string text = build_session_update(c);
  for (const char *beta : {"\"modalities\"", "input_audio_format", "\"pcm16\"", "input_audio_transcription"})
    EXPECT_EQ(text.find(beta), std::string::npos) << beta;
  json::ObjectPtr event = json::parse_object(text);
  JsonObject *session = json::get_object(event.get(), "session");
  EXPECT_FALSE(json_object_has_member(session, "voice")) << "GA puts the voice under audio.output";
  EXPECT_FALSE(json_object_has_member(session, "turn_detection"));
}

TEST(ClientEvents, EveryBuilderIsValid)
{
  std::vector<uint8_t> audio(960, 0x12);
  expect_valid(build_input_audio_append(audio.data(), audio.size()));
  expect_valid(build_input_audio_commit("c1"));
  expect_valid(build_input_audio_clear());
  expect_valid(build_response_create());
  expect_valid(build_response_create("Say it again.", "r1"));
  expect_valid(build_response_cancel());
  expect_valid(build_item_truncate("item_1", 1500, "t1"));
  expect_valid(build_function_call_output("call_1", R"({"result":"ok \"quoted\""})"));
  expect_valid(build_user_text_item("hello"));
  expect_valid(build_assistant_text_item("hi there"));
  expect_valid(build_system_text_item("The agent answered: 42."));
}

TEST(ClientEvents, AudioAppendIsExactBase64)
{
  const uint8_t bytes[] = {0x00, 0xFF, 0x10, 0x80, 0x7F};
  json::ObjectPtr event = json::parse_object(build_input_audio_append(bytes, sizeof bytes));
  ASSERT_TRUE(event);
  EXPECT_EQ(json::get_string(event.get(), "audio"), "AP8QgH8=");
  EXPECT_EQ(json::parse_object(build_input_audio_append(bytes, 0)) != nullptr, true);
}
