/* The call-control model: the webhook event, callers from SIP headers, and request bodies that the
 * published schemas accept (the simulator and the real service refuse anything else). */
#include <gtest/gtest.h>

#include "common/json.h"
#include "openai/call_control.h"
#include "realtime/schema_validator.h"

using namespace clawvoice;
using namespace clawvoice::openai;

namespace {

/* The example of WebhookRealtimeCallIncoming in OpenAI's spec (its trailing commas removed). */
const char kSpecEvent[] = R"({
  "id": "evt_abc123",
  "type": "realtime.call.incoming",
  "created_at": 1719168000,
  "data": {
    "call_id": "rtc_479a275623b54bdb9b6fbae2f7cbd408",
    "sip_headers": [
      {"name": "Max-Forwards", "value": "63"},
      {"name": "CSeq", "value": "851287 INVITE"},
      {"name": "Content-Type", "value": "application/sdp"},
      {"name": "From", "value": "\"Alice\" <sip:+15551234567@pstn.twilio.com>;tag=abc"},
      {"name": "To", "value": "<sip:+15557654321@sip.api.openai.com;transport=tls>"}
    ]
  }
})";

void expect_valid(const char *schema, const std::string &text)
{
  json::NodePtr node = json::parse(text);
  ASSERT_TRUE(node) << text;
  auto error = realtime::SchemaValidator::instance().validate(schema, node.get());
  EXPECT_FALSE(error) << schema << ": " << (error ? error->message : "") << "\n" << text;
}

realtime::SessionConfig sample_session()
{
  realtime::SessionConfig session;
  session.instructions = "You are the voice of Ada's agent.";
  session.voice = "cedar";
  session.transcription_model = "gpt-4o-mini-transcribe";
  session.tools = {agent_tool()};
  return session;
}

}  // namespace

TEST(CallIncoming, ParsesTheSpecExample)
{
  std::string type, error;
  auto call = parse_call_incoming(kSpecEvent, &type, &error);
  ASSERT_TRUE(call) << error;
  EXPECT_EQ(type, "realtime.call.incoming");
  EXPECT_EQ(call->event_id, "evt_abc123");
  EXPECT_EQ(call->created_at, 1719168000);
  EXPECT_EQ(call->call_id, "rtc_479a275623b54bdb9b6fbae2f7cbd408");
  ASSERT_EQ(call->sip_headers.size(), 5u);
  EXPECT_EQ(call->header("cseq"), "851287 INVITE");
  EXPECT_EQ(call->caller(), "+15551234567");
  EXPECT_EQ(call->callee(), "+15557654321");
  expect_valid("WebhookRealtimeCallIncoming", kSpecEvent);
}

TEST(CallIncoming, OtherEventsAreNamedNotParsed)
{
  std::string type, error;
  EXPECT_FALSE(parse_call_incoming(R"({"id":"evt_1","type":"response.completed","data":{}})", &type, &error));
  EXPECT_EQ(type, "response.completed");
  EXPECT_FALSE(parse_call_incoming("not json", &type, &error));
  EXPECT_TRUE(type.empty());
  EXPECT_FALSE(parse_call_incoming(R"({"type":"realtime.call.incoming","data":{"sip_headers":[]}})", &type, &error));
  EXPECT_NE(error.find("call_id"), std::string::npos);
  EXPECT_FALSE(parse_call_incoming(R"({"type":"realtime.call.incoming","data":{"call_id":"rtc_1"}})", &type, &error));
  EXPECT_NE(error.find("sip_headers"), std::string::npos);
}

TEST(CallIncoming, BuiltEventRoundTripsAndValidates)
{
  IncomingCall call;
  call.event_id = "evt_9";
  call.created_at = 1700000000;
  call.call_id = "rtc_9";
  call.sip_headers = {{"From", "<sip:bob@example.com>"}, {"To", "<tel:+15550001111>"}};
  std::string body = build_call_incoming(call);
  expect_valid("WebhookRealtimeCallIncoming", body);
  std::string type, error;
  auto parsed = parse_call_incoming(body, &type, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->call_id, "rtc_9");
  EXPECT_EQ(parsed->caller(), "bob");
  EXPECT_EQ(parsed->callee(), "+15550001111");
}

TEST(CallIncoming, SipUserOfHeaderForms)
{
  EXPECT_EQ(sip_user_of("\"Bob\" <sip:+1555@host;user=phone>;tag=1"), "+1555");
  EXPECT_EQ(sip_user_of("sip:alice@example.com;tag=9"), "alice");
  EXPECT_EQ(sip_user_of("<sips:carol@secure.example>"), "carol");
  EXPECT_EQ(sip_user_of("tel:+15551234567"), "+15551234567");
  EXPECT_EQ(sip_user_of("<sip:example.com>"), "example.com");
  EXPECT_EQ(sip_user_of(""), "");
}

TEST(CallControl, AcceptBodyIsAGaSession)
{
  std::string body = build_call_session(sample_session());
  expect_valid("RealtimeSessionCreateRequestGA", body);
  json::ObjectPtr session = json::parse_object(body);
  EXPECT_EQ(json::get_string(session.get(), "type"), "realtime");
  EXPECT_EQ(json::get_string(session.get(), "model"), "gpt-realtime");
  EXPECT_EQ(json::get_string(session.get(), "instructions"), "You are the voice of Ada's agent.");
  /* OpenAI negotiates the codec with the SIP peer: no audio format from us. */
  EXPECT_EQ(body.find("audio/pcm"), std::string::npos) << body;
  EXPECT_NE(body.find("\"cedar\""), std::string::npos);
  EXPECT_NE(body.find("send_to_openclaw"), std::string::npos);
  EXPECT_NE(body.find("gpt-4o-mini-transcribe"), std::string::npos);
}

TEST(CallControl, RejectReferAndClientSecretBodiesValidate)
{
  expect_valid("RealtimeCallRejectRequest", build_reject_body(486));
  expect_valid("RealtimeCallReferRequest", build_refer_body("tel:+14155550123"));
  std::string secret = build_client_secret_request(sample_session(), 600);
  expect_valid("RealtimeCreateClientSecretRequest", secret);
  json::ObjectPtr object = json::parse_object(secret);
  EXPECT_EQ(json::get_int(json::get_object(object.get(), "expires_after"), "seconds"), 600);
  EXPECT_EQ(json::get_string(json::get_object(object.get(), "expires_after"), "anchor"), "created_at");
}

TEST(CallControl, PathsAndRestBase)
{
  EXPECT_EQ(call_control_path("rtc_abc", "accept"), "/realtime/calls/rtc_abc/accept");
  EXPECT_EQ(call_control_path("rtc/../x", "hangup"), "/realtime/calls/rtc%2F..%2Fx/hangup");
  EXPECT_EQ(rest_base_of_realtime_url("wss://api.openai.com/v1/realtime"), "https://api.openai.com/v1");
  EXPECT_EQ(rest_base_of_realtime_url("ws://127.0.0.1:8765/v1/realtime?model=x"), "http://127.0.0.1:8765/v1");
  EXPECT_EQ(rest_base_of_realtime_url("ws://[::1]:9/v1/realtime/"), "http://[::1]:9/v1");
  EXPECT_EQ(rest_base_of_realtime_url("https://api.openai.com/v1/realtime"), "");
  EXPECT_EQ(rest_base_of_realtime_url("not a url"), "");
}
