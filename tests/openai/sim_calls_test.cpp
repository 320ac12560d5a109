/* The simulator's OpenAI-hosted calls and client secrets: as strict as the real service (API key,
 * schemas, call states), with OpenAI's error shapes. */
#include <gtest/gtest.h>

#include "common/json.h"
#include "http_helpers.h"
#include "openai/call_control.h"
#include "realtime/schema_validator.h"
#include "realtime_simulator.h"
#include "ws_client.h"

using namespace clawvoice;
using namespace clawvoice::openai::test;

namespace {

const char kKey[] = "sk-test-calls";

class SimCallsTest : public ::testing::Test {
 protected:
  void SetUp() override
  {
    sim::Options options;
    options.api_key = kKey;
    sim_ = std::make_unique<sim::RealtimeSimulator>(options);
    std::string why;
    ASSERT_TRUE(sim_->start(&why)) << why;
    base_ = sim_->gateway_url() + "/v1";
  }
  void TearDown() override { sim_->stop(); }

  /* A ringing call whose webhook goes nowhere (nobody listens on port 1). */
  std::string ring()
  {
    sim::SipCallRequest request;
    request.webhook_url = "http://127.0.0.1:1/openai/webhook";
    return sim_->place_sip_call(request);
  }
  HttpReply post(const std::string &path, const std::string &body, const std::string &key = kKey)
  {
    return http_request("POST", base_ + path, body, bearer(key));
  }
  static std::string error_code(const HttpReply &reply)
  {
    json::ObjectPtr body = json::parse_object(reply.body);
    JsonObject *error = body ? json::get_object(body.get(), "error") : nullptr;
    return error ? json::get_string(error, "code") : "(no error object: " + reply.body + ")";
  }
  std::string state(const std::string &call_id)
  {
    sim::SimCallRecord record;
    return sim_->sip_call(call_id, &record) ? record.state : "(unknown)";
  }

  std::unique_ptr<sim::RealtimeSimulator> sim_;
  std::string base_;
};

std::string accept_body()
{
  realtime::SessionConfig session;
  session.instructions = "Be brief.";
  session.tools = {openai::agent_tool()};
  return openai::build_call_session(session);
}

}  // namespace

TEST_F(SimCallsTest, AcceptThenReferThenHangup)
{
  std::string call = ring();
  ASSERT_EQ(call.rfind("rtc_", 0), 0u) << call;
  EXPECT_EQ(state(call), "incoming");
  HttpReply accepted = post(openai::call_control_path(call, "accept"), accept_body());
  EXPECT_EQ(accepted.status, 200u) << accepted.body;
  EXPECT_EQ(state(call), "accepted");
  HttpReply referred = post(openai::call_control_path(call, "refer"), openai::build_refer_body("tel:+14155550123"));
  EXPECT_EQ(referred.status, 200u) << referred.body;
  HttpReply hung = post(openai::call_control_path(call, "hangup"), "");
  EXPECT_EQ(hung.status, 200u) << hung.body;
  sim::SimCallRecord record;
  ASSERT_TRUE(sim_->sip_call(call, &record));
  EXPECT_EQ(record.state, "ended");
  EXPECT_EQ(record.ended_by, "api");
  ASSERT_EQ(record.refers.size(), 1u);
  EXPECT_EQ(record.refers[0], "tel:+14155550123");
  EXPECT_NE(record.accept_body.find("Be brief."), std::string::npos);
  /* Over is over. */
  EXPECT_EQ(post(openai::call_control_path(call, "hangup"), "").status, 400u);
  EXPECT_EQ(post(openai::call_control_path(call, "accept"), accept_body()).status, 400u);
}

TEST_F(SimCallsTest, RejectWithAndWithoutStatus)
{
  std::string a = ring(), b = ring();
  EXPECT_EQ(post(openai::call_control_path(a, "reject"), openai::build_reject_body(486)).status, 200u);
  EXPECT_EQ(post(openai::call_control_path(b, "reject"), "").status, 200u);
  sim::SimCallRecord ra, rb;
  ASSERT_TRUE(sim_->sip_call(a, &ra) && sim_->sip_call(b, &rb));
  EXPECT_EQ(ra.state, "rejected");
  EXPECT_EQ(ra.reject_status, 486);
  EXPECT_EQ(rb.reject_status, 603);   /* the documented default */
  EXPECT_EQ(post(openai::call_control_path(a, "accept"), accept_body()).status, 400u);
}

TEST_F(SimCallsTest, StrictAboutKeysBodiesAndCalls)
{
  std::string call = ring();
  HttpReply bad_key = post(openai::call_control_path(call, "accept"), accept_body(), "sk-wrong");
  EXPECT_EQ(bad_key.status, 401u);
  EXPECT_EQ(error_code(bad_key), "invalid_api_key");
  EXPECT_EQ(bad_key.body.find("sk-wrong"), std::string::npos) << "the key must not be echoed";

  HttpReply unknown = post(openai::call_control_path("rtc_nope", "accept"), accept_body());
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(error_code(unknown), "call_not_found");

  /* Closed objects: a field the schema does not list is refused with its path. */
  HttpReply extra = post(openai::call_control_path(call, "refer"), R"({"target_uri":"tel:+1","why":"x"})");
  EXPECT_EQ(extra.status, 400u);
  EXPECT_EQ(error_code(extra), "unknown_parameter") << extra.body;
  HttpReply beta = post(openai::call_control_path(call, "accept"), R"({"type":"realtime","modalities":["audio"]})");
  EXPECT_EQ(beta.status, 400u);
  EXPECT_EQ(error_code(beta), "unknown_parameter") << beta.body;
  EXPECT_EQ(post(openai::call_control_path(call, "accept"), "{not json").status, 400u);
  EXPECT_EQ(post(openai::call_control_path(call, "accept"), "").status, 400u);   /* the session is required */
  EXPECT_EQ(post(openai::call_control_path(call, "refer"), openai::build_refer_body("tel:+1")).status, 400u)
      << "a call that was never accepted cannot be referred";
  EXPECT_EQ(post(openai::call_control_path(call, "hangup"), "{}").status, 400u) << "hangup takes no body";
  EXPECT_EQ(post(openai::call_control_path(call, "dance"), "").status, 404u);
  EXPECT_EQ(http_request("GET", base_ + openai::call_control_path(call, "accept"), "", bearer(kKey)).status, 405u);
  EXPECT_EQ(state(call), "incoming") << "nothing above may have changed the call";

  auto requests = sim_->rest_requests();
  EXPECT_GE(requests.size(), 9u);
}

TEST_F(SimCallsTest, ClientSecretsAreMintedValidatedAndUsable)
{
  realtime::SessionConfig session;
  session.instructions = "Browser voice.";
  session.voice = "verse";
  session.tools = {openai::agent_tool()};
  HttpReply minted = post("/realtime/client_secrets", openai::build_client_secret_request(session, 120));
  ASSERT_EQ(minted.status, 200u) << minted.body;
  json::NodePtr node = json::parse(minted.body);
  ASSERT_TRUE(node);
  auto invalid = realtime::SchemaValidator::instance().validate("RealtimeCreateClientSecretResponse", node.get());
  EXPECT_FALSE(invalid) << invalid->message << " in " << minted.body;
  JsonObject *object = json_node_get_object(node.get());
  std::string value = json::get_string(object, "value");
  EXPECT_EQ(value.rfind("ek_", 0), 0u);
  gint64 expires_at = json::get_int(object, "expires_at");
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  EXPECT_NEAR((double) expires_at, (double) (now + 120), 3.0);
  EXPECT_NE(minted.body.find("Browser voice."), std::string::npos);
  EXPECT_NE(minted.body.find("\"verse\""), std::string::npos);

  /* The ephemeral key opens a Realtime WebSocket, as the real service lets it. */
  sim::test::WsClient ws;
  sim::test::ConnectOptions options;
  options.api_key = value;
  ASSERT_TRUE(ws.connect(sim_->url() + "?model=gpt-realtime", options));
  EXPECT_TRUE(ws.wait_for("session.created"));

  /* … but it is no API key: call control and minting refuse it. */
  EXPECT_EQ(post("/realtime/client_secrets", "{}", value).status, 401u);
  EXPECT_EQ(post("/realtime/client_secrets", R"({"expires_after":{"anchor":"created_at","seconds":5}})").status, 400u);
  EXPECT_EQ(post("/realtime/client_secrets", R"({"expires_after":{"anchor":"updated_at"}})").status, 400u);
  EXPECT_EQ(post("/realtime/client_secrets", R"({"session":{"type":"realtime","voice":"marin"}})").status, 400u)
      << "top-level voice is a beta name";
}

TEST_F(SimCallsTest, SidebandIsCountedAndClosedWhenTheCallerHangsUp)
{
  std::string call = ring();
  ASSERT_EQ(post(openai::call_control_path(call, "accept"), accept_body()).status, 200u);
  sim::test::WsClient ws;
  sim::test::ConnectOptions options;
  options.api_key = kKey;
  ASSERT_TRUE(ws.connect(sim_->url() + "?call_id=" + call, options));
  ASSERT_TRUE(ws.wait_for("session.created"));
  sim::SimCallRecord record;
  ASSERT_TRUE(sim_->sip_call(call, &record));
  EXPECT_EQ(record.sideband_connections, 1);
  EXPECT_TRUE(sim_->sip_caller_hangs_up(call));
  EXPECT_TRUE(ws.wait_closed(3000));
  EXPECT_EQ(ws.close_code(), SOUP_WEBSOCKET_CLOSE_NORMAL);
  ASSERT_TRUE(sim_->sip_call(call, &record));
  EXPECT_EQ(record.ended_by, "caller");
  EXPECT_FALSE(sim_->sip_caller_hangs_up(call)) << "a call ends once";
}

/* OpenAI's SIP side of a conversation: the caller speaks on the call, the sideband sees the turn
 * as VAD would give it, and the model's tool call, its output and the spoken answer go over it. */
TEST_F(SimCallsTest, CallerSpeaksOnTheCallAndTheSidebandCarriesTheToolCall)
{
  const std::string question = "What is on my calendar tomorrow?";
  std::string call = ring();
  EXPECT_EQ(sim_->sip_caller_says(call, question), 0) << "no session hears a call not yet joined";
  realtime::SessionConfig session;
  session.instructions = "Be brief.";
  session.transcription_model = "gpt-4o-mini-transcribe";
  session.tools = {openai::agent_tool()};
  ASSERT_EQ(post(openai::call_control_path(call, "accept"), openai::build_call_session(session)).status, 200u);

  sim::test::WsClient ws;
  sim::test::ConnectOptions options;
  options.api_key = kKey;
  ASSERT_TRUE(ws.connect(sim_->url() + "?call_id=" + call, options));
  /* The sideband joins the session the call was accepted with. */
  const sim::test::Event *created = ws.wait_for("session.created");
  ASSERT_TRUE(created);
  EXPECT_NE(created->text.find("Be brief."), std::string::npos) << created->text;
  EXPECT_NE(created->text.find("send_to_openclaw"), std::string::npos) << created->text;

  ASSERT_EQ(sim_->sip_caller_says(call, question), 1);
  const sim::test::Event *started = ws.wait_for("input_audio_buffer.speech_started");
  ASSERT_TRUE(started);
  const std::string item_id = json::get_string(started->object.get(), "item_id");
  const sim::test::Event *stopped = ws.wait_for("input_audio_buffer.speech_stopped");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(json::get_string(stopped->object.get(), "item_id"), item_id);
  EXPECT_GT(json::get_int(stopped->object.get(), "audio_end_ms"), json::get_int(started->object.get(), "audio_start_ms") + 1000)
      << "about the time the question takes to say";
  const sim::test::Event *committed = ws.wait_for("input_audio_buffer.committed");
  ASSERT_TRUE(committed);
  EXPECT_EQ(json::get_string(committed->object.get(), "item_id"), item_id);
  const sim::test::Event *added = ws.wait_for("conversation.item.added");
  ASSERT_TRUE(added);
  JsonObject *user_item = json::get_object(added->object.get(), "item");
  EXPECT_EQ(json::get_string(user_item, "id"), item_id);
  EXPECT_EQ(json::get_string(user_item, "role"), "user");
  ASSERT_TRUE(ws.wait_for("conversation.item.done"));
  const sim::test::Event *transcribed = ws.wait_for("conversation.item.input_audio_transcription.completed");
  ASSERT_TRUE(transcribed);
  EXPECT_EQ(json::get_string(transcribed->object.get(), "transcript"), question);

  /* The model asks the tool, as for any spoken request. */
  const sim::test::Event *asked = ws.wait_for("response.function_call_arguments.done");
  ASSERT_TRUE(asked);
  const std::string fn_call_id = json::get_string(asked->object.get(), "call_id");
  EXPECT_EQ(json::get_string(asked->object.get(), "name"), "send_to_openclaw");
  EXPECT_NE(json::get_string(asked->object.get(), "arguments").find(question), std::string::npos);
  ASSERT_TRUE(ws.wait_for("response.done"));

  json::ObjectPtr output = json::parse_object(R"({"type":"conversation.item.create","item":{"type":"function_call_output"}})");
  JsonObject *item = json::get_object(output.get(), "item");
  json_object_set_string_member(item, "call_id", fn_call_id.c_str());
  json_object_set_string_member(item, "output", R"({"result":"You see the dentist at 3 pm."})");
  ws.send(output.get());
  ws.send(R"({"type":"response.create"})");
  const sim::test::Event *said = ws.wait_for("response.output_audio_transcript.done");
  ASSERT_TRUE(said);
  EXPECT_NE(json::get_string(said->object.get(), "transcript").find("You see the dentist at 3 pm."), std::string::npos);
  ASSERT_TRUE(ws.wait_for("response.done"));
  EXPECT_TRUE(ws.of_type("response.output_audio.delta").empty()) << "the call carries the audio, not the sideband";
  EXPECT_TRUE(ws.of_type("error").empty()) << ws.of_type("error").front()->text;
  EXPECT_TRUE(ws.schema_failures().empty()) << ws.schema_failures().front();

  sim::SimCallRecord record;
  ASSERT_TRUE(sim_->sip_call(call, &record));
  ASSERT_EQ(record.caller_said.size(), 1u);
  EXPECT_EQ(record.caller_said[0], question);
  ASSERT_EQ(record.function_calls.size(), 1u);
  EXPECT_EQ(record.function_calls[0].call_id, fn_call_id);
  EXPECT_TRUE(record.function_calls[0].answered);
  EXPECT_NE(record.function_calls[0].output.find("dentist"), std::string::npos);
  ASSERT_FALSE(record.assistant_said.empty());
  EXPECT_NE(record.assistant_said.back().find("You see the dentist at 3 pm."), std::string::npos);

  EXPECT_TRUE(sim_->sip_caller_hangs_up(call));
  EXPECT_TRUE(ws.wait_closed(3000));
  EXPECT_EQ(sim_->sip_caller_says(call, question), 0) << "nobody hears a call that is over";
}

/* A browser's WebRTC call is hung up through the API like a SIP call (POST …/rtc_…/hangup). The
 * offer is written by hand: the simulator answers it (webrtcbin), no peer ever connects. */
TEST_F(SimCallsTest, WebRtcCallIsHungUpThroughTheApi)
{
  const std::string offer =
      "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
      "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:sImU\r\na=ice-pwd:simulatortestpassword0123\r\n"
      "a=ice-options:trickle\r\na=fingerprint:sha-256 "
      "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F\r\n"
      "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
      "a=fmtp:111 minptime=10;useinbandfec=1\r\n";
  HttpReply answered = http_request("POST", base_ + "/realtime/calls", "",
                                    {{"Authorization", std::string("Bearer ") + kKey}, {"Content-Type", "application/sdp"}});
  EXPECT_EQ(answered.status, 400u) << "an empty offer is refused: " << answered.body;

  /* http_request sends a body as JSON: send the SDP with libsoup directly. */
  SoupSession *session = soup_session_new_with_options("timeout", 10, "proxy-resolver", nullptr, nullptr);
  SoupMessage *message = soup_message_new("POST", (base_ + "/realtime/calls").c_str());
  soup_message_headers_replace(soup_message_get_request_headers(message), "Authorization",
                               (std::string("Bearer ") + kKey).c_str());
  GBytes *bytes = g_bytes_new(offer.data(), offer.size());
  soup_message_set_request_body_from_bytes(message, "application/sdp", bytes);
  g_bytes_unref(bytes);
  GBytes *sdp = soup_session_send_and_read(session, message, nullptr, nullptr);
  const guint status = soup_message_get_status(message);
  const char *location = soup_message_headers_get_one(soup_message_get_response_headers(message), "Location");
  std::string call = location ? std::string(location).substr(std::string(location).rfind('/') + 1) : "";
  if (sdp)
    g_bytes_unref(sdp);
  g_object_unref(message);
  g_object_unref(session);
  ASSERT_EQ(status, 201u);
  ASSERT_EQ(call.rfind("rtc_", 0), 0u) << (location ? location : "(no Location)");

  EXPECT_EQ(post(openai::call_control_path(call, "hangup"), "", "sk-wrong").status, 401u);
  EXPECT_EQ(post(openai::call_control_path(call, "refer"), openai::build_refer_body("tel:+14155550123")).status, 404u)
      << "only SIP calls are referred";
  HttpReply hung = post(openai::call_control_path(call, "hangup"), "");
  EXPECT_EQ(hung.status, 200u) << hung.body;
  ASSERT_TRUE(wait_until([&] {
    for (const sim::SimWebRtcCallRecord &r : sim_->webrtc_calls())
      if (r.call_id == call)
        return r.state == "ended" || r.state == "failed";
    return false;
  }, 3000));
  for (const sim::SimWebRtcCallRecord &r : sim_->webrtc_calls())
    if (r.call_id == call) {
      EXPECT_EQ(r.end_reason, "hung up through the API");
    }
  HttpReply again = post(openai::call_control_path(call, "hangup"), "");
  EXPECT_EQ(again.status, 400u);
  EXPECT_EQ(error_code(again), "call_not_active");
  EXPECT_EQ(post(openai::call_control_path("rtc_nosuchcall", "hangup"), "").status, 404u);
}
