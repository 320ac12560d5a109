/* httptools in a GstHarness against a real calendar bridge (SoupServer) on 127.0.0.1. */
#include <gtest/gtest.h>

#include "clawvoice-contract.h"
#include "common/json.h"
#include "relay_harness.h"
#include "relay_test_support.h"
#include "test_support.h"

using namespace clawvoice;
using namespace clawvoice::test;

namespace {

std::string calendar_tools(const std::string &base, const std::string &auth = "", unsigned timeout_ms = 3000)
{
  std::string a = auth.empty() ? "" : R"(,"auth":{"bearer":")" + auth + R"("})";
  std::string t = R"(,"timeout_ms":)" + std::to_string(timeout_ms);
  return R"([{"name":"find_slots","description":"Free slots on a day","parameters":{"type":"object",)"
         R"("properties":{"date":{"type":"string"}},"required":["date"]},"url":")" + base +
         R"(/calendar/find-slots")" + a + t + R"(},)"
         R"({"name":"check_slot","description":"Is a slot free","url":")" + base + R"(/calendar/check-slot")" + a + t +
         R"(},{"name":"create_event","description":"Book it","url":")" + base + R"(/calendar/create-event")" + a + t +
         R"(},{"name":"status","description":"Plain text","method":"GET","url":")" + base + R"(/calendar/plain")" + t +
         "}]";
}

class HttpToolsElement : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

}  // namespace

TEST_F(HttpToolsElement, AdvertisesTheConfiguredTools)
{
  CalendarServer cal;
  ExecutorHarness h("httptools", {{"tools", calendar_tools(cal.url())}});
  json::NodePtr tools = json::parse(h.query_tools());
  ASSERT_TRUE(tools && JSON_NODE_HOLDS_ARRAY(tools.get()));
  JsonArray *a = json_node_get_array(tools.get());
  ASSERT_EQ(json_array_get_length(a), 4u);
  JsonObject *first = json_array_get_object_element(a, 0);
  EXPECT_EQ(json::get_string(first, "type"), "function");
  EXPECT_EQ(json::get_string(first, "name"), "find_slots");
  EXPECT_EQ(json::to_string(json_object_get_member(first, "parameters")),
      R"({"type":"object","properties":{"date":{"type":"string"}},"required":["date"]})");
  EXPECT_EQ(json::to_string(json_object_get_member(json_array_get_object_element(a, 1), "parameters")),
      R"({"type":"object","properties":{}})");
}

TEST_F(HttpToolsElement, PostsTheArgumentsWithTheTokenFromTheEnvironmentAndReturnsTheJson)
{
  CalendarServer::Options o;
  o.bearer = "cal-secret";
  CalendarServer cal(o);
  g_setenv("CLAWVOICE_TEST_CAL_TOKEN", "cal-secret", TRUE);
  ExecutorHarness h("httptools", {{"tools", calendar_tools(cal.url(), "${CLAWVOICE_TEST_CAL_TOKEN}")}});
  h.push_call("c1", "find_slots", R"({"date":"2026-11-24"})");
  h.push_call("c2", "create_event", R"({"start":"2026-11-24T10:00","title":"Dentist"})");
  ASSERT_GE(h.wait_events(2).size(), 2u);
  const UpstreamEvent *slots = h.find(CLAWVOICE_EVENT_TOOL_RESULT, "c1");
  ASSERT_TRUE(slots);
  EXPECT_EQ(slots->output, R"({"ok":true,"slots":[{"start":"2026-11-24T10:00","end":"2026-11-24T10:30"},)"
                           R"({"start":"2026-11-24T14:00","end":"2026-11-24T14:30"}]})");
  EXPECT_TRUE(slots->respond);
  const UpstreamEvent *event = h.find(CLAWVOICE_EVENT_TOOL_RESULT, "c2");
  ASSERT_TRUE(event);
  EXPECT_EQ(event->output, R"({"ok":true,"event_id":"evt-1"})");
  auto requests = cal.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto &r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.authorization, "Bearer cal-secret");
    EXPECT_EQ(r.content_type, "application/json");
  }
  bool saw_find = false;
  for (const auto &r : requests)
    if (r.path == "/calendar/find-slots") {
      saw_find = true;
      EXPECT_EQ(r.body, R"({"date":"2026-11-24"})");
    }
  EXPECT_TRUE(saw_find);
  g_unsetenv("CLAWVOICE_TEST_CAL_TOKEN");
}

TEST_F(HttpToolsElement, GetSendsQueryParametersAndPlainTextIsWrapped)
{
  CalendarServer cal;
  ExecutorHarness h("httptools", {{"tools", calendar_tools(cal.url())}});
  h.push_call("c1", "status", R"({"who":"Sam Smith","n":2})");
  ASSERT_GE(h.wait_events(1).size(), 1u);
  EXPECT_EQ(h.events()[0].output, R"({"ok":true,"text":"all good"})");
  ASSERT_EQ(cal.requests().size(), 1u);
  EXPECT_EQ(cal.requests()[0].method, "GET");
  EXPECT_EQ(cal.requests()[0].query, "who=Sam%20Smith&n=2");
}

TEST_F(HttpToolsElement, FailuresComeBackAsOkFalse)
{
  CalendarServer::Options o;
  o.fail_status = 503;
  CalendarServer down(o);
  CalendarServer::Options slow_o;
  slow_o.delay_ms = 2000;
  CalendarServer slow(slow_o);
  CalendarServer::Options auth_o;
  auth_o.bearer = "right";
  CalendarServer locked(auth_o);
  std::string tools = R"([{"name":"down","url":")" + down.url() + R"(/calendar/find-slots"},)"
      R"({"name":"slow","url":")" + slow.url() + R"(/calendar/find-slots","timeout_ms":300},)"
      R"({"name":"locked","url":")" + locked.url() + R"(/calendar/find-slots","auth":{"bearer":"wrong"}},)"
      R"({"name":"nowhere","url":"http://127.0.0.1:1/calendar/find-slots"}])";
  ExecutorHarness h("httptools", {{"tools", tools}});
  h.push_call("c-down", "down", "{}");
  h.push_call("c-slow", "slow", "{}");
  h.push_call("c-locked", "locked", "{}");
  h.push_call("c-nowhere", "nowhere", "{}");
  h.push_call("c-bad", "down", "not json");
  ASSERT_GE(h.wait_events(5, 5000).size(), 5u);
  auto output = [&](const char *id) {
    const UpstreamEvent *e = h.find(CLAWVOICE_EVENT_TOOL_RESULT, id);
    return e ? e->output : std::string("(none)");
  };
  EXPECT_EQ(output("c-down"), R"({"ok":false,"error":"HTTP 503 Service Unavailable: the calendar is down","status":503})");
  EXPECT_EQ(output("c-slow"), R"({"ok":false,"error":"no answer within 300 ms"})");
  EXPECT_EQ(output("c-locked"), R"({"ok":false,"error":"HTTP 401 Unauthorized: unauthorized","status":401})");
  EXPECT_NE(output("c-nowhere").find(R"({"ok":false,"error":"could not reach the service: )"), std::string::npos)
      << output("c-nowhere");
  EXPECT_EQ(output("c-bad"), R"({"ok":false,"error":"the arguments were not a JSON object"})");
  GstStructure *stats = nullptr;
  g_object_get(h.element(), "stats", &stats, nullptr);
  guint64 calls = 0, failures = 0;
  gst_structure_get_uint64(stats, "calls", &calls);
  gst_structure_get_uint64(stats, "failures", &failures);
  EXPECT_EQ(calls, 5u);
  EXPECT_EQ(failures, 5u);
  gst_structure_free(stats);
}

TEST_F(HttpToolsElement, UnknownToolsPassOnAndEndOfStreamDropsCallsInFlight)
{
  CalendarServer::Options o;
  o.delay_ms = 1000;
  CalendarServer slow(o);
  ExecutorHarness h("httptools", {{"tools", calendar_tools(slow.url())}});
  h.push_call("c1", "send_to_openclaw", R"({"message":"hi"})");
  GstBuffer *passed = gst_harness_try_pull(h.harness());
  ASSERT_TRUE(passed);
  gst_buffer_unref(passed);
  h.push_call("c2", "find_slots", R"({"date":"2026-11-24"})");
  ASSERT_TRUE(wait_for([&] { return slow.requests().size() == 1; }, 2000));
  h.push_eos();
  g_usleep(1300000);
  EXPECT_TRUE(h.events().empty()) << "no result after the call ended";
}

TEST_F(HttpToolsElement, BadDefinitionsFailTheStartWithTheToolNamed)
{
  struct Case {
    std::string tools;
    std::string error;
  };
  g_unsetenv("CLAWVOICE_TEST_UNSET_VAR");
  std::vector<Case> cases = {
      {"{}", "must be a JSON array"},
      {R"([{"name":"x y","url":"http://a/"}])", "tool 0 (x y): \"name\""},
      {R"([{"name":"a","url":"ftp://a/"}])", "tool 0 (a): \"url\""},
      {R"([{"name":"a","url":"http://a/"},{"name":"a","url":"http://a/"}])", "tool 1 (a): \"name\" is used twice"},
      {R"([{"name":"a","url":"http://a/","auth":{"bearer":"${CLAWVOICE_TEST_UNSET_VAR}"}}])",
          "CLAWVOICE_TEST_UNSET_VAR is not set"},
      {R"([{"name":"a","url":"http://a/","method":"DELETE"}])", "\"method\""},
  };
  for (const auto &c : cases) {
    GstElement *e = gst_element_factory_make("httptools", nullptr);
    gst_object_ref_sink(e);
    g_object_set(e, "tools", c.tools.c_str(), nullptr);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(e, bus);
    EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE) << c.tools;
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    ASSERT_TRUE(m) << c.tools;
    gchar *debug = nullptr;
    GError *error = nullptr;
    gst_message_parse_error(m, &error, &debug);
    EXPECT_NE(std::string(debug).find(c.error), std::string::npos) << debug;
    g_clear_error(&error);
    g_free(debug);
    gst_message_unref(m);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(e);
  }
}

TEST_F(HttpToolsElement, ToolsFileIsRead)
{
  CalendarServer cal;
  TempDir dir;
  dir.write("tools.json", calendar_tools(cal.url()));
  ExecutorHarness h("httptools", {{"tools-file", dir.path() + "/tools.json"}});
  h.push_call("c1", "check_slot", R"({"start":"2026-11-24T10:00"})");
  ASSERT_GE(h.wait_events(1).size(), 1u);
  EXPECT_EQ(h.events()[0].output, R"({"ok":true,"free":true})");
}
