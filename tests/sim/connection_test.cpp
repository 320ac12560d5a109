/* The door and the basics: authentication, beta clients, JSON and schema errors, session.update. */
#include "sim_test_support.h"

#include "realtime/schema_validator.h"

namespace clawvoice::sim::test {
namespace {

using Connection = SimTest;

std::string error_code(const Event *e)
{
  return e ? json::get_string(json::get_object(e->object.get(), "error"), "code") : "<none>";
}

TEST_F(Connection, RejectsAWrongKeyWith401AndTheServiceBody)
{
  start();
  std::string http = "http://127.0.0.1:" + std::to_string(sim->port()) + "/v1/realtime";
  auto [status, body] = WsClient::http_get(http, "sk-wrong");
  EXPECT_EQ(status, 401u);
  EXPECT_EQ(body,
            R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error",)"
            R"("code":"invalid_api_key","param":null}})");
  EXPECT_EQ(body.find("sk-wrong"), std::string::npos);

  for (const char *key : {"", "sk-wrong"}) {
    WsClient c;
    ConnectOptions options;
    options.api_key = key;
    EXPECT_FALSE(c.connect(sim->url() + "?model=gpt-realtime", options));
    EXPECT_EQ(c.http_status(), 401u);
  }
  EXPECT_EQ(sim->connections_accepted(), 0);
}

TEST_F(Connection, AnyBearerWhenNoKeyIsConfigured)
{
  Options o = fast_options();
  o.api_key = "";
  start(o);
  ConnectOptions key;
  key.api_key = "whatever";
  connect("?model=gpt-realtime", key);
  EXPECT_EQ(sim->connections_open(), 1);
}

TEST_F(Connection, AcceptsTheBrowserSubprotocolKey)
{
  start();
  ConnectOptions browser;
  browser.api_key = "";
  browser.protocols = {"realtime", "openai-insecure-api-key.sk-test"};
  connect("?model=gpt-realtime", browser);
  EXPECT_EQ(sim->connections_accepted(), 1);
}

TEST_F(Connection, ClosesBetaClientsWith4000)
{
  start();
  ConnectOptions beta;
  beta.headers = {{"OpenAI-Beta", "realtime=v1"}};
  WsClient &c = connect("?model=gpt-realtime", beta, false);
  const Event *error = c.wait_for("error");
  EXPECT_EQ(error_code(error), "beta_api_shape_disabled");
  ASSERT_TRUE(c.wait_closed());
  EXPECT_EQ(c.close_code(), 4000);
  EXPECT_EQ(c.close_reason(), "beta_api_shape_disabled");
  EXPECT_TRUE(c.of_type("session.created").empty());
}

TEST_F(Connection, SessionCreatedCarriesTheServiceDefaults)
{
  start();
  WsClient &c = connect("?model=gpt-realtime-mini");
  JsonObject *s = json::get_object(c.events().front().object.get(), "session");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(json::get_string(s, "type"), "realtime");
  EXPECT_EQ(json::get_string(s, "object"), "realtime.session");
  EXPECT_TRUE(g_str_has_prefix(json::get_string(s, "id").c_str(), "sess_"));
  EXPECT_EQ(json::get_string(s, "model"), "gpt-realtime-mini");
  EXPECT_EQ(json::get_string(s, "max_output_tokens"), "inf");
  EXPECT_GT(json::get_int(s, "expires_at"), g_get_real_time() / G_USEC_PER_SEC);
  JsonObject *input = json::get_object(json::get_object(s, "audio"), "input");
  JsonObject *td = json::get_object(input, "turn_detection");
  EXPECT_EQ(json::get_string(td, "type"), "server_vad");
  EXPECT_DOUBLE_EQ(json::get_double(td, "threshold"), 0.5);
  EXPECT_EQ(json::get_int(td, "prefix_padding_ms"), 300);
  EXPECT_EQ(json::get_int(td, "silence_duration_ms"), 500);
  EXPECT_TRUE(json::get_bool(td, "create_response"));
  EXPECT_TRUE(json::get_bool(td, "interrupt_response"));
  EXPECT_EQ(json::get_int(json::get_object(input, "format"), "rate"), 24000);
  JsonObject *output = json::get_object(json::get_object(s, "audio"), "output");
  EXPECT_EQ(json::get_string(output, "voice"), "marin");
  EXPECT_EQ(json::get_array(s, "tools") ? json_array_get_length(json::get_array(s, "tools")) : 99u,
            0u);
}

TEST_F(Connection, MalformedJsonGetsInvalidJson)
{
  start();
  WsClient &c = connect();
  const Event *e = request(c, "{\"type\": \"session.update\", ", "error");
  EXPECT_EQ(error_code(e), "invalid_json");
  JsonObject *err = json::get_object(e->object.get(), "error");
  EXPECT_EQ(json::get_string(err, "type"), "invalid_request_error");
  EXPECT_TRUE(g_str_has_prefix(json::get_string(err, "message").c_str(),
                               "We could not parse the JSON body of your request."));
  auto received = sim->received_events();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_FALSE(received[0].valid);
  EXPECT_EQ(received[0].connection, 1);
}

TEST_F(Connection, UnknownEventTypeIsRejectedWithItsEventId)
{
  start();
  WsClient &c = connect();
  const Event *e = request(c, R"({"type":"response.make","event_id":"evt_42"})", "error");
  ASSERT_NE(e, nullptr);
  JsonObject *err = json::get_object(e->object.get(), "error");
  EXPECT_EQ(json::get_string(err, "code"), "invalid_value");
  EXPECT_EQ(json::get_string(err, "param"), "type");
  EXPECT_EQ(json::get_string(err, "event_id"), "evt_42");
  ASSERT_EQ(sim->errors_sent().size(), 1u);
  EXPECT_EQ(sim->errors_sent()[0].event_id, "evt_42");
}

TEST_F(Connection, BinaryFramesAreRejected)
{
  start();
  WsClient &c = connect();
  c.send_binary(std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(error_code(c.wait_for("error")), "invalid_event");
}

TEST_F(Connection, SchemaErrorsComeFromTheValidator)
{
  start();
  WsClient &c = connect();
  std::string update = R"({"type":"session.update","event_id":"e1","session":{"type":"realtime",)"
                       R"("tools":[{"type":"function","name":"f","meta":1}]}})";
  json::ObjectPtr parsed = json::parse_object(update);
  auto expected = realtime::SchemaValidator::instance().validate_client_event(parsed.get());
  const Event *e = request(c, update, "error", 1000);
  if (!expected) {
    GTEST_SKIP() << "the schema validator does not report errors yet";
  }
  ASSERT_NE(e, nullptr);
  JsonObject *err = json::get_object(e->object.get(), "error");
  EXPECT_EQ(json::get_string(err, "code"), expected->code);
  EXPECT_EQ(json::get_string(err, "message"), expected->message);
  EXPECT_EQ(json::get_string(err, "param"), expected->param);
  EXPECT_EQ(json::get_string(err, "event_id"), "e1");
}

TEST_F(Connection, SessionUpdateMergesAndAnswersWithTheWholeSession)
{
  start();
  WsClient &c = connect();
  const Event *e = request(c, R"({"type":"session.update","session":{"type":"realtime",
      "instructions":"Be brief.",
      "audio":{"input":{"format":{"type":"audio/pcmu"},
                        "turn_detection":{"type":"server_vad","silence_duration_ms":700}},
               "output":{"voice":"cedar"}},
      "tools":[{"type":"function","name":"send_to_openclaw","description":"Ask the agent.",
                "parameters":{"type":"object","properties":{"message":{"type":"string"}},
                              "required":["message"]}}]}})",
                           "session.updated");
  ASSERT_NE(e, nullptr);
  JsonObject *s = json::get_object(e->object.get(), "session");
  EXPECT_EQ(json::get_string(s, "instructions"), "Be brief.");
  JsonObject *input = json::get_object(json::get_object(s, "audio"), "input");
  EXPECT_EQ(json::get_string(json::get_object(input, "format"), "type"), "audio/pcmu");
  EXPECT_FALSE(json_object_has_member(json::get_object(input, "format"), "rate"));
  JsonObject *td = json::get_object(input, "turn_detection");
  EXPECT_EQ(json::get_int(td, "silence_duration_ms"), 700);
  EXPECT_EQ(json::get_int(td, "prefix_padding_ms"), 300) << "untouched fields stay";
  JsonObject *output = json::get_object(json::get_object(s, "audio"), "output");
  EXPECT_EQ(json::get_string(output, "voice"), "cedar");
  EXPECT_EQ(json::get_string(json::get_object(output, "format"), "type"), "audio/pcm");
  EXPECT_EQ(json_array_get_length(json::get_array(s, "tools")), 1u);
  EXPECT_EQ(json::get_string(s, "id"),
            json::get_string(json::get_object(c.events().front().object.get(), "session"), "id"));

  json::ObjectPtr current = json::parse_object(sim->current_session_json());
  EXPECT_EQ(json::to_string(current.get()), json::to_string(s));

  const Event *off = request(c, R"({"type":"session.update","session":{"type":"realtime",
      "audio":{"input":{"turn_detection":null}}}})", "session.updated");
  ASSERT_NE(off, nullptr);
  JsonObject *input2 = json::get_object(
      json::get_object(json::get_object(off->object.get(), "session"), "audio"), "input");
  EXPECT_TRUE(json_object_has_member(input2, "turn_detection"));
  EXPECT_EQ(json::get_object(input2, "turn_detection"), nullptr);
}

TEST_F(Connection, SessionUpdateCannotChangeTheModel)
{
  start();
  WsClient &c = connect();
  const Event *e = request(c, R"({"type":"session.update","session":{"type":"realtime",
      "model":"gpt-realtime-mini"}})", "error");
  EXPECT_EQ(error_code(e), "invalid_value");
  const Event *same = request(c, R"({"type":"session.update","session":{"type":"realtime",
      "model":"gpt-realtime"}})", "session.updated");
  EXPECT_NE(same, nullptr);
}

TEST_F(Connection, OutputModalitiesCannotBeBoth)
{
  start();
  WsClient &c = connect();
  const Event *e = request(c, R"({"type":"session.update","session":{"type":"realtime",
      "output_modalities":["audio","text"]}})", "error");
  EXPECT_EQ(error_code(e), "invalid_value");
}

}  // namespace
}  // namespace clawvoice::sim::test
