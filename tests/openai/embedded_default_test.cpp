/* `clawvoice-launcher` with no --config: the embedded default, its own simulator and fake gateway
 * as the backends. Every way in is on and tryable with the credentials its banner prints: the
 * page's "Direct to OpenAI" mode (/api/token, /api/send, /ws with the control token), the SIP
 * webhook (a made-up whsec_), the OpenAI-compatible endpoint (a made-up API key), and the demo's
 * own path (the Twilio webhook, the voice page). The launcher is a child process (LauncherProcess
 * with no config), stopped by pid. */
#include <gtest/gtest.h>

#include "common/json.h"
#include "http_helpers.h"
#include "launcher_process.h"
#include "openai/call_control.h"
#include "openai/webhook_signature.h"
#include "twilio/signature.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <regex>

using namespace clawvoice;
using namespace clawvoice::openai::test;
using clawvoice::test::launcher::LauncherProcess;

namespace {

/* The first capture of @pattern in any line the launcher printed ("" when none matches). */
std::string find_printed(const LauncherProcess &launcher, const std::string &pattern)
{
  std::regex re(pattern);
  for (const std::string &line : launcher.lines()) {
    std::smatch m;
    if (std::regex_search(line, m, re) && m.size() > 1)
      return m[1];
  }
  return "";
}

/* A form POST (Twilio's webhooks), with extra headers. */
HttpReply post_form(const std::string &url, const twilio::Params &params, const Headers &headers)
{
  std::string body;
  for (const auto &[name, value] : params) {
    g_autofree char *v = g_uri_escape_string(value.c_str(), nullptr, FALSE);
    body += (body.empty() ? "" : "&") + name + "=" + v;
  }
  SoupSession *session = soup_session_new_with_options("timeout", 10, "proxy-resolver", nullptr, nullptr);
  SoupMessage *message = soup_message_new("POST", url.c_str());
  for (const auto &[name, value] : headers)
    soup_message_headers_replace(soup_message_get_request_headers(message), name.c_str(), value.c_str());
  GBytes *bytes = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(message, "application/x-www-form-urlencoded", bytes);
  g_bytes_unref(bytes);
  HttpReply reply;
  GError *error = nullptr;
  GBytes *answer = soup_session_send_and_read(session, message, nullptr, &error);
  if (answer) {
    reply.status = soup_message_get_status(message);
    gsize size = 0;
    const char *data = (const char *) g_bytes_get_data(answer, &size);
    reply.body.assign(data ? data : "", size);
    g_bytes_unref(answer);
  } else {
    reply.error = error ? error->message : "?";
  }
  g_clear_error(&error);
  g_object_unref(message);
  g_object_unref(session);
  return reply;
}

}  // namespace

TEST(EmbeddedDefault, EveryWayInIsOnWithThePrintedDemoCredentials)
{
  LauncherProcess launcher("");   /* no --config */
  ASSERT_TRUE(launcher.started()) << launcher.start_error();
  /* The banner comes after launcher.started; its last line names the compat endpoint. */
  ASSERT_TRUE(launcher.wait_for_output("OpenAI-compatible:", 5000));
  const std::string control = find_printed(launcher, R"(Authorization: Bearer ([0-9a-f]{32}))");
  const std::string direct_token = find_printed(launcher, R"(Direct to OpenAI: \S+/#token=([0-9a-f]{32}))");
  const std::string whsec = find_printed(launcher, R"(demo signing secret: (whsec_[A-Za-z0-9+/=]+))");
  const std::string compat_key = find_printed(launcher, R"(demo API key: ([0-9a-f]{32}))");
  const std::string twilio_token = find_printed(launcher, R"(demo auth token: ([0-9a-f]{32}))");
  ASSERT_FALSE(control.empty());
  EXPECT_EQ(direct_token, control) << "the direct mode takes the control token";
  ASSERT_FALSE(whsec.empty());
  ASSERT_FALSE(compat_key.empty());
  ASSERT_FALSE(twilio_token.empty());

  /* The page's "Direct to OpenAI" mode: a key from the embedded simulator, and where to call it. */
  EXPECT_EQ(http_request("POST", launcher.url("/api/token")).status, 401u);
  HttpReply minted = http_request("POST", launcher.url("/api/token"), "", bearer(control));
  ASSERT_EQ(minted.status, 200u) << minted.body;
  json::ObjectPtr token = json::parse_object(minted.body);
  ASSERT_TRUE(token);
  const std::string key = json::get_string(token.get(), "token");
  const std::string calls_url = json::get_string(token.get(), "calls_url");
  EXPECT_EQ(key.rfind("ek_", 0), 0u) << minted.body;
  EXPECT_EQ(calls_url.rfind("http://127.0.0.1:", 0), 0u) << calls_url;
  EXPECT_NE(calls_url.find("/v1/realtime/calls"), std::string::npos) << calls_url;
  /* The simulator takes that key for a WebRTC offer (this one has no audio: 400, not 401). */
  HttpReply offer = http_request("POST", calls_url, "", {{"Authorization", "Bearer " + key}, {"Content-Type", "application/sdp"}});
  EXPECT_EQ(offer.status, 400u) << offer.body;
  HttpReply forged = http_request("POST", calls_url, "", {{"Authorization", "Bearer ek_0123456789abcdef"}, {"Content-Type", "application/sdp"}});
  EXPECT_EQ(forged.status, 401u) << forged.body;

  /* … and the agent behind it: /api/send, then the answer. */
  HttpReply sent = http_request("POST", launcher.url("/api/send"), R"({"message":"What time is it?","sessionId":"demo1"})",
                                bearer(control));
  ASSERT_EQ(sent.status, 200u) << sent.body;
  const std::string task = json::get_string(json::parse_object(sent.body).get(), "taskId");
  std::string status;
  EXPECT_TRUE(wait_until([&] {
    HttpReply r = http_request("GET", launcher.url("/api/result/" + task), "", bearer(control));
    status = json::get_string(json::parse_object(r.body).get(), "status");
    return status == "done";
  }, 10000)) << status;

  /* The OpenAI-compatible endpoint, with the printed key. */
  const char *chat = R"({"model":"openclaw","messages":[{"role":"user","content":"Hello?"}]})";
  EXPECT_EQ(http_request("POST", launcher.url("/v1/chat/completions"), chat).status, 401u);
  HttpReply completion = http_request("POST", launcher.url("/v1/chat/completions"), chat, bearer(compat_key));
  ASSERT_EQ(completion.status, 200u) << completion.body;
  EXPECT_NE(completion.body.find("chat.completion"), std::string::npos) << completion.body;

  /* The SIP webhook checks the printed secret: a forged signature is refused, a signed one taken
   * (the embedded simulator never rang this call, so its accept then fails: logged, not fatal). */
  openai::IncomingCall incoming;
  incoming.call_id = "rtc_embedded_default_test";
  incoming.event_id = "evt_embedded_default_test";
  incoming.created_at = g_get_real_time() / G_USEC_PER_SEC;
  incoming.sip_headers = {{"From", "<sip:+15550001111@example.com>"}, {"To", "<sip:+15550002222@sip.api.openai.com>"}};
  const std::string body = openai::build_call_incoming(incoming);
  auto webhook_headers = [&](const std::string &secret_text) {
    openai::WebhookSecret secret;
    std::string why;
    EXPECT_TRUE(openai::WebhookSecret::parse(secret_text, &secret, &why)) << why;
    return Headers{{"webhook-id", "wh_embedded_default"}, {"webhook-timestamp", std::to_string(incoming.created_at)},
                   {"webhook-signature", openai::sign_webhook(secret, "wh_embedded_default", incoming.created_at, body)}};
  };
  EXPECT_EQ(http_request("POST", launcher.url("/openai/webhook"), body,
                         webhook_headers(openai::generate_webhook_secret())).status, 401u);
  EXPECT_EQ(http_request("POST", launcher.url("/openai/webhook"), body, webhook_headers(whsec)).status, 200u);
  EXPECT_TRUE(wait_until([&] { return !launcher.events("openai.call_incoming").empty(); }, 5000));

  /* The demo's own path: the Twilio webhook signed with the printed auth token, and the page. */
  const twilio::Params params = {{"CallSid", "CA0123456789abcdef0123456789abcdef"}, {"From", "+15005550006"},
                                 {"To", "+15005550001"}, {"AccountSid", "AC0123456789abcdef0123456789abcdef"}};
  const std::string voice_url = launcher.url("/voice");
  HttpReply twiml = post_form(voice_url, params, {{"X-Twilio-Signature", twilio::compute_signature(twilio_token, voice_url, params)}});
  EXPECT_EQ(twiml.status, 200u) << twiml.error << twiml.body;
  EXPECT_NE(twiml.body.find("<Stream url=\"ws://127.0.0.1:"), std::string::npos) << twiml.body;
  EXPECT_EQ(post_form(voice_url, params, {{"X-Twilio-Signature", "bm90IGl0"}}).status, 403u);
  HttpReply page = http_request("GET", launcher.url("/"));
  EXPECT_EQ(page.status, 200u);
  EXPECT_NE(page.body.find("Direct to OpenAI"), std::string::npos) << "the page offers the direct mode";

  EXPECT_EQ(launcher.stop(), 0) << "a clean exit on SIGTERM";
  /* Secrets appear in the banner only, never in a log line. */
  for (const std::string &line : launcher.lines()) {
    if (line.empty() || line[0] != '{')
      continue;
    for (const std::string &secret : {control, whsec.substr(6), compat_key, twilio_token, key})
      EXPECT_EQ(line.find(secret), std::string::npos) << "a secret in the log: " << line;
  }
}
