/* realtimesink on the sideband of a call OpenAI carries itself (`call-id`): when the call ends at the
 * service (the caller hung up: a normal close), the element ends its streams instead of reconnecting,
 * so the executors record the call and the application ends it. */
#include <gtest/gtest.h>
#include <libsoup/soup.h>

#include <atomic>

#include "openai/call_control.h"
#include "test_support.h"

using namespace clawvoice;
using namespace clawvoice::test;

namespace {

const char kKey[] = "sk-test-sideband";

/* POST with a bearer, synchronously (the test's own session, not the element's thread). */
guint post_json(const std::string &url, const std::string &body)
{
  SoupSession *session = soup_session_new();
  SoupMessage *message = soup_message_new("POST", url.c_str());
  g_autofree gchar *auth = g_strdup_printf("Bearer %s", kKey);
  soup_message_headers_append(soup_message_get_request_headers(message), "Authorization", auth);
  GBytes *bytes = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(message, "application/json", bytes);
  g_bytes_unref(bytes);
  GBytes *reply = soup_session_send_and_read(session, message, nullptr, nullptr);
  guint status = soup_message_get_status(message);
  if (reply)
    g_bytes_unref(reply);
  g_object_unref(message);
  g_object_unref(session);
  return status;
}

std::vector<std::string> connection_states(const Pipeline &p)
{
  std::vector<std::string> states;
  for (const GstStructure *s : p.element_messages("clawvoice-connection"))
    states.push_back(gst_structure_get_string(s, "state"));
  return states;
}

}  // namespace

TEST(RealtimeSinkSideband, TheCallEndingAtTheServiceEndsTheStreamsWithoutReconnecting)
{
  init_gstreamer();
  sim::Options options;
  options.api_key = kKey;
  auto s = start_simulator(options);
  ASSERT_TRUE(s);
  sim::SipCallRequest request;
  request.webhook_url = "http://127.0.0.1:1/openai/webhook";   /* nobody listens: we accept ourselves */
  std::string call = s->place_sip_call(request);
  ASSERT_FALSE(call.empty());
  realtime::SessionConfig session;
  session.instructions = "Be brief.";
  ASSERT_EQ(post_json(s->gateway_url() + "/v1" + openai::call_control_path(call, "accept"),
      openai::build_call_session(session)), 200u);

  Pipeline p("realtimesink name=rt url=" + s->url() + " api-key=" + kKey + " call-id=" + call +
      "  rt.tools ! fakesink name=tools async=false");
  std::atomic<bool> tools_eos{false};
  GstPad *pad = gst_element_get_static_pad(p.by_name("tools"), "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, [](GstPad *, GstPadProbeInfo *info, gpointer data) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
      static_cast<std::atomic<bool> *>(data)->store(true);
    return GST_PAD_PROBE_OK;
  }, &tools_eos, nullptr);
  gst_object_unref(pad);
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] {
    auto st = connection_states(p);
    return std::find(st.begin(), st.end(), "connected") != st.end();
  }, 10000)) << p.first_error();

  ASSERT_TRUE(s->sip_caller_hangs_up(call));
  ASSERT_TRUE(p.run_until([&] { return tools_eos.load(); }, 5000)) << "the tools stream ends with the call";
  auto states = connection_states(p);
  EXPECT_EQ(states.back(), "disconnected");
  /* And it stays so: no reconnect to a call that is over. */
  p.run_until([] { return false; }, 1000);
  states = connection_states(p);
  EXPECT_EQ(std::count(states.begin(), states.end(), "reconnecting"), 0);
  EXPECT_EQ(states.back(), "disconnected");
  EXPECT_EQ(p.first_error(), "");
}
