/* mulawbridge in real pipelines: a minimal Twilio peer (twilio_peer.h) on 127.0.0.1 on one side,
 * realtimesink and the Realtime simulator on the other. */
#include <gtest/gtest.h>
#include <libsoup/soup.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>
#include <tuple>

#include <pthread.h>

#include "clawvoice-contract.h"
#include "common/g711.h"
#include "mulawbridge/mark_ledger.h"
#include "mulawbridge/mulawbridge-messages.h"
#include "net/net_thread.h"
#include "net/websocket_upgrade.h"
#include "test_support.h"
#include "twilio/media_stream.h"
#include "twilio_peer.h"

using namespace clawvoice;
using namespace clawvoice::test;
using clawvoice::mulawbridge::MarkLedger;

namespace {

const char *kKey = "sk-test-123456";
const char *kShortReply = "It will be sunny in Paris tomorrow.";
const char *kLongReply =
    "Tomorrow in Paris it will be mostly sunny, with a light breeze from the west, a high of twenty "
    "two degrees in the afternoon, and a small chance of showers late in the evening.";

std::unique_ptr<sim::RealtimeSimulator> simulator_saying(std::function<std::string(int turn)> say)
{
  sim::Options options;
  options.api_key = kKey;
  options.tool_calls = false;
  auto turn = std::make_shared<int>(0);
  options.on_user_turn = [say, turn](const sim::UserTurn &) {
    return sim::Reply{sim::Reply::Kind::Speak, say((*turn)++), "", ""};
  };
  return start_simulator(options);
}

/* The launch line of the Twilio route: the bridge loops around realtimesink (with the route's
 * capsfilter in between: the heard position must pass through it). */
std::string call_line(const sim::RealtimeSimulator &s, const std::string &bridge = "", const std::string &rt = "")
{
  return "mulawbridge name=tw listen=true port=0 " + bridge + " ! realtimesink name=rt url=" + s.url() +
         " api-key=" + kKey + " " + rt + " ! audio/x-mulaw,rate=8000,channels=1 ! tw.";
}

std::string stream_url(GstElement *bridge)
{
  gint port = 0;
  g_object_get(bridge, "bound-port", &port, nullptr);
  EXPECT_GT(port, 0);
  return "ws://127.0.0.1:" + std::to_string(port) + "/voice/stream";
}

guint64 stat(GstElement *bridge, const char *field)
{
  GstStructure *s = nullptr;
  g_object_get(bridge, "stats", &s, nullptr);
  guint64 v = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, field, &v)) << field;
  gst_structure_free(s);
  return v;
}

/* What the caller has heard, as mulawbridge answers realtimesink (running time, ms). */
double heard_position_ms(GstElement *bridge)
{
  GstPad *pad = gst_element_get_static_pad(bridge, "sink");
  gint64 position = -1;
  EXPECT_TRUE(gst_pad_query_position(pad, GST_FORMAT_TIME, &position));
  gst_object_unref(pad);
  return double(position) / 1e6;
}

/* The end (ms) encoded in a mark's name. */
double mark_end_ms(const std::string &name)
{
  uint64_t generation = 0, end = 0;
  EXPECT_TRUE(MarkLedger::parse_name(name, &generation, &end)) << name;
  return double(end) / 1e6;
}

/* The reply came and has been quiet for a second. */
bool reply_done(const PeerObservations &o, int min_frames = 50)
{
  return o.media_frames >= min_frames && g_get_monotonic_time() - o.last_media_us > 1000000;
}

double rms_of_mulaw(const std::vector<uint8_t> &audio)
{
  std::vector<int16_t> pcm = g711::decode_ulaw(audio.data(), audio.size());
  double sum = 0;
  for (int16_t s : pcm)
    sum += double(s) * double(s);
  return pcm.empty() ? 0.0 : std::sqrt(sum / double(pcm.size()));
}

bool has_warning(const Pipeline &p, const std::string &text, int *count = nullptr)
{
  int n = 0;
  for (const std::string &w : p.warnings())
    if (w.find(text) != std::string::npos)
      n++;
  if (count)
    *count = n;
  return n > 0;
}

void send_clear(GstElement *bridge)
{
  GstPad *pad = gst_element_get_static_pad(bridge, "sink");
  gst_pad_send_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM_OOB,
      gst_structure_new_empty(CLAWVOICE_EVENT_CLEAR)));
  gst_object_unref(pad);
}

class MulawBridge : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
};

}  // namespace

TEST_F(MulawBridge, CallStreamsSpeechAndGetsAPacedMulawReplyWithMarks)
{
  auto simulator = simulator_saying([](int) { return kShortReply; });
  ASSERT_TRUE(simulator);
  /* A mark after every frame here (the default is every 5): the ledger is checked frame by frame. */
  Pipeline p(call_line(*simulator, "post-marks=true mark-interval=1"));
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question.wav"));
  ASSERT_GT(options.caller_audio.size(), 8000u * 3);
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));

  /* The start, with the TwiML parameters, on the bus. */
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START).empty(); }, 5000));
  const GstStructure *start = p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START)[0];
  EXPECT_STREQ(gst_structure_get_string(start, "stream-sid"), options.stream_sid.c_str());
  EXPECT_STREQ(gst_structure_get_string(start, "call-sid"), options.call_sid.c_str());
  EXPECT_STREQ(gst_structure_get_string(start, "account-sid"), options.account_sid.c_str());
  EXPECT_STREQ(gst_structure_get_string(start, "encoding"), "audio/x-mulaw");
  const GstStructure *parameters = nullptr;
  ASSERT_TRUE(gst_structure_get(start, "parameters", GST_TYPE_STRUCTURE, &parameters, nullptr));
  EXPECT_STREQ(gst_structure_get_string(parameters, "token"), "tok-123");
  EXPECT_STREQ(gst_structure_get_string(parameters, "caller"), "+15551230000");
  gst_structure_free((GstStructure *) parameters);
  const GValue *tracks = gst_structure_get_value(start, "tracks");
  ASSERT_TRUE(tracks && GST_VALUE_HOLDS_ARRAY(tracks));
  EXPECT_STREQ(g_value_get_string(gst_value_array_get_value(tracks, 0)), "inbound");

  /* DTMF while the caller speaks. */
  peer.send_dtmf("7");
  peer.send_dtmf("#");

  ASSERT_TRUE(p.run_until([&] { return reply_done(peer.observe()); }, 30000)) << p.first_error();
  PeerObservations o = peer.observe();
  EXPECT_EQ(o.invalid, 0) << "every message exactly Twilio's shape: " << o.first_invalid;
  EXPECT_EQ(o.binary, 0);
  EXPECT_EQ(o.odd_sized_frames, 0) << "whole 20 ms frames only";
  double reply_ms = o.media_frames * 20.0;
  EXPECT_GT(reply_ms, 1200);
  EXPECT_LT(reply_ms, 4500);
  EXPECT_GT(rms_of_mulaw(o.audio), 300.0) << "the reply is audible";
  EXPECT_LE(o.max_buffered_ms, 160.0 + 40.0) << "never more than the lead waiting in Twilio's buffer";
  std::cout << "reply " << reply_ms << " ms, most buffered at the peer " << o.max_buffered_ms << " ms, late frames "
            << stat(tw, "late-frames") << "\n";
  EXPECT_LE(stat(tw, "late-frames"), (guint64) o.media_frames / 10);

  /* A mark after every frame; once all came back, the heard position is the end of the reply. */
  EXPECT_EQ(o.marks, o.media_frames);
  ASSERT_TRUE(p.run_until([&] { return stat(tw, "marks-heard") == stat(tw, "marks-sent"); }, 3000));
  EXPECT_EQ(stat(tw, "marks-released"), 0u);
  EXPECT_NEAR(double(stat(tw, "heard-ms")), reply_ms, 1.0);
  double first_start = mark_end_ms(o.mark_names.front()) - 20.0;
  double last_end = mark_end_ms(o.mark_names.back());
  EXPECT_NEAR(heard_position_ms(tw), last_end, 0.001) << "the end of the last mark (names carry µs)";
  EXPECT_NEAR(last_end - first_start, reply_ms, 40.0) << "one contiguous reply";
  EXPECT_NEAR(peer.played_ms_now(), reply_ms, 1.0);
  int heard_messages = 0;
  for (const GstStructure *s : p.element_messages(CLAWVOICE_MESSAGE_TWILIO_MARK)) {
    gboolean heard = FALSE;
    gst_structure_get_boolean(s, "heard", &heard);
    heard_messages += heard ? 1 : 0;
  }
  EXPECT_EQ(heard_messages, o.marks);

  /* DTMF on the bus, in order. */
  auto dtmf = p.element_messages(CLAWVOICE_MESSAGE_DTMF);
  ASSERT_EQ(dtmf.size(), 2u);
  EXPECT_STREQ(gst_structure_get_string(dtmf[0], "digit"), "7");
  EXPECT_STREQ(gst_structure_get_string(dtmf[1], "digit"), "#");

  /* No transcoding anywhere: the session is μ-law both ways. */
  std::string session = simulator->current_session_json();
  EXPECT_NE(session.find("\"audio/pcmu\""), std::string::npos) << session;
  EXPECT_EQ(session.find("\"audio/pcm\""), std::string::npos) << session;
  EXPECT_EQ(simulator->user_turns().size(), 1u);

  /* Twilio's stop ends the call: EOS through realtimesink. */
  peer.send_stop();
  ASSERT_EQ(p.run(20000), GST_MESSAGE_EOS) << p.first_error();
  auto stops = p.element_messages(CLAWVOICE_MESSAGE_TWILIO_STOP);
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_STREQ(gst_structure_get_string(stops[0], "reason"), "stop");
  EXPECT_STREQ(gst_structure_get_string(stops[0], "call-sid"), options.call_sid.c_str());
  EXPECT_GE(stat(tw, "frames-in"), (guint64) 200) << "the caller's audio went through";
  EXPECT_TRUE(p.first_error().empty());
  EXPECT_TRUE(p.warnings().empty()) << p.warnings().front();
}

TEST_F(MulawBridge, BargeInClearsTwilioAndTruncatesAtWhatThePeerPlayed)
{
  auto simulator = simulator_saying([](int turn) { return turn == 0 ? kLongReply : "Okay."; });
  ASSERT_TRUE(simulator);
  /* As pipelines/twilio.launch has it: realtimesink hands the reply out as early as the bridge's lead. */
  Pipeline p(call_line(*simulator, "lead=160", "output-lead=160"));
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  /* The question, 2 s of silence, then an interruption while the long reply plays. */
  options.caller_audio = load_mulaw(data_path("question_then_interrupt.wav"));
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));

  ASSERT_TRUE(p.run_until([&] { return !simulator->truncations().empty() && peer.observe().clears > 0; }, 40000))
      << p.first_error();
  PeerObservations o = peer.observe();
  auto truncations = simulator->truncations();
  ASSERT_EQ(truncations.size(), 1u);
  EXPECT_TRUE(truncations[0].accepted);
  ASSERT_EQ(o.played_at_clear_ms.size(), 1u);
  double played = o.played_at_clear_ms[0];
  std::cout << "peer played " << played << " ms before the clear; truncated at " << truncations[0].audio_end_ms
            << " ms of " << truncations[0].audio_sent_ms << " ms received; most buffered " << o.max_buffered_ms
            << " ms, " << stat(tw, "marks-released") << " marks released\n";
  EXPECT_GT(played, 300) << "some of the reply was heard before the interruption";
  EXPECT_LT(truncations[0].audio_end_ms, truncations[0].audio_sent_ms) << "not what was merely received";
  EXPECT_NEAR(double(truncations[0].audio_end_ms), played, 40.0)
      << "truncated where the mark-confirmed position was: what Twilio played";
  EXPECT_EQ(o.invalid, 0) << o.first_invalid;
  EXPECT_LE(o.max_buffered_ms, 160.0 + 40.0);
  EXPECT_GE(stat(tw, "clears"), 1u);
  EXPECT_EQ(p.element_messages(CLAWVOICE_MESSAGE_TRUNCATE).size(), 1u);
}

TEST_F(MulawBridge, SocketThatVanishesMidReplyEndsTheCallCleanly)
{
  auto simulator = simulator_saying([](int) { return kLongReply; });
  ASSERT_TRUE(simulator);
  Pipeline p(call_line(*simulator));
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question.wav"));
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  ASSERT_TRUE(p.run_until([&] { return peer.observe().media_frames > 25; }, 30000)) << p.first_error();

  peer.vanish();   /* no stop, no close frame: the TCP connection is just gone */
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_TWILIO_STOP).empty(); }, 5000));
  const GstStructure *stop = p.element_messages(CLAWVOICE_MESSAGE_TWILIO_STOP)[0];
  EXPECT_STREQ(gst_structure_get_string(stop, "reason"), "closed");
  gint code = 0;
  gst_structure_get_int(stop, "close-code", &code);
  EXPECT_EQ(code, SOUP_WEBSOCKET_CLOSE_ABNORMAL);
  ASSERT_EQ(p.run(30000), GST_MESSAGE_EOS) << p.first_error();
  EXPECT_TRUE(p.first_error().empty());

  gint64 t0 = g_get_monotonic_time();
  EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_LT(g_get_monotonic_time() - t0, 2000000) << "teardown does not hang";
}

TEST_F(MulawBridge, GarbageFromThePeerIsWarnedOnceAndTheCallGoesOn)
{
  auto simulator = simulator_saying([](int) { return kShortReply; });
  ASSERT_TRUE(simulator);
  Pipeline p(call_line(*simulator));
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question.wav"));
  options.send_start = false;
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));

  twilio::MediaMessage early;
  early.sequence_number = 1;
  early.stream_sid = options.stream_sid;
  early.track = "inbound";
  early.payload.assign(160, 0xFF);
  peer.send_text(twilio::build_inbound_media(early));
  peer.send_binary(std::string("\x01\x02\x03", 3));
  peer.send_text("this is not json");
  peer.send_text(R"({"event":"bogus","streamSid":"MZ1"})");
  peer.send_text(R"({"event":"bogus","streamSid":"MZ1"})");
  peer.send_start();
  peer.send_text(R"({"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"1","timestamp":0,"payload":"/w=="},"streamSid":")" +
                 options.stream_sid + "\"}");
  peer.start_audio();

  ASSERT_TRUE(p.run_until([&] { return reply_done(peer.observe()); }, 30000)) << p.first_error();
  EXPECT_TRUE(has_warning(p, "media before start"));
  EXPECT_TRUE(has_warning(p, "binary frame"));
  EXPECT_TRUE(has_warning(p, "not a JSON object"));
  int bogus = 0;
  EXPECT_TRUE(has_warning(p, "unknown event: bogus", &bogus));
  EXPECT_EQ(bogus, 1) << "once per kind, however often it comes";
  EXPECT_TRUE(has_warning(p, "malformed media"));
  EXPECT_EQ(stat(tw, "protocol-warnings"), 6u);
  EXPECT_TRUE(p.first_error().empty()) << p.first_error();
  EXPECT_EQ(peer.observe().invalid, 0);

  /* A socket closed without stop ends the call too. */
  peer.close(1000);
  ASSERT_EQ(p.run(20000), GST_MESSAGE_EOS) << p.first_error();
  auto stops = p.element_messages(CLAWVOICE_MESSAGE_TWILIO_STOP);
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_STREQ(gst_structure_get_string(stops[0], "reason"), "closed");
  gint code = 0;
  gst_structure_get_int(stops[0], "close-code", &code);
  EXPECT_EQ(code, 1000);
}

/* A stand-in for the launcher's Twilio route (network thread only). */
struct Launcher {
  GstElement *bridge = nullptr;
  SoupServer *server = nullptr;
  ClawvoiceWebSocket *conn = nullptr;
  std::atomic<bool> handed_over{false};
  std::string token;

  /* As the launcher: a plain handler upgrades, the socket is taken over with our own framing. */
  static void on_request(SoupServer *, SoupServerMessage *message, const char *, GHashTable *, gpointer data)
  {
    auto *self = static_cast<Launcher *>(data);
    net::upgrade_websocket(message, nullptr, false, [self](std::unique_ptr<net::StolenWebSocket> socket) {
      self->conn = socket->connect_own();
      net::WebSocketHandlers handlers;
      handlers.on_text = [self](std::string text) { self->on_text(text); };
      net::web_socket_set_handlers(self->conn, std::move(handlers));
    });
  }

  void on_text(const std::string &text)
  {
    twilio::InboundParse parsed = twilio::parse_inbound(text);
    if (parsed.status != twilio::ParseStatus::Ok || parsed.event != "start")
      return;   /* connected */
    for (const auto &[name, value] : std::get<twilio::StartMessage>(*parsed.message).custom_parameters)
      if (name == "token")
        token = value;
    /* Token checked: hand over now, before this thread dispatches anything else. */
    net::web_socket_set_handlers(conn, {});
    g_object_set(bridge, "start-message", text.c_str(), "connection", conn, nullptr);
    handed_over = true;
  }
};

/* The launcher's way: its own SoupServer on the network thread accepts the stream, reads connected
 * and start itself (to check the token), then hands connection + start text to the element in the
 * same network-thread callback; the pipeline starts later, from another thread. */
TEST_F(MulawBridge, TakesOverAConnectionAcceptedByTheApplication)
{
  auto simulator = simulator_saying([](int) { return kShortReply; });
  ASSERT_TRUE(simulator);
  Pipeline p("mulawbridge name=tw ! realtimesink name=rt url=" + simulator->url() + " api-key=" + kKey + " ! tw.");
  GstElement *tw = p.by_name("tw");

  Launcher launcher;
  launcher.bridge = tw;
  auto net = net::NetThread::acquire();
  guint port = 0;
  net->invoke_sync([&]() {
    launcher.server = soup_server_new(nullptr, nullptr);
    soup_server_add_handler(launcher.server, "/voice/stream", Launcher::on_request, &launcher, nullptr);
    GError *error = nullptr;
    /* soup_server_listen_local() and soup_server_get_uris() leak in libsoup 3.2: bind an address
     * and read the port from the listening socket. */
    GSocketAddress *address = g_inet_socket_address_new_from_string("127.0.0.1", 0);
    bool listening = soup_server_listen(launcher.server, address, (SoupServerListenOptions) 0, &error);
    g_object_unref(address);
    if (!listening) {
      ADD_FAILURE() << error->message;
      g_clear_error(&error);
      return;
    }
    GSList *listeners = soup_server_get_listeners(launcher.server);
    GSocketAddress *local = g_socket_get_local_address(G_SOCKET(listeners->data), nullptr);
    port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_object_unref(local);
    g_slist_free(listeners);
  });
  ASSERT_GT(port, 0u);

  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question.wav"));
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect("ws://127.0.0.1:" + std::to_string(port) + "/voice/stream"));
  ASSERT_TRUE(peer.wait_until([&](const PeerObservations &) { return launcher.handed_over.load(); }, 5000));
  EXPECT_EQ(launcher.token, "tok-123");
  /* Messages keep coming while the pipeline is still being set up: they must not be lost. */
  peer.send_dtmf("5");
  g_usleep(300000);
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);

  ASSERT_TRUE(p.run_until([&] { return reply_done(peer.observe()); }, 30000)) << p.first_error();
  ASSERT_EQ(p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START).size(), 1u);
  auto dtmf = p.element_messages(CLAWVOICE_MESSAGE_DTMF);
  ASSERT_EQ(dtmf.size(), 1u) << "the digit sent before PLAYING was kept";
  EXPECT_STREQ(gst_structure_get_string(dtmf[0], "digit"), "5");
  EXPECT_EQ(peer.observe().invalid, 0);
  peer.send_stop();
  ASSERT_EQ(p.run(20000), GST_MESSAGE_EOS) << p.first_error();
  guint64 frames_in = stat(tw, "frames-in");
  int sent = peer.observe().media_sent;
  EXPECT_GE(frames_in + 2, (guint64) sent) << "no caller audio lost in the hand-over";
  EXPECT_LE(frames_in, (guint64) sent);

  EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_TRUE(peer.wait_until([](const PeerObservations &o) { return o.closed; }, 3000));
  EXPECT_EQ(peer.observe().close_code, SOUP_WEBSOCKET_CLOSE_NORMAL) << "closed normally at the end";
  net->invoke_sync([&]() {
    g_clear_object(&launcher.conn);
    soup_server_disconnect(launcher.server);
    g_clear_object(&launcher.server);
  });
}

/* A source faster than real time (a file): the lead is what bounds Twilio's buffer. */
TEST_F(MulawBridge, PacingKeepsTwiliosBufferToTheLeadAndPositionFollowsPlayback)
{
  std::vector<uint8_t> file = load_mulaw(data_path("question.wav"));
  Pipeline p("filesrc location=" + data_path("question.wav") +
             " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! "
             "mulawenc ! mulawbridge name=tw listen=true port=0 lead=100");
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.stream_audio = false;
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START).empty(); }, 5000));
  EXPECT_DOUBLE_EQ(heard_position_ms(tw), 0.0) << "nothing heard yet";
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);

  /* Half-way, what mulawbridge says was heard follows what the peer played (a mark every 100 ms,
   * the clock in between). */
  ASSERT_TRUE(peer.wait_until([](const PeerObservations &o) { return o.played_ms > 2000; }, 10000));
  /* The position first, then playback: the position moves with the clock, so asking it second
   * would measure the time between the two calls too. */
  double position = heard_position_ms(tw);
  double played = peer.played_ms_now();
  EXPECT_LE(position, played + 1.0) << "never ahead of playback";
  EXPECT_GE(position, played - 40.0) << "at most two frames behind";

  /* EOS once Twilio has played everything. */
  ASSERT_EQ(p.run(15000), GST_MESSAGE_EOS) << p.first_error();
  PeerObservations o = peer.observe();
  size_t frames = (file.size() + 159) / 160;
  EXPECT_EQ((size_t) o.media_frames, frames);
  EXPECT_EQ(o.odd_sized_frames, 0);
  ASSERT_GE(o.audio.size(), file.size());
  EXPECT_TRUE(std::equal(file.begin(), file.end(), o.audio.begin())) << "untouched μ-law";
  for (size_t i = file.size(); i < o.audio.size(); i++)
    EXPECT_EQ(o.audio[i], 0xFF) << "the last frame padded with μ-law silence";
  EXPECT_LE(o.max_buffered_ms, 100.0 + 40.0);
  EXPECT_GE(o.max_buffered_ms, 100.0 - 20.0) << "the lead is used: audio is sent ahead of playback";
  EXPECT_NEAR(peer.played_ms_now(), frames * 20.0, 40.0) << "EOS waited for playback to finish";
  EXPECT_EQ(stat(tw, "marks-heard"), stat(tw, "marks-sent"));
  EXPECT_GE(stat(tw, "marks-sent"), (guint64) frames / 5) << "a mark every 5 frames (the default)";
  EXPECT_LE(stat(tw, "marks-sent"), (guint64) frames / 5 + 2) << "and not more";
  EXPECT_LE(stat(tw, "late-frames"), (guint64) frames / 20) << "no stalls (a loaded machine may cause a few)";
  EXPECT_EQ(o.invalid, 0) << o.first_invalid;
}

TEST_F(MulawBridge, ClearDropsUnsentAudioAndReleasedMarksDoNotCountAsHeard)
{
  Pipeline p("filesrc location=" + data_path("question.wav") +
             " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! "
             "mulawenc ! mulawbridge name=tw listen=true port=0 lead=1000");
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.stream_audio = false;
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START).empty(); }, 5000));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(peer.wait_until([](const PeerObservations &o) { return o.played_ms > 1000; }, 10000));

  send_clear(tw);   /* what realtimesink does on barge-in */
  ASSERT_TRUE(peer.wait_until([](const PeerObservations &o) { return o.clears == 1; }, 2000));
  /* About a second of audio was waiting in Twilio's buffer: its marks (one per 100 ms) all come back
   * released. */
  EXPECT_TRUE(p.run_until([&] { return stat(tw, "marks-released") >= 8; }, 3000)) << stat(tw, "marks-released");
  double played = peer.observe().played_at_clear_ms[0];
  std::cout << "cleared after " << played << " ms played; " << stat(tw, "marks-released") << " marks released\n";
  double position = heard_position_ms(tw);
  EXPECT_LE(position, played + 1.0) << "released marks do not move the heard position";
  EXPECT_GE(position, played - 40.0);

  /* The rest of the file is new audio (the next generation) and is heard. */
  ASSERT_EQ(p.run(15000), GST_MESSAGE_EOS) << p.first_error();
  PeerObservations o = peer.observe();
  EXPECT_EQ(o.mark_names.back().rfind("cv-1-", 0), 0u) << o.mark_names.back();
  EXPECT_GT(heard_position_ms(tw), played + 1000);
  EXPECT_EQ(stat(tw, "clears"), 1u);
  EXPECT_EQ(o.invalid, 0) << o.first_invalid;
}

TEST_F(MulawBridge, SecondStreamIsRefusedWithAPolicyError)
{
  Pipeline p("mulawbridge name=tw listen=true port=0 ! fakesink sync=false");
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.stream_audio = false;
  TwilioPeer first(options), second(options);
  ASSERT_TRUE(first.connect(stream_url(tw)));
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START).empty(); }, 5000));
  second.connect(stream_url(tw));
  ASSERT_TRUE(second.wait_until([](const PeerObservations &o) { return o.closed; }, 5000));
  EXPECT_EQ(second.observe().close_code, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  EXPECT_FALSE(first.observe().closed) << "the first call goes on";
  first.send_dtmf("1");
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_DTMF).empty(); }, 3000));
}

TEST_F(MulawBridge, StreamInAnotherFormatIsAnError)
{
  Pipeline p("mulawbridge name=tw listen=true port=0 ! fakesink sync=false");
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.encoding = "audio/x-alaw";
  options.stream_audio = false;
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  EXPECT_EQ(p.run(5000), GST_MESSAGE_ERROR);
  EXPECT_NE(p.first_error().find("audio/x-alaw"), std::string::npos) << p.first_error();
  ASSERT_TRUE(peer.wait_until([](const PeerObservations &o) { return o.closed; }, 3000));
  EXPECT_EQ(peer.observe().close_code, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA);
}

TEST_F(MulawBridge, NoStreamConfiguredIsAClearError)
{
  Pipeline p("mulawbridge name=tw ! fakesink");
  EXPECT_EQ(p.play(), GST_STATE_CHANGE_FAILURE);
  p.run(200);
  EXPECT_NE(p.first_error().find("no stream"), std::string::npos) << p.first_error();
  Pipeline bad("mulawbridge name=tw listen=true address=not-an-ip ! fakesink");
  EXPECT_EQ(bad.play(), GST_STATE_CHANGE_FAILURE);
  bad.run(200);
  EXPECT_NE(bad.first_error().find("Could not listen"), std::string::npos) << bad.first_error();
}

/* What leaves src: one buffer per media message, whatever its size, stamped from Twilio's own
 * timestamps, DISCONT where a chunk is missing; the latency follows the longest chunk. */
TEST_F(MulawBridge, CallerAudioCarriesTwiliosTimestampsAndDiscont)
{
  Pipeline p("mulawbridge name=tw listen=true port=0 ! fakesink name=out sync=false signal-handoffs=true");
  GstElement *tw = p.by_name("tw");
  struct Seen {
    std::mutex lock;
    std::vector<std::tuple<GstClockTime, GstClockTime, gsize, bool>> buffers;   /* pts, duration, size, discont */
  } seen;
  g_signal_connect(p.by_name("out"), "handoff", G_CALLBACK(+[](GstElement *, GstBuffer *b, GstPad *, gpointer d) {
    auto *s = static_cast<Seen *>(d);
    std::lock_guard<std::mutex> l(s->lock);
    s->buffers.emplace_back(GST_BUFFER_PTS(b), GST_BUFFER_DURATION(b), gst_buffer_get_size(b),
        GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DISCONT));
  }), &seen);
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.stream_audio = false;
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));

  auto media = [&](uint64_t seq, uint64_t timestamp_ms, size_t size) {
    twilio::MediaMessage m;
    m.sequence_number = seq;
    m.stream_sid = options.stream_sid;
    m.track = "inbound";
    m.chunk = seq;
    m.timestamp_ms = timestamp_ms;
    m.payload.assign(size, 0x55);
    peer.send_text(twilio::build_inbound_media(m));
  };
  media(2, 0, 160);
  media(3, 20, 160);
  media(4, 60, 80);    /* chunk of 20..60 missing; a 10 ms chunk */
  media(5, 70, 400);   /* a 50 ms chunk */
  ASSERT_TRUE(p.run_until([&] { std::lock_guard<std::mutex> l(seen.lock); return seen.buffers.size() == 4; }, 3000));
  std::lock_guard<std::mutex> l(seen.lock);
  GstClockTime t0 = std::get<0>(seen.buffers[0]);
  const bool discont[] = {true, false, true, false};
  const GstClockTime offset_ms[] = {0, 20, 60, 70};
  const gsize size[] = {160, 160, 80, 400};
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(std::get<0>(seen.buffers[i]) - t0, offset_ms[i] * GST_MSECOND) << i;
    EXPECT_EQ(std::get<1>(seen.buffers[i]), size[i] * GST_SECOND / 8000) << i;
    EXPECT_EQ(std::get<2>(seen.buffers[i]), size[i]) << i;
    EXPECT_EQ(std::get<3>(seen.buffers[i]), discont[i]) << i;
  }
  EXPECT_TRUE(p.run_until([&] {
    for (GstMessage *m : p.messages())
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_LATENCY)
        return true;
    return false;
  }, 2000)) << "a longer chunk raises the latency";
  GstPad *src = gst_element_get_static_pad(tw, "src");
  GstQuery *q = gst_query_new_latency();
  ASSERT_TRUE(gst_pad_query(src, q));
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;
  gst_query_parse_latency(q, &live, &min, &max);
  EXPECT_TRUE(live);
  EXPECT_EQ(min, 50 * GST_MSECOND);
  EXPECT_GE(max, min);
  gst_query_unref(q);
  gst_object_unref(src);
  EXPECT_EQ(stat(tw, "frames-in"), 4u);
}

/* push-from-network-thread (what the launcher's twilio.launch sets): the caller's frames go into
 * realtimesink from the thread that read them off the socket, there is no src task, and the call
 * runs as with one: reply, stop → EOS; and a teardown while frames flow returns at once. */
TEST_F(MulawBridge, PushFromTheNetworkThreadCarriesTheCallWithoutATaskOfItsOwn)
{
  auto simulator = simulator_saying([](int) { return kShortReply; });
  ASSERT_TRUE(simulator);
  Pipeline p(call_line(*simulator, "push-from-network-thread=true"));
  GstElement *tw = p.by_name("tw");
  gboolean configured = FALSE;
  g_object_get(tw, "push-from-network-thread", &configured, nullptr);
  EXPECT_TRUE(configured);

  /* Which threads push the caller's buffers, by name (the network thread is "clawvoice-net…"). */
  PushingThreads pushers;
  GstPad *src = gst_element_get_static_pad(tw, "src");
  pushers.watch(src);
  gst_object_unref(src);

  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question.wav"));
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  ASSERT_TRUE(p.run_until([&] { return reply_done(peer.observe()); }, 30000)) << p.first_error();
  EXPECT_GT(rms_of_mulaw(peer.observe().audio), 300.0) << "the reply is audible";
  EXPECT_EQ(simulator->user_turns().size(), 1u) << "the simulator heard the caller's question";
  {
    std::lock_guard<std::mutex> l(pushers.lock);
    ASSERT_EQ(pushers.names.size(), 1u);
    EXPECT_EQ(pushers.names.begin()->rfind("clawvoice-net", 0), 0u) << *pushers.names.begin();
  }
  peer.send_stop();
  ASSERT_EQ(p.run(20000), GST_MESSAGE_EOS) << p.first_error();
  EXPECT_GE(stat(tw, "frames-in"), (guint64) 200);
  EXPECT_EQ(stat(tw, "frames-in-dropped"), 0u);
  EXPECT_TRUE(p.first_error().empty());
  EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  /* A second call torn down while the caller is still speaking: the pad's deactivation waits for
   * the push in progress on the network thread, and nothing hangs. */
  Pipeline q(call_line(*simulator, "push-from-network-thread=true"));
  GstElement *tw2 = q.by_name("tw");
  ASSERT_NE(q.play(), GST_STATE_CHANGE_FAILURE);
  TwilioPeer caller(options);
  ASSERT_TRUE(caller.connect(stream_url(tw2)));
  ASSERT_TRUE(q.run_until([&] { return stat(tw2, "frames-in") > 25; }, 10000)) << q.first_error();
  gint64 t0 = g_get_monotonic_time();
  EXPECT_EQ(gst_element_set_state(q.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_LT(g_get_monotonic_time() - t0, 2000000) << "teardown does not hang";
  EXPECT_TRUE(caller.wait_until([](const PeerObservations &o) { return o.closed; }, 3000));
}

/* Both elements with push-from-network-thread (what twilio.launch sets): realtimesink hands the reply
 * out from a timer on its session's network thread, with no src task, and mulawbridge never makes
 * that thread wait. The call has no streaming thread of its own, the reply is paced to the lead as
 * with a task, and a barge-in still clears Twilio and truncates at what was heard. */
TEST_F(MulawBridge, ReplyHandedOutFromTheNetworkThreadIsPacedToTheLeadAndBargeInStillClears)
{
  auto simulator = simulator_saying([](int turn) { return turn == 0 ? kLongReply : "Okay."; });
  ASSERT_TRUE(simulator);
  Pipeline p(call_line(*simulator, "lead=160 push-from-network-thread=true",
                       "output-lead=160 push-from-network-thread=true"));
  GstElement *tw = p.by_name("tw");
  GstElement *rt = p.by_name("rt");
  gboolean configured = FALSE;
  g_object_get(rt, "push-from-network-thread", &configured, nullptr);
  EXPECT_TRUE(configured);

  PushingThreads pushers;
  GstPad *sink = gst_element_get_static_pad(tw, "sink");
  pushers.watch(sink);
  gst_object_unref(sink);

  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question_then_interrupt.wav"));
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));

  /* Mid-reply: no thread of either element's own. */
  ASSERT_TRUE(peer.wait_until([](const PeerObservations &o) { return o.played_ms > 600; }, 30000)) << p.first_error();
  EXPECT_FALSE(src_has_task(rt)) << "realtimesink runs no src task";
  EXPECT_FALSE(src_has_task(tw)) << "mulawbridge runs no src task";

  ASSERT_TRUE(p.run_until([&] { return !simulator->truncations().empty() && peer.observe().clears > 0; }, 40000))
      << p.first_error();
  PeerObservations o = peer.observe();
  {
    std::lock_guard<std::mutex> l(pushers.lock);
    ASSERT_EQ(pushers.names.size(), 1u);
    EXPECT_EQ(pushers.names.begin()->rfind("clawvoice-net", 0), 0u) << *pushers.names.begin();
  }
  EXPECT_GT(rms_of_mulaw(o.audio), 300.0) << "the reply is audible";
  auto truncations = simulator->truncations();
  ASSERT_EQ(truncations.size(), 1u);
  ASSERT_EQ(o.played_at_clear_ms.size(), 1u);
  double played = o.played_at_clear_ms[0];
  std::cout << "peer played " << played << " ms before the clear; truncated at " << truncations[0].audio_end_ms
            << " ms; most buffered " << o.max_buffered_ms << " ms; late frames " << stat(tw, "late-frames") << "\n";
  EXPECT_GT(played, 300);
  EXPECT_NEAR(double(truncations[0].audio_end_ms), played, 40.0) << "truncated at what Twilio played";
  EXPECT_LE(o.max_buffered_ms, 160.0 + 40.0) << "paced to the lead, as with a task";
  EXPECT_GE(o.max_buffered_ms, 160.0 - 20.0) << "the lead is used";
  EXPECT_EQ(o.odd_sized_frames, 0);
  EXPECT_LE(stat(tw, "late-frames"), 2u);
  EXPECT_EQ(o.invalid, 0) << o.first_invalid;

  /* The second reply ("Okay.") is heard too, then a teardown while the caller still streams
   * returns at once: the pad's deactivation stops the timer and waits for a run in progress. */
  ASSERT_TRUE(p.run_until([&] { return simulator->user_turns().size() >= 2; }, 20000)) << p.first_error();
  gint64 t0 = g_get_monotonic_time();
  EXPECT_EQ(gst_element_set_state(p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_LT(g_get_monotonic_time() - t0, 2000000) << "teardown does not hang";
  EXPECT_TRUE(p.first_error().empty()) << p.first_error();
}

/* frames-per-message (twilio.launch sends 5): the same audio, untouched, in fewer and larger
 * messages of whole 20 ms frames. Frames go singly only until Twilio holds half the lead (the
 * start), then five to a message, the rest of the burst in the last; Twilio's buffer stays within
 * the lead; a mark every five frames. */
TEST_F(MulawBridge, FramesPerMessageSendsWholeFramesInFewerMessagesWithinTheLead)
{
  std::vector<uint8_t> file = load_mulaw(data_path("question.wav"));
  Pipeline p("filesrc location=" + data_path("question.wav") +
             " ! wavparse ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! "
             "mulawenc ! mulawbridge name=tw listen=true port=0 lead=200 frames-per-message=5");
  GstElement *tw = p.by_name("tw");
  ASSERT_NE(gst_element_set_state(p.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.stream_audio = false;
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  ASSERT_TRUE(p.run_until([&] { return !p.element_messages(CLAWVOICE_MESSAGE_TWILIO_START).empty(); }, 5000));
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(p.run(15000), GST_MESSAGE_EOS) << p.first_error();

  PeerObservations o = peer.observe();
  size_t frames = (file.size() + 159) / 160;
  size_t singles = 0, full = 0;
  for (size_t size : o.media_sizes) {
    ASSERT_EQ(size % 160, 0u) << "whole frames";
    ASSERT_LE(size, 800u) << "at most five";
    singles += size == 160;
    full += size == 800;
  }
  std::cout << o.media_sizes.size() << " messages for " << frames << " frames (" << singles << " single, "
            << full << " of five); most buffered " << o.max_buffered_ms << " ms, " << o.marks << " marks\n";
  EXPECT_LE(singles, 8u) << "single frames only until half the lead is in Twilio's buffer (and a last one)";
  EXPECT_GE(full * 5, frames - 10) << "the rest five to a message";
  ASSERT_GE(o.audio.size(), file.size());
  EXPECT_TRUE(std::equal(file.begin(), file.end(), o.audio.begin())) << "untouched μ-law";
  EXPECT_LE(o.max_buffered_ms, 200.0 + 40.0);
  EXPECT_GE(o.max_buffered_ms, 200.0 - 20.0) << "the lead is used";
  EXPECT_NEAR(double(o.marks), frames / 5.0, 3.0) << "a mark every five frames";
  EXPECT_EQ(stat(tw, "marks-heard"), stat(tw, "marks-sent"));
  EXPECT_EQ(stat(tw, "frames-out"), (guint64) frames);
  EXPECT_EQ(o.invalid, 0) << o.first_invalid;
}

/* The end of a reply with an output lead: the GAP after its last period goes out as early as that
 * period did, so mulawbridge sends the frames it holds for a fuller message (and the burst's mark)
 * while Twilio still plays what came before. Handed out a lead later, as it once was, Twilio's
 * buffer ran dry before the reply's last words: a hole at the end of some replies. */
TEST_F(MulawBridge, TheEndOfAReplyIsAnnouncedWithTheLeadSoItsLastFramesLeaveInTime)
{
  auto simulator = simulator_saying([](int) { return kShortReply; });
  ASSERT_TRUE(simulator);
  Pipeline p(call_line(*simulator, "lead=200 frames-per-message=5", "output-lead=160"));
  GstElement *tw = p.by_name("tw");
  struct Seen {
    std::mutex lock;
    std::vector<std::pair<gint64, bool>> pushes;   /* (when, audio: true / GAP: false) */
  } seen;
  GstPad *src = gst_element_get_static_pad(p.by_name("rt"), "src");
  gst_pad_add_probe(src, (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      [](GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
        auto *s = static_cast<Seen *>(data);
        const bool audio = (info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0;
        if (audio || GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_GAP) {
          std::lock_guard<std::mutex> l(s->lock);
          s->pushes.emplace_back(g_get_monotonic_time(), audio);
        }
        return GST_PAD_PROBE_OK;
      },
      &seen, nullptr);
  gst_object_unref(src);
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  PeerOptions options;
  options.caller_audio = load_mulaw(data_path("question.wav"));
  TwilioPeer peer(options);
  ASSERT_TRUE(peer.connect(stream_url(tw)));
  /* The reply played out: audio came, then nothing for a second. */
  ASSERT_TRUE(peer.wait_until([](const PeerObservations &o) {
        return o.played_ms > 1000 && g_get_monotonic_time() - o.last_media_us > 1000000;
      }, 40000)) << p.first_error();

  std::lock_guard<std::mutex> l(seen.lock);
  size_t last_audio = seen.pushes.size();
  for (size_t i = 0; i < seen.pushes.size(); i++)
    if (seen.pushes[i].second)
      last_audio = i;
  ASSERT_LT(last_audio, seen.pushes.size()) << "the reply's audio went through realtimesink";
  ASSERT_LT(last_audio + 1, seen.pushes.size()) << "a GAP followed the reply";
  ASSERT_FALSE(seen.pushes[last_audio + 1].second);
  const gint64 after_ms = (seen.pushes[last_audio + 1].first - seen.pushes[last_audio].first) / 1000;
  EXPECT_LT(after_ms, 90) << "the burst's end is announced a period after its last audio, not "
                             "output-lead (160 ms) later";
  EXPECT_EQ(peer.observe().invalid, 0);
}
