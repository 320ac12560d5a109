/* Responses: tool calls and their outputs, truncation, one response at a time, cancel, text
 * output, restored context, the voice lock. */
#include "sim_test_support.h"

namespace clawvoice::sim::test {
namespace {

using Responses = SimTest;

const char kTools[] = R"({"type":"session.update","session":{"type":"realtime",
    "audio":{"input":{"turn_detection":null}},
    "tools":[{"type":"function","name":"send_to_openclaw","description":"Ask the agent.",
              "parameters":{"type":"object","properties":{"priority":{"type":"integer"},
                                                          "request":{"type":"string"}},
                            "required":["priority","request"]}},
             {"type":"function","name":"other","parameters":{"type":"object"}}]}})";

std::string str(const Event *e, const char *member)
{
  return e ? json::get_string(e->object.get(), member) : "<none>";
}

std::string error_code(const Event *e)
{
  return e ? json::get_string(json::get_object(e->object.get(), "error"), "code") : "<none>";
}

JsonObject *response_of(const Event *e)
{
  return e ? json::get_object(e->object.get(), "response") : nullptr;
}

TEST_F(Responses, DefaultTurnCallsTheFirstToolThenSpeaksItsOutput)
{
  start();
  WsClient &c = connect();
  ASSERT_NE(request(c, kTools, "session.updated"), nullptr);
  auto voice = speech_pcm("Book me a table for two.");
  send_audio(c, voice);
  ASSERT_NE(request(c, R"({"type":"input_audio_buffer.commit"})", "input_audio_buffer.committed"),
            nullptr);
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done"), nullptr);

  const Event *args = c.of_type("response.function_call_arguments.done").at(0);
  EXPECT_EQ(str(args, "name"), "send_to_openclaw");
  std::string call_id = str(args, "call_id");
  EXPECT_TRUE(g_str_has_prefix(call_id.c_str(), "call_"));
  json::ObjectPtr arguments = json::parse_object(str(args, "arguments"));
  ASSERT_NE(arguments, nullptr);
  std::string request_text = json::get_string(arguments.get(), "request");
  EXPECT_NE(request_text.find("seconds of speech"), std::string::npos) << request_text;
  std::string streamed;
  for (const Event *d : c.of_type("response.function_call_arguments.delta"))
    streamed += str(d, "delta");
  EXPECT_EQ(streamed, str(args, "arguments"));
  JsonObject *item = json::get_object(c.of_type("response.output_item.done").at(0)->object.get(),
                                      "item");
  EXPECT_EQ(json::get_string(item, "type"), "function_call");
  EXPECT_EQ(json::get_string(item, "arguments"), str(args, "arguments"));
  EXPECT_TRUE(c.of_type("response.output_audio.delta").empty());

  std::string output = R"({"type":"conversation.item.create","item":{"type":"function_call_output",
      "call_id":")" + call_id + R"(","output":"{\"result\":\"Your table is booked for eight.\"}"}})";
  ASSERT_NE(request(c, output, "conversation.item.done"), nullptr);
  const Event *done = request(c, R"({"type":"response.create"})", "response.done", 10000);
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(json::get_string(response_of(done), "status"), "completed");
  auto transcripts = c.of_type("response.output_audio_transcript.done");
  ASSERT_EQ(transcripts.size(), 1u);
  EXPECT_EQ(str(transcripts[0], "transcript"), "Here is the answer. Your table is booked for eight.");
  EXPECT_GT(delta_audio_ms(c, AudioFormat{}), 1500.0);
}

TEST_F(Responses, ASystemInstructionIsFollowedWithWhatItSaysToSay)
{
  start(fast_options());
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"conversation.item.create","item":{"type":"message","role":"system",
      "content":[{"type":"input_text","text":"Your agent has answered. Tell the caller now: You have two meetings: 9 and 12."}]}})",
      "conversation.item.done"), nullptr);
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  auto transcripts = c.of_type("response.output_audio_transcript.done");
  ASSERT_EQ(transcripts.size(), 1u);
  EXPECT_EQ(str(transcripts[0], "transcript"), "You have two meetings: 9 and 12.");

  /* A quoted line is said without its quotes. */
  ASSERT_NE(request(c, R"({"type":"conversation.item.create","item":{"type":"message","role":"system",
      "content":[{"type":"input_text","text":"Tell the caller briefly: \"Still on it.\""}]}})",
      "conversation.item.done"), nullptr);
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  transcripts = c.of_type("response.output_audio_transcript.done");
  ASSERT_EQ(transcripts.size(), 2u);
  EXPECT_EQ(str(transcripts[1], "transcript"), "Still on it.");
}

TEST_F(Responses, FunctionCallOutputNeedsAKnownCallId)
{
  start();
  WsClient &c = connect();
  const Event *e = request(c, R"({"type":"conversation.item.create","event_id":"o1","item":{
      "type":"function_call_output","call_id":"call_nope","output":"{}"}})", "error");
  EXPECT_EQ(error_code(e), "invalid_value");
  EXPECT_EQ(json::get_string(json::get_object(e->object.get(), "error"), "event_id"), "o1");
}

TEST_F(Responses, TruncateWithinWhatWasSentIsAcceptedBeyondItRejected)
{
  start();
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  const Event *item_done = c.of_type("response.output_item.done").at(0);
  std::string item_id = json::get_string(json::get_object(item_done->object.get(), "item"), "id");
  const double sent = delta_audio_ms(c, AudioFormat{}, item_id);
  ASSERT_GT(sent, 1000.0);

  std::string too_far = R"({"type":"conversation.item.truncate","item_id":")" + item_id +
                        R"(","content_index":0,"audio_end_ms":)" +
                        std::to_string((int64_t) sent + 500) + "}";
  const Event *rejected = request(c, too_far, "error");
  ASSERT_NE(rejected, nullptr);
  JsonObject *err = json::get_object(rejected->object.get(), "error");
  EXPECT_EQ(json::get_string(err, "message"),
            "Audio content of " + std::to_string((int64_t) sent) + "ms is already shorter than " +
                std::to_string((int64_t) sent + 500) + "ms");
  EXPECT_EQ(json::get_string(err, "param"), "audio_end_ms");

  std::string ok = R"({"type":"conversation.item.truncate","item_id":")" + item_id +
                   R"(","content_index":0,"audio_end_ms":800})";
  const Event *truncated = request(c, ok, "conversation.item.truncated");
  ASSERT_NE(truncated, nullptr);
  EXPECT_EQ(json::get_int(truncated->object.get(), "audio_end_ms"), 800);

  const Event *unknown = request(c, R"({"type":"conversation.item.truncate","item_id":"item_x",
      "content_index":0,"audio_end_ms":1})", "error");
  EXPECT_EQ(error_code(unknown), "invalid_value");

  auto t = sim->truncations();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_FALSE(t[0].accepted);
  EXPECT_EQ(t[0].audio_sent_ms, (int64_t) sent);
  EXPECT_TRUE(t[1].accepted);
  EXPECT_EQ(t[1].audio_end_ms, 800);
  EXPECT_FALSE(t[2].accepted);
}

TEST_F(Responses, TruncatingAUserItemIsRejected)
{
  start();
  WsClient &c = connect();
  const Event *added = request(c, R"({"type":"conversation.item.create","item":{"type":"message",
      "role":"user","content":[{"type":"input_text","text":"hi"}]}})", "conversation.item.added");
  ASSERT_NE(added, nullptr);
  std::string id = json::get_string(json::get_object(added->object.get(), "item"), "id");
  const Event *e = request(c, R"({"type":"conversation.item.truncate","item_id":")" + id +
                                  R"(","content_index":0,"audio_end_ms":0})", "error");
  EXPECT_EQ(error_code(e), "invalid_value");
}

TEST_F(Responses, OneResponseAtATimeAndCancel)
{
  Options o = fast_options();
  o.response_delay_ms = 300;
  start(o);
  WsClient &c = connect();
  const Event *none = request(c, R"({"type":"response.cancel"})", "error");
  EXPECT_EQ(error_code(none), "response_cancel_not_active");
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.created"), nullptr);
  const Event *busy = request(c, R"({"type":"response.create","event_id":"r2"})", "error");
  EXPECT_EQ(error_code(busy), "conversation_already_has_active_response");
  const Event *done = request(c, R"({"type":"response.cancel"})", "response.done");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(json::get_string(response_of(done), "status"), "cancelled");
  EXPECT_EQ(json::get_string(json::get_object(response_of(done), "status_details"), "reason"),
            "client_cancelled");
  EXPECT_TRUE(c.of_type("response.output_audio.delta").empty()) << "cancelled while thinking";
  EXPECT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
}

TEST_F(Responses, TextModalityStreamsText)
{
  Options o = fast_options();
  o.reply_text = "Plain words, no voice at all.";
  start(o);
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"session.update","session":{"type":"realtime",
      "output_modalities":["text"]}})", "session.updated"), nullptr);
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done"), nullptr);
  EXPECT_TRUE(c.of_type("response.output_audio.delta").empty());
  std::string text;
  for (const Event *d : c.of_type("response.output_text.delta"))
    text += str(d, "delta");
  EXPECT_EQ(text, o.reply_text);
  EXPECT_EQ(str(c.of_type("response.output_text.done").at(0), "text"), o.reply_text);
}

TEST_F(Responses, RestoredContextIsKeptInOrder)
{
  Options o = fast_options();
  o.on_user_turn = [](const UserTurn &turn) {
    return Reply{Reply::Kind::Speak, "You typed " + turn.transcript, "", ""};
  };
  start(o);
  WsClient &c = connect();
  const char *items[] = {
      R"({"type":"message","role":"system","content":[{"type":"input_text","text":"Be kind."}]})",
      R"({"type":"message","role":"user","content":[{"type":"input_text","text":"Hi."}]})",
      R"({"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello!"}]})",
      R"({"type":"message","role":"user","content":[{"type":"input_text","text":"Where am I."}]})"};
  std::string previous;
  for (const char *item : items) {
    const Event *done = request(c, std::string(R"({"type":"conversation.item.create","item":)") +
                                       item + "}", "conversation.item.done");
    ASSERT_NE(done, nullptr);
    EXPECT_EQ(str(done, "previous_item_id"), previous.empty() ? "" : previous);
    previous = json::get_string(json::get_object(done->object.get(), "item"), "id");
  }
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  EXPECT_EQ(str(c.of_type("response.output_audio_transcript.done").at(0), "transcript"),
            "You typed Where am I.");
  json::NodePtr conversation = json::parse(sim->conversation_json());
  ASSERT_TRUE(conversation && JSON_NODE_HOLDS_ARRAY(conversation.get()));
  JsonArray *list = json_node_get_array(conversation.get());
  ASSERT_EQ(json_array_get_length(list), 5u);
  const char *roles[] = {"system", "user", "assistant", "user", "assistant"};
  for (guint i = 0; i < 5; i++)
    EXPECT_EQ(json::get_string(json_array_get_object_element(list, i), "role"), roles[i]);
}

TEST_F(Responses, VoiceIsLockedOnceTheAssistantHasSpoken)
{
  start();
  WsClient &c = connect();
  ASSERT_NE(request(c, R"({"type":"session.update","session":{"type":"realtime",
      "audio":{"output":{"voice":"cedar"}}}})", "session.updated"), nullptr);
  ASSERT_NE(request(c, R"({"type":"response.create"})", "response.done", 10000), nullptr);
  const Event *e = request(c, R"({"type":"session.update","session":{"type":"realtime",
      "audio":{"output":{"voice":"marin"}}}})", "error");
  EXPECT_EQ(error_code(e), "cannot_update_voice");
  EXPECT_NE(request(c, R"({"type":"session.update","session":{"type":"realtime",
      "audio":{"output":{"voice":"cedar"}}}})", "session.updated"), nullptr)
      << "the same voice is not a change";
}

}  // namespace
}  // namespace clawvoice::sim::test
