/* twilio-emulator — play Twilio's part against a running bridge (e.g. clawvoice-launcher).
 *
 * For each call: POST the signed voice webhook, read the TwiML strictly, connect the stream, play
 * the WAV in real time, send DTMF digits, wait for the spoken reply to finish, hang up (stop), and
 * post a signed "completed" status callback if asked. Prints a JSON summary on stdout; exits 0
 * only when every call went through with no violation.
 *
 *   twilio-emulator --webhook http://127.0.0.1:8080/voice --public-url https://example.com/voice \
 *                   --auth-token T --wav tests/data/question.wav --out heard.wav */
#include <glib.h>
#include <json-glib/json-glib.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "media_stream_call.h"
#include "mulaw_audio.h"
#include "twiml.h"
#include "webhook.h"

using namespace clawvoice::test::twilio_emu;

namespace {

struct Options {
  gchar *webhook = nullptr;
  gchar *public_url = nullptr;
  gchar *auth_token = nullptr;
  gchar *wav = nullptr;
  gchar *out = nullptr;
  gchar *dtmf = nullptr;
  gchar *status_url = nullptr;
  gchar *status_public_url = nullptr;
  gint calls = 1;
  gint max_seconds = 60;
  gint quiet_ms = 1500;
  gboolean strict_wss = FALSE;
  gboolean print = FALSE;
};

struct CallRun {
  CallIdentity identity;
  HttpReply webhook;
  TwimlResult twiml;
  std::unique_ptr<MediaStreamCall> call;
  gint64 began_us = 0;
  bool reply_heard = false;
  HttpReply status;
  std::string problem;   /* why this call did not go through */
};

void add(JsonBuilder *b, const char *key, const std::string &value)
{
  json_builder_set_member_name(b, key);
  json_builder_add_string_value(b, value.c_str());
}

void add(JsonBuilder *b, const char *key, gint64 value)
{
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, value);
}

void add(JsonBuilder *b, const char *key, double value)
{
  json_builder_set_member_name(b, key);
  json_builder_add_double_value(b, value);
}

void add_bool(JsonBuilder *b, const char *key, bool value)
{
  json_builder_set_member_name(b, key);
  json_builder_add_boolean_value(b, value);
}

std::string numbered(const std::string &path, size_t index, size_t count)
{
  if (count == 1)
    return path;
  size_t dot = path.rfind('.');
  std::string suffix = "-" + std::to_string(index + 1);
  return dot == std::string::npos ? path + suffix : path.substr(0, dot) + suffix + path.substr(dot);
}

/* True once the reply has been played out: something was heard, nothing is buffered, and no
 * media came for @quiet_ms. */
bool reply_finished(const CallReport &r, gint64 quiet_us)
{
  if (r.bytes_received == 0 || r.buffered_bytes != 0 || r.caller_audio_done_us == 0)
    return false;
  gint64 last = r.received_media.empty() ? 0 : r.received_media.back().time_us;
  return g_get_monotonic_time() - last >= quiet_us;
}

}  // namespace

int main(int argc, char **argv)
{
  Options o;
  GOptionEntry entries[] = {
      {"webhook", 0, 0, G_OPTION_ARG_STRING, &o.webhook, "Voice webhook to POST to (where the bridge listens)", "URL"},
      {"public-url", 0, 0, G_OPTION_ARG_STRING, &o.public_url, "The webhook's public URL, which the signature covers (default: --webhook)", "URL"},
      {"auth-token", 0, 0, G_OPTION_ARG_STRING, &o.auth_token, "Twilio auth token to sign with", "TOKEN"},
      {"wav", 0, 0, G_OPTION_ARG_FILENAME, &o.wav, "What the caller says (any WAV; converted to 8 kHz mu-law)", "FILE"},
      {"calls", 0, 0, G_OPTION_ARG_INT, &o.calls, "Simultaneous calls (default 1)", "N"},
      {"dtmf", 0, 0, G_OPTION_ARG_STRING, &o.dtmf, "Digits to press after speaking", "DIGITS"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &o.out, "Write what the caller heard to this WAV (-N suffix per call when N > 1)", "FILE"},
      {"status-url", 0, 0, G_OPTION_ARG_STRING, &o.status_url, "POST a signed 'completed' status callback here at hang-up", "URL"},
      {"status-public-url", 0, 0, G_OPTION_ARG_STRING, &o.status_public_url, "Public URL the status signature covers (default: --status-url)", "URL"},
      {"max-seconds", 0, 0, G_OPTION_ARG_INT, &o.max_seconds, "Give up on a reply after this long (default 60)", "S"},
      {"quiet-ms", 0, 0, G_OPTION_ARG_INT, &o.quiet_ms, "The reply is over after this much silence from the bridge (default 1500)", "MS"},
      {"strict-wss", 0, 0, G_OPTION_ARG_NONE, &o.strict_wss, "Refuse ws://127.0.0.1 stream URLs too, as Twilio would", nullptr},
      {"print", 0, 0, G_OPTION_ARG_NONE, &o.print, "Print the TwiML and progress on stderr", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  GOptionContext *context = g_option_context_new("- play Twilio's side of phone calls against a bridge");
  g_option_context_add_main_entries(context, entries, nullptr);
  GError *error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    g_printerr("twilio-emulator: %s\n", error->message);
    return 2;
  }
  g_option_context_free(context);
  if (!o.webhook || !o.auth_token || !o.wav) {
    g_printerr("twilio-emulator: --webhook, --auth-token and --wav are required (see --help)\n");
    return 2;
  }
  if (o.calls < 1 || o.calls > 1000 || o.max_seconds < 1 || o.quiet_ms < 100) {
    g_printerr("twilio-emulator: --calls must be 1…1000, --max-seconds ≥ 1, --quiet-ms ≥ 100\n");
    return 2;
  }
  const std::string public_url = o.public_url ? o.public_url : o.webhook;

  std::vector<guint8> audio;
  std::string load_error;
  if (!load_wav_as_mulaw(o.wav, &audio, &load_error)) {
    g_printerr("twilio-emulator: %s\n", load_error.c_str());
    return 2;
  }

  auto thread = std::make_shared<EmulatorThread>();
  TwimlOptions twiml_options;
  twiml_options.allow_ws_loopback = !o.strict_wss;
  const std::string account_sid = random_sid("AC");
  std::vector<CallRun> runs(o.calls);

  for (auto &run : runs) {
    run.identity = CallIdentity::random(account_sid);
    run.webhook = post_voice_webhook(o.webhook, public_url, voice_webhook_params(run.identity),
                                     o.auth_token);
    if (o.print)
      g_printerr("%s: webhook -> %u %s\n%s\n", run.identity.call_sid.c_str(), run.webhook.status,
                 run.webhook.content_type.c_str(), run.webhook.body.c_str());
    if (run.webhook.status != 200) {
      run.problem = run.webhook.error.empty()
                        ? "voice webhook answered HTTP " + std::to_string(run.webhook.status)
                        : "voice webhook failed: " + run.webhook.error;
      continue;
    }
    run.twiml = parse_connect_stream_twiml(run.webhook.body, twiml_options);
    if (!run.twiml.ok()) {
      run.problem = "TwiML: " + run.twiml.describe();
      continue;
    }
    CallOptions options;
    options.stream_url = run.twiml.stream.url;
    options.custom_parameters = run.twiml.stream.parameters;
    options.ids.account_sid = run.identity.account_sid;
    options.ids.call_sid = run.identity.call_sid;
    options.caller_audio = audio;
    run.call = std::make_unique<MediaStreamCall>(thread, options);
    run.began_us = g_get_monotonic_time();
    run.call->start();
  }

  /* Speak, press the digits, wait for each reply to be played out, then hang up. */
  const gint64 quiet_us = static_cast<gint64>(o.quiet_ms) * 1000;
  for (auto &run : runs) {
    if (!run.call)
      continue;
    const gint64 deadline = run.began_us + static_cast<gint64>(o.max_seconds) * G_USEC_PER_SEC;
    auto remaining_ms = [&]() {
      return static_cast<guint>(std::max<gint64>(0, deadline - g_get_monotonic_time()) / 1000);
    };
    auto over = [](const CallReport &r) {
      return r.state == CallState::Closed || r.state == CallState::Failed;
    };
    run.call->wait_for([&](const CallReport &r) { return over(r) || r.caller_audio_done_us; },
                       remaining_ms());
    for (const char *d = o.dtmf; d && *d && !over(run.call->report()); d++) {
      run.call->send_dtmf(*d);
      g_usleep(200000);
    }
    /* Progress comes with every frame, so this re-checks the quiet time at least every 20 ms. */
    run.reply_heard = run.call->wait_for(
        [&](const CallReport &r) { return over(r) || reply_finished(r, quiet_us); }, remaining_ms());
    CallReport now = run.call->report();
    run.reply_heard = reply_finished(now, quiet_us);
    if (o.print)
      g_printerr("%s: %s, heard %.0f ms\n", run.identity.call_sid.c_str(),
                 run.reply_heard ? "reply played" : "no complete reply", now.played_audio.size() / 8.0);
    run.call->stop();
  }
  for (auto &run : runs) {
    if (!run.call)
      continue;
    run.call->wait_closed(5000);
    if (o.status_url) {
      CallReport r = run.call->report();
      guint duration = static_cast<guint>((g_get_monotonic_time() - run.began_us) / G_USEC_PER_SEC);
      run.status = post_status_callback(o.status_url,
                                        o.status_public_url ? o.status_public_url : o.status_url,
                                        status_callback_params(run.identity, "completed", duration),
                                        o.auth_token);
    }
  }

  /* The summary. */
  bool all_ok = true;
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  add(b, "calls", static_cast<gint64>(runs.size()));
  add(b, "emulator_thread_priority", std::string(thread->priority()));
  json_builder_set_member_name(b, "results");
  json_builder_begin_array(b);
  for (size_t i = 0; i < runs.size(); i++) {
    CallRun &run = runs[i];
    json_builder_begin_object(b);
    add(b, "call_sid", run.identity.call_sid);
    add(b, "webhook_status", static_cast<gint64>(run.webhook.status));
    if (run.call) {
      CallReport r = run.call->report();
      add(b, "stream_sid", run.call->ids().stream_sid);
      add(b, "state", std::string(call_state_name(r.state)));
      if (!r.failure.empty())
        add(b, "failure", r.failure);
      add(b, "close_code", static_cast<gint64>(r.close_code));
      add_bool(b, "closed_by_bridge", r.closed_by_bridge);
      add(b, "frames_sent", static_cast<gint64>(r.sent_media.size()));
      add(b, "bytes_heard", static_cast<gint64>(r.played_audio.size()));
      add(b, "heard_rms", mulaw_rms(r.played_audio));
      add(b, "max_buffered_ms", r.max_buffered_ms());
      add(b, "underruns", static_cast<gint64>(r.underruns.size()));
      add(b, "irregular_payloads", static_cast<gint64>(r.irregular_payloads));
      if (!r.received_media.empty() && r.caller_audio_done_us)
        add(b, "first_reply_after_speech_ms",
            (r.received_media.front().time_us - r.caller_audio_done_us) / 1000.0);
      json_builder_set_member_name(b, "marks");
      json_builder_begin_object(b);
      add(b, "played", static_cast<gint64>(r.marks_played()));
      add(b, "cleared", static_cast<gint64>(r.marks_cleared()));
      json_builder_end_object(b);
      add(b, "clears", static_cast<gint64>(r.clears.size()));
      add(b, "dtmf_sent", static_cast<gint64>(r.dtmf_sent.size()));
      json_builder_set_member_name(b, "violations");
      json_builder_begin_array(b);
      for (const auto &v : r.violations) {
        json_builder_begin_object(b);
        add(b, "code", static_cast<gint64>(v.code));
        add(b, "detail", v.detail);
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
      if (!r.violations.empty())
        run.problem = "violations: " + r.describe_violations();
      else if (r.state == CallState::Failed)
        run.problem = "stream failed: " + r.failure;
      else if (!run.reply_heard)
        run.problem = "no complete reply within " + std::to_string(o.max_seconds) + " s";
      if (o.status_url) {
        add(b, "status_callback_status", static_cast<gint64>(run.status.status));
        if (run.status.status < 200 || run.status.status >= 300)
          run.problem += (run.problem.empty() ? "" : "; ") +
                         std::string("status callback answered ") + std::to_string(run.status.status);
      }
      if (o.out) {
        std::string path = numbered(o.out, i, runs.size());
        std::string write_error;
        if (write_mulaw_as_wav(path, heard_timeline(r), &write_error))
          add(b, "heard_wav", path);
        else
          run.problem += (run.problem.empty() ? "" : "; ") + write_error;
      }
    } else if (!run.twiml.errors.empty()) {
      json_builder_set_member_name(b, "twiml_errors");
      json_builder_begin_array(b);
      for (const auto &e : run.twiml.errors) {
        json_builder_begin_object(b);
        add(b, "code", static_cast<gint64>(e.code));
        add(b, "detail", e.message);
        json_builder_end_object(b);
      }
      json_builder_end_array(b);
    }
    add_bool(b, "ok", run.problem.empty());
    if (!run.problem.empty()) {
      add(b, "problem", run.problem);
      all_ok = false;
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  add_bool(b, "ok", all_ok);
  json_builder_end_object(b);

  JsonGenerator *gen = json_generator_new();
  json_generator_set_pretty(gen, TRUE);
  JsonNode *root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  gchar *text = json_generator_to_data(gen, nullptr);
  std::printf("%s\n", text);
  g_free(text);
  json_node_unref(root);
  g_object_unref(gen);
  g_object_unref(b);

  runs.clear();   /* calls end before their thread */
  thread.reset();
  g_free(o.webhook);
  g_free(o.public_url);
  g_free(o.auth_token);
  g_free(o.wav);
  g_free(o.out);
  g_free(o.dtmf);
  g_free(o.status_url);
  g_free(o.status_public_url);
  return all_ok ? 0 : 1;
}
