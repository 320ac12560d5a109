/* rtpnetsrc: real UDP sockets on 127.0.0.1, a real pipeline. The test sends hand-built RTP (PCMU,
 * 20 ms packets) from a socket of its own to the socket the element reads, and pulls what comes out
 * of an appsink: order, timestamps, the wait after a gap, what is dropped and counted, the timeout
 * message, binding a port itself, the shared network pool, and restarts under load.
 * StopsCleanlyWhilePacketsArrive fails for now: a stop that meets a push in progress deadlocks (see
 * the test); the DISABLED_ tests at the end show two more known bugs. (gstreamer-app comes through
 * clawvoice_sim_dep.) */
#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CLAWVOICE_UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define CLAWVOICE_UNDER_VALGRIND() false
#endif

using namespace clawvoice::test;

namespace {

constexpr guint32 kSsrc = 0x5eed1234;
constexpr guint kPayloadBytes = 160;             /* 20 ms of 8 kHz μ-law */
constexpr guint32 kTsPerPacket = 160;
constexpr GstClockTime kPacketDuration = 20 * GST_MSECOND;
constexpr const char *kCaps = "application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0";
constexpr const char *kTimeoutMessage = "clawvoice-rtp-timeout";

/* Upper timing bounds, widened under valgrind (which runs everything 10-50× slower); lower bounds
 * (a wait the element must do) are never widened. */
gint64 slack_us(gint64 us)
{
  return CLAWVOICE_UNDER_VALGRIND() ? us * 6 : us;
}

std::string launch_line(const std::string &extra = "")
{
  return "rtpnetsrc name=src latency=60 " + extra + " caps=\"" + kCaps +
         "\" ! appsink name=sink sync=false emit-signals=false";
}

GSocket *new_udp_socket()
{
  GError *error = nullptr;
  GSocket *socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  EXPECT_TRUE(socket) << (error ? error->message : "");
  g_clear_error(&error);
  return socket;
}

/* A UDP socket bound to 127.0.0.1 on a free port (returned in @port). */
GSocket *bound_socket(guint16 *port)
{
  GSocket *socket = new_udp_socket();
  if (!socket)
    return nullptr;
  GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *address = g_inet_socket_address_new(loopback, 0);
  GError *error = nullptr;
  EXPECT_TRUE(g_socket_bind(socket, address, FALSE, &error)) << (error ? error->message : "");
  g_clear_error(&error);
  g_object_unref(address);
  g_object_unref(loopback);
  GSocketAddress *local = g_socket_get_local_address(socket, nullptr);
  *port = local ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)) : 0;
  g_clear_object(&local);
  return socket;
}

/* A port nobody listens on (found by binding a socket and closing it). */
guint16 free_port()
{
  guint16 port = 0;
  GSocket *socket = bound_socket(&port);
  if (socket) {
    g_socket_close(socket, nullptr);
    g_object_unref(socket);
  }
  return port;
}

/* RTP v2, PT 0 (PCMU), no CSRC or extension, then 160 bytes of μ-law silence. */
std::vector<guint8> rtp_packet(guint16 seq, guint32 ts, guint32 ssrc = kSsrc)
{
  std::vector<guint8> p(12 + kPayloadBytes, 0xff);
  p[0] = 0x80;
  p[1] = 0x00;
  p[2] = seq >> 8;
  p[3] = seq & 0xff;
  for (int i = 0; i < 4; i++) {
    p[4 + i] = (ts >> (24 - 8 * i)) & 0xff;
    p[8 + i] = (ssrc >> (24 - 8 * i)) & 0xff;
  }
  return p;
}

/* Sends datagrams to 127.0.0.1:@port from a socket of its own. */
class Sender {
 public:
  explicit Sender(guint16 port) : socket_(new_udp_socket())
  {
    GInetAddress *loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    to_ = g_inet_socket_address_new(loopback, port);
    g_object_unref(loopback);
  }
  ~Sender()
  {
    if (socket_) {
      g_socket_close(socket_, nullptr);
      g_object_unref(socket_);
    }
    g_object_unref(to_);
  }
  Sender(const Sender &) = delete;
  Sender &operator=(const Sender &) = delete;

  void send(const std::vector<guint8> &datagram)
  {
    GError *error = nullptr;
    gssize n = g_socket_send_to(socket_, to_, (const gchar *) datagram.data(), datagram.size(), nullptr, &error);
    EXPECT_EQ(n, (gssize) datagram.size()) << (error ? error->message : "");
    g_clear_error(&error);
  }
  /* Packet @seq, its RTP timestamp following from it (160 per packet, from a base). */
  void rtp(guint16 seq, guint32 ssrc = kSsrc) { send(rtp_packet(seq, ts_of(seq), ssrc)); }
  static guint32 ts_of(guint16 seq) { return 0x10000000u + (guint32) seq * kTsPerPacket; }

 private:
  GSocket *socket_;
  GSocketAddress *to_;
};

struct Out {
  guint16 seq = 0;
  guint32 ts = 0;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  bool discont = false;
  gsize size = 0;
  gint64 at_us = 0;   /* when the test pulled it */
};

/* The next buffer out of appsink @sink, waiting at most @timeout_ms. */
bool pull(GstElement *sink, guint timeout_ms, Out *out)
{
  GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), timeout_ms * GST_MSECOND);
  if (!sample)
    return false;
  out->at_us = g_get_monotonic_time();
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  out->pts = GST_BUFFER_PTS(buffer);
  out->discont = GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  out->size = gst_buffer_get_size(buffer);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  bool ok = gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp);
  EXPECT_TRUE(ok) << "rtpnetsrc puts out RTP";
  if (ok) {
    out->seq = gst_rtp_buffer_get_seq(&rtp);
    out->ts = gst_rtp_buffer_get_timestamp(&rtp);
    gst_rtp_buffer_unmap(&rtp);
  }
  gst_sample_unref(sample);
  return ok;
}

/* Pulls @n buffers (each within @timeout_ms); returns their sequence numbers. */
std::vector<guint16> pull_seqs(GstElement *sink, int n, guint timeout_ms = 1000, std::vector<Out> *outs = nullptr)
{
  std::vector<guint16> seqs;
  for (int i = 0; i < n; i++) {
    Out o;
    if (!pull(sink, timeout_ms, &o))
      break;
    seqs.push_back(o.seq);
    if (outs)
      outs->push_back(o);
  }
  return seqs;
}

guint64 stat(GstElement *src, const char *field)
{
  GstStructure *stats = nullptr;
  g_object_get(src, "stats", &stats, nullptr);
  guint64 value = G_MAXUINT64;
  EXPECT_TRUE(stats && gst_structure_get_uint64(stats, field, &value)) << "stats has " << field;
  if (stats)
    gst_structure_free(stats);
  return value;
}

/* The stats are updated after a wake-up's packets are pushed: wait until @field reaches @value. */
bool wait_stat(GstElement *src, const char *field, guint64 value, guint timeout_ms = 1000)
{
  const gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (stat(src, field) < value && g_get_monotonic_time() < deadline)
    g_usleep(2000);
  return stat(src, field) == value;
}

std::string stats_text(GstElement *src)
{
  GstStructure *stats = nullptr;
  g_object_get(src, "stats", &stats, nullptr);
  gchar *text = stats ? gst_structure_to_string(stats) : g_strdup("(none)");
  std::string s = text;
  g_free(text);
  if (stats)
    gst_structure_free(stats);
  return s;
}

struct StateChange {
  GstStateChangeReturn ret = GST_STATE_CHANGE_FAILURE;
  bool hung = false;   /* deadlocked until @sink was flushed */
};

/* Sets @element to @state (from another thread) and waits at most @timeout_ms for the call to
 * return. If it hangs — a state change that waits for the network thread while that thread waits in
 * @sink's preroll — @sink is flushed to break the deadlock, so that the test fails and the run goes
 * on; a hang that survives the flush ends the run (a deadlocked pipeline cannot be torn down). */
StateChange set_state_bounded(GstElement *element, GstState state, GstElement *sink = nullptr,
                              guint timeout_ms = 1000)
{
  auto result = std::make_shared<std::promise<GstStateChangeReturn>>();
  auto future = result->get_future();
  std::thread([element, state, result]() { result->set_value(gst_element_set_state(element, state)); }).detach();
  StateChange change;
  /* Under valgrind a state change takes tens of ms: twice the time is plenty, and keeps a hang short. */
  const auto wait = std::chrono::milliseconds(CLAWVOICE_UNDER_VALGRIND() ? 2 * timeout_ms : timeout_ms);
  if (future.wait_for(wait) != std::future_status::ready) {
    change.hung = true;
    GstPad *pad = sink ? gst_element_get_static_pad(sink, "sink") : nullptr;
    if (pad)
      gst_pad_send_event(pad, gst_event_new_flush_start());
    if (future.wait_for(wait) != std::future_status::ready) {
      fprintf(stderr, "FATAL: %s to %s did not return within %u ms, nor after a flush (deadlock)\n",
              GST_OBJECT_NAME(element), gst_element_state_get_name(state), timeout_ms);
      fflush(stderr);
      std::abort();
    }
    if (pad) {
      gst_pad_send_event(pad, gst_event_new_flush_stop(FALSE));   /* refused if the pad is inactive by now */
      gst_object_unref(pad);
    }
  }
  change.ret = future.get();
  return change;
}

/* PLAYING, with rtpnetsrc reading. The pipeline itself gets there when the sink has its first
 * buffer (a live pipeline: the sink's state change to PLAYING is async until then). */
bool start(Pipeline &p)
{
  GstStateChangeReturn ret = gst_element_set_state(p.get(), GST_STATE_PLAYING);
  EXPECT_NE(ret, GST_STATE_CHANGE_FAILURE) << p.first_error();
  GstState current = GST_STATE_VOID_PENDING;
  gst_element_get_state(p.by_name("src"), &current, nullptr, 0);
  EXPECT_EQ(current, GST_STATE_PLAYING) << "rtpnetsrc";
  return ret != GST_STATE_CHANGE_FAILURE && current == GST_STATE_PLAYING;
}

/* A pipeline reading a socket the test made (bound to 127.0.0.1:0): the port is in port(). */
struct SocketPipeline {
  explicit SocketPipeline(const std::string &extra = "") : p(launch_line(extra))
  {
    GSocket *socket = bound_socket(&port);
    g_object_set(p.by_name("src"), "socket", socket, nullptr);
    g_object_unref(socket);
  }
  GstElement *src() const { return p.by_name("src"); }
  GstElement *sink() const { return p.by_name("sink"); }
  Pipeline p;
  guint16 port = 0;
};

int thread_count()
{
  DIR *dir = opendir("/proc/self/task");
  if (!dir)
    return -1;
  int n = 0;
  while (struct dirent *e = readdir(dir))
    if (e->d_name[0] != '.')
      n++;
  closedir(dir);
  return n;
}

/* Sends packets in sequence, one every @spacing_us, from a thread of its own, until destroyed. */
class Blaster {
 public:
  Blaster(guint16 port, gulong spacing_us) : sender_(port), thread_([this, spacing_us]() {
    guint16 seq = 1;
    while (!stop_.load()) {
      sender_.rtp(seq++);
      sent_++;
      g_usleep(spacing_us);
    }
  }) {}
  ~Blaster()
  {
    stop_ = true;
    thread_.join();
  }
  int sent() const { return sent_.load(); }

 private:
  Sender sender_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

/* Lines up a push with a stop, as a loaded machine does by chance: hold_next_push() has the next
 * buffer rtpnetsrc pushes held on the network thread (in a probe on rtpnetsrc's src pad) and returns;
 * the test then starts the state change, and the buffer goes on to the sink once the sink has begun
 * its PLAYING→PAUSED (or after 200 ms). The bin changes the sink's state before the source's, so the
 * push reaches a pausing sink while rtpnetsrc's own PLAYING→PAUSED is still to come. */
class PushDuringStop {
 public:
  PushDuringStop(GstElement *src, GstElement *sink) : state_(std::make_shared<State>())
  {
    state_->sink = GST_ELEMENT(gst_object_ref(sink));
    GstPad *pad = gst_element_get_static_pad(src, "src");
    /* The probe owns a reference to the state: it may outlive this object (until the pad goes). */
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, [](GstPad *, GstPadProbeInfo *, gpointer data) {
      (*static_cast<std::shared_ptr<State> *>(data))->on_buffer();
      return GST_PAD_PROBE_OK;
    }, new std::shared_ptr<State>(state_), [](gpointer data) { delete static_cast<std::shared_ptr<State> *>(data); });
    gst_object_unref(pad);
  }
  /* Arms, and waits (at most 1 s) for a push to be held. */
  bool hold_next_push()
  {
    const int before = state_->held.load();
    state_->armed = true;
    const gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
    while (state_->held.load() == before && g_get_monotonic_time() < deadline)
      g_usleep(100);
    state_->armed = false;
    return state_->held.load() > before;
  }

 private:
  struct State {
    ~State() { gst_object_unref(sink); }
    void on_buffer()
    {
      if (!armed.exchange(false))
        return;
      held++;
      const gint64 deadline = g_get_monotonic_time() + 200000;
      while (g_get_monotonic_time() < deadline) {
        GST_OBJECT_LOCK(sink);
        const bool pausing = GST_STATE_NEXT(sink) == GST_STATE_PAUSED || GST_STATE(sink) <= GST_STATE_PAUSED;
        GST_OBJECT_UNLOCK(sink);
        if (pausing)
          break;
        g_usleep(100);
      }
      g_usleep(1000);   /* for the sink's state change to finish */
    }
    GstElement *sink = nullptr;
    std::atomic<bool> armed{false};
    std::atomic<int> held{0};
  };
  std::shared_ptr<State> state_;
};

void sleep_until_us(gint64 when_us)
{
  const gint64 now = g_get_monotonic_time();
  if (when_us > now)
    g_usleep(when_us - now);
}

}  // namespace

TEST(RtpNetSrc, InOrderPacketsComeOutAtOnceWithRtpTimedPts)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  Sender sender(sp.port);

  const guint16 first = 40000;
  std::vector<Out> outs;
  const gint64 t0 = g_get_monotonic_time();
  for (int i = 0; i < 20; i++) {
    sleep_until_us(t0 + i * 20000);
    const gint64 sent = g_get_monotonic_time();
    sender.rtp(first + i);
    Out o;
    ASSERT_TRUE(pull(sp.sink(), 1000, &o)) << "packet " << i << " came out; " << stats_text(sp.src());
    EXPECT_LT(o.at_us - sent, slack_us(30000)) << "packet " << i << " (in order) waits for nothing";
    outs.push_back(o);
  }
  for (int i = 0; i < 20; i++) {
    EXPECT_EQ(outs[i].seq, (guint16) (first + i));
    EXPECT_EQ(outs[i].ts, Sender::ts_of(first + i));
    EXPECT_EQ(outs[i].size, 12u + kPayloadBytes) << "the buffer is the datagram";
    EXPECT_EQ(outs[i].discont, i == 0) << "packet " << i;
    ASSERT_TRUE(GST_CLOCK_TIME_IS_VALID(outs[i].pts)) << "packet " << i;
    if (i > 0) {
      EXPECT_EQ(outs[i].pts - outs[i - 1].pts, kPacketDuration) << "PTS from the RTP timestamps, packet " << i;
    }
  }
  EXPECT_TRUE(wait_stat(sp.src(), "pushed", 20)) << stats_text(sp.src());
  EXPECT_EQ(stat(sp.src(), "received"), 20u);
  EXPECT_EQ(stat(sp.src(), "lost"), 0u);
  EXPECT_EQ(stat(sp.src(), "reordered"), 0u);
  EXPECT_EQ(sp.p.first_error(), "");
}

TEST(RtpNetSrc, SwappedPacketsArePutBackInOrder)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  Sender sender(sp.port);

  for (guint16 seq : {1, 2, 4, 3, 5}) {
    sender.rtp(seq);
    g_usleep(5000);
  }
  std::vector<Out> outs;
  EXPECT_EQ(pull_seqs(sp.sink(), 5, 1000, &outs), (std::vector<guint16>{1, 2, 3, 4, 5})) << stats_text(sp.src());
  for (size_t i = 0; i < outs.size(); i++)
    EXPECT_EQ(outs[i].discont, i == 0) << "seq " << outs[i].seq << ": nothing was lost";
  EXPECT_TRUE(wait_stat(sp.src(), "pushed", 5)) << stats_text(sp.src());
  EXPECT_EQ(stat(sp.src(), "reordered"), 1u);
  EXPECT_EQ(stat(sp.src(), "lost"), 0u);
  EXPECT_EQ(stat(sp.src(), "late"), 0u);
  EXPECT_EQ(stat(sp.src(), "duplicates"), 0u);
}

TEST(RtpNetSrc, AMissingPacketIsGivenUpAfterTheLatency)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  Sender sender(sp.port);

  sender.rtp(1);
  sender.rtp(2);
  ASSERT_EQ(pull_seqs(sp.sink(), 2), (std::vector<guint16>{1, 2}));
  const gint64 sent4 = g_get_monotonic_time();
  sender.rtp(4);   /* 3 never comes */
  sender.rtp(5);
  Out four, five;
  ASSERT_TRUE(pull(sp.sink(), 1000, &four)) << stats_text(sp.src());
  const gint64 waited = four.at_us - sent4;
  EXPECT_EQ(four.seq, 4);
  EXPECT_GE(waited, 50000) << "held for the latency (60 ms) for 3 to come";
  EXPECT_LE(waited, slack_us(150000)) << "then given up";
  EXPECT_TRUE(four.discont) << "after a loss";
  ASSERT_TRUE(pull(sp.sink(), 1000, &five));
  EXPECT_EQ(five.seq, 5);
  EXPECT_FALSE(five.discont);
  EXPECT_LT(five.at_us - four.at_us, slack_us(10000)) << "5 goes out with 4";
  EXPECT_TRUE(wait_stat(sp.src(), "pushed", 4)) << stats_text(sp.src());
  EXPECT_EQ(stat(sp.src(), "lost"), 1u);
  EXPECT_EQ(stat(sp.src(), "reordered"), 0u);
}

TEST(RtpNetSrc, DuplicatesLateAndGarbageAreDroppedAndCounted)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  Sender sender(sp.port);

  sender.rtp(1);
  sender.rtp(2);
  ASSERT_EQ(pull_seqs(sp.sink(), 2), (std::vector<guint16>{1, 2}));
  sender.rtp(4);
  sender.rtp(4);   /* a duplicate of a held packet */
  g_usleep(5000);
  sender.rtp(3);
  ASSERT_EQ(pull_seqs(sp.sink(), 2), (std::vector<guint16>{3, 4})) << stats_text(sp.src());
  sender.rtp(5);
  ASSERT_EQ(pull_seqs(sp.sink(), 1), (std::vector<guint16>{5}));
  sender.rtp(7);   /* 6 comes after 7 went out: given up, then late */
  Out seven;
  ASSERT_TRUE(pull(sp.sink(), 1000, &seven));
  EXPECT_EQ(seven.seq, 7);
  EXPECT_TRUE(seven.discont);
  sender.rtp(6);
  sender.send({'h', 'e', 'l', 'l', 'o'});   /* not RTP */
  sender.rtp(2);   /* a copy of one that went out long ago: late (as rtpjitterbuffer counts it) */
  sender.rtp(8);
  Out eight;
  ASSERT_TRUE(pull(sp.sink(), 1000, &eight));
  EXPECT_EQ(eight.seq, 8) << "the late, duplicate and garbage datagrams do not come out";
  EXPECT_FALSE(eight.discont);
  Out extra;
  EXPECT_FALSE(pull(sp.sink(), 100, &extra)) << "nothing else comes out, got seq " << extra.seq;

  EXPECT_TRUE(wait_stat(sp.src(), "received", 11)) << stats_text(sp.src());
  EXPECT_EQ(stat(sp.src(), "pushed"), 7u) << stats_text(sp.src());
  EXPECT_EQ(stat(sp.src(), "invalid"), 1u);
  EXPECT_EQ(stat(sp.src(), "duplicates"), 1u);
  EXPECT_EQ(stat(sp.src(), "late"), 2u);
  EXPECT_EQ(stat(sp.src(), "lost"), 1u);
  EXPECT_EQ(stat(sp.src(), "reordered"), 1u);
  EXPECT_EQ(stat(sp.src(), "resyncs"), 0u);
  EXPECT_EQ(stat(sp.src(), "strays"), 0u);
  sp.p.run_until([] { return false; }, 50);
  EXPECT_EQ(sp.p.first_error(), "");
  EXPECT_TRUE(sp.p.warnings().empty());
}

TEST(RtpNetSrc, TimeoutMessageWhenNoPacketComes)
{
  init_gstreamer();
  SocketPipeline sp("timeout=200000000");
  ASSERT_TRUE(start(sp.p));
  const gint64 t0 = g_get_monotonic_time();
  ASSERT_TRUE(sp.p.run_until([&] { return !sp.p.element_messages(kTimeoutMessage).empty(); }, 2000));
  const gint64 took = g_get_monotonic_time() - t0;
  EXPECT_GE(took, 150000);
  EXPECT_LE(took, slack_us(600000));
  const GstStructure *s = sp.p.element_messages(kTimeoutMessage).front();
  guint64 timeout = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, "timeout", &timeout));
  EXPECT_EQ(timeout, 200000000u);
  GstMessage *m = nullptr;
  for (GstMessage *msg : sp.p.messages())
    if (gst_message_get_structure(msg) == s)
      m = msg;
  ASSERT_TRUE(m);
  EXPECT_EQ(GST_MESSAGE_SRC(m), GST_OBJECT(sp.src())) << "posted by rtpnetsrc";
  EXPECT_EQ(sp.p.first_error(), "");
}

TEST(RtpNetSrc, BindsAddressAndPortItself)
{
  init_gstreamer();
  const guint16 port = free_port();
  ASSERT_NE(port, 0);
  Pipeline p(launch_line("address=127.0.0.1 port=" + std::to_string(port)));
  ASSERT_TRUE(start(p)) << p.first_error();
  Sender sender(port);
  for (guint16 seq : {10, 11, 12})
    sender.rtp(seq);
  EXPECT_EQ(pull_seqs(p.by_name("sink"), 3), (std::vector<guint16>{10, 11, 12})) << stats_text(p.by_name("src"));
  EXPECT_EQ(p.first_error(), "");
}

TEST(RtpNetSrc, NoThreadPerElement)
{
  init_gstreamer();
  constexpr int kPipelines = 20;
  const int before = thread_count();
  ASSERT_GT(before, 0);
  std::vector<std::unique_ptr<SocketPipeline>> pipelines;
  for (int i = 0; i < kPipelines; i++) {
    pipelines.push_back(std::make_unique<SocketPipeline>());
    ASSERT_TRUE(start(pipelines.back()->p)) << "pipeline " << i;
  }
  const int after = thread_count();
  printf("[          ] %d threads before, %d with %d pipelines PLAYING\n", before, after, kPipelines);
  EXPECT_LT(after - before, 10) << before << " threads before " << kPipelines << " PLAYING pipelines, "
                                << after << " after: the network pool is shared";
  for (int i = 0; i < kPipelines; i++) {
    Sender sender(pipelines[i]->port);
    sender.rtp((guint16) (100 + i));
  }
  for (int i = 0; i < kPipelines; i++)
    EXPECT_EQ(pull_seqs(pipelines[i]->sink(), 1), (std::vector<guint16>{(guint16) (100 + i)})) << "pipeline " << i;
  for (int i = 0; i < kPipelines; i++) {
    EXPECT_EQ(set_state_bounded(pipelines[i]->p.get(), GST_STATE_NULL, pipelines[i]->sink()).ret, GST_STATE_CHANGE_SUCCESS)
        << "pipeline " << i;
    EXPECT_EQ(pipelines[i]->p.first_error(), "");
  }
}

/* Known to fail (a deadlock, broken by the test after 1 s): the stop that meets a push in progress,
 * which the test lines up (PushDuringStop) instead of waiting for a loaded machine to do it. */
TEST(RtpNetSrc, StopsCleanlyWhilePacketsArrive)
{
  init_gstreamer();
  SocketPipeline sp("close-socket=false");   /* the same socket across the restarts */
  PushDuringStop race(sp.src(), sp.sink());
  Blaster blaster(sp.port, 500);
  for (int cycle = 0; cycle < 6; cycle++) {
    ASSERT_TRUE(start(sp.p)) << "cycle " << cycle;
    std::vector<Out> outs;
    pull_seqs(sp.sink(), 10, 1000, &outs);
    EXPECT_EQ(outs.size(), 10u) << "packets flow in cycle " << cycle << "; " << stats_text(sp.src());
    for (size_t i = 1; i < outs.size(); i++)
      EXPECT_EQ(outs[i].seq, (guint16) (outs[i - 1].seq + 1)) << "in order, cycle " << cycle;
    ASSERT_TRUE(race.hold_next_push()) << "cycle " << cycle;
    StateChange change = set_state_bounded(sp.p.get(), GST_STATE_NULL, sp.sink());
    ASSERT_FALSE(change.hung) << "PLAYING→NULL deadlocked in cycle " << cycle << " (broken by flushing the sink): "
        "the sink, pausing, prerolled a packet pushed from the network thread and waits there for PLAYING, "
        "while rtpnetsrc's PLAYING→PAUSED waits in invoke_sync() for that thread";
    EXPECT_EQ(change.ret, GST_STATE_CHANGE_SUCCESS) << "cycle " << cycle;
  }
  sp.p.run_until([] { return false; }, 20);
  EXPECT_EQ(sp.p.first_error(), "");
  EXPECT_GT(blaster.sent(), 0);
}

/* Known bugs, disabled until the element is fixed (run with --gtest_also_run_disabled_tests). */

/* The deadlock of StopsCleanlyWhilePacketsArrive, on a pause: PLAYING→PAUSED and back, keeping
 * what is held. */
TEST(RtpNetSrc, PausesWhilePacketsArrive)
{
  init_gstreamer();
  SocketPipeline sp;
  PushDuringStop race(sp.src(), sp.sink());
  Blaster blaster(sp.port, 500);
  for (int cycle = 0; cycle < 6; cycle++) {
    ASSERT_TRUE(start(sp.p)) << "cycle " << cycle;
    EXPECT_EQ(pull_seqs(sp.sink(), 5).size(), 5u) << "cycle " << cycle;
    ASSERT_TRUE(race.hold_next_push()) << "cycle " << cycle;
    StateChange change = set_state_bounded(sp.p.get(), GST_STATE_PAUSED, sp.sink());
    ASSERT_FALSE(change.hung) << "PLAYING→PAUSED deadlocked in cycle " << cycle;
    EXPECT_NE(change.ret, GST_STATE_CHANGE_FAILURE);
  }
  EXPECT_EQ(set_state_bounded(sp.p.get(), GST_STATE_NULL, sp.sink()).ret, GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ(sp.p.first_error(), "");
}

/* `timeout` may be set in any state, but set while PLAYING and silent it is never applied: the timer
 * is re-armed only when a packet comes or a held one's deadline passes. */
TEST(RtpNetSrc, TimeoutSetWhilePlayingApplies)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  g_usleep(20000);
  g_object_set(sp.src(), "timeout", (guint64) 100 * GST_MSECOND, nullptr);
  EXPECT_TRUE(sp.p.run_until([&] { return !sp.p.element_messages(kTimeoutMessage).empty(); }, 1000));
}

/* A socket given with close-socket=true is closed at NULL; playing again is a clear error, not a
 * silent source that never delivers. */
TEST(RtpNetSrc, ClosedSocketGivenAgainIsAnError)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  ASSERT_EQ(gst_element_set_state(sp.p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ(gst_element_set_state(sp.p.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  sp.p.run_until([&] { return !sp.p.first_error().empty(); }, 1000);
  EXPECT_NE(sp.p.first_error().find("socket given is closed"), std::string::npos) << sp.p.first_error();
}

/* payload-types keeps the answered types: comfort noise in between is dropped without looking like
 * a loss (it shares the sequence numbers), so the packet after it is neither held nor DISCONT. */
TEST(RtpNetSrc, PayloadTypesDropOthersWithoutALoss)
{
  init_gstreamer();
  SocketPipeline sp;
  GValue types = G_VALUE_INIT;
  gst_value_array_init(&types, 2);
  for (gint pt : {0, 101}) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_INT);
    g_value_set_int(&v, pt);
    gst_value_array_append_and_take_value(&types, &v);
  }
  g_object_set_property(G_OBJECT(sp.src()), "payload-types", &types);
  g_value_unset(&types);
  ASSERT_TRUE(start(sp.p));
  Sender sender(sp.port);

  sender.rtp(1);
  std::vector<guint8> comfort_noise = rtp_packet(2, Sender::ts_of(2));
  comfort_noise[1] = 13;   /* CN */
  sender.send(comfort_noise);
  const gint64 sent_us = g_get_monotonic_time();
  sender.rtp(3);
  std::vector<Out> outs;
  EXPECT_EQ(pull_seqs(sp.sink(), 2, 1000, &outs), (std::vector<guint16>{1, 3})) << stats_text(sp.src());
  EXPECT_LT(g_get_monotonic_time() - sent_us, slack_us(40000)) << "3 was not held for the latency";
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_FALSE(outs[1].discont);
  EXPECT_TRUE(wait_stat(sp.src(), "filtered", 1)) << stats_text(sp.src());
  EXPECT_EQ(stat(sp.src(), "lost"), 0u);
}

/* The application closes the socket while the element reads it: the element does not spin on it (a
 * closed socket can poll readable forever; the epoll set of the network thread just forgets it),
 * and it stops cleanly. */
TEST(RtpNetSrc, SocketClosedUnderItDoesNotSpin)
{
  init_gstreamer();
  SocketPipeline sp;
  ASSERT_TRUE(start(sp.p));
  GSocket *socket = nullptr;
  g_object_get(sp.src(), "socket", &socket, nullptr);
  ASSERT_NE(socket, nullptr);
  g_socket_close(socket, nullptr);
  g_object_unref(socket);
  auto cpu_us = []() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return (gint64) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000 + usage.ru_utime.tv_usec +
           usage.ru_stime.tv_usec;
  };
  const gint64 cpu_before = cpu_us();
  g_usleep(500000);
  EXPECT_LT(cpu_us() - cpu_before, slack_us(100000)) << "CPU over 0.5 s with the socket closed";
  EXPECT_EQ(gst_element_set_state(sp.p.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ(sp.p.first_error(), "");
}

/* Each packet carries the kernel's time of arrival (what realtimesink measures the launcher's
 * inbound delay from), through the depayloader. */
TEST(RtpNetSrc, EachPacketCarriesItsArrivalTimeThroughTheDepayloader)
{
  init_gstreamer();
  Pipeline p(std::string("rtpnetsrc name=src latency=60 caps=\"") + kCaps +
             "\" ! rtppcmudepay ! appsink name=sink sync=false emit-signals=false");
  guint16 port = 0;
  GSocket *socket = bound_socket(&port);
  g_object_set(p.by_name("src"), "socket", socket, nullptr);
  g_object_unref(socket);
  ASSERT_TRUE(start(p));
  Sender sender(port);
  GstCaps *arrival_caps = gst_caps_from_string("timestamp/x-unix");
  for (int i = 0; i < 5; i++) {
    const gint64 sent_us = g_get_real_time();
    sender.rtp(100 + i);
    GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(p.by_name("sink")), GST_SECOND);
    ASSERT_TRUE(sample) << "packet " << i;
    const gint64 pulled_us = g_get_real_time();
    GstReferenceTimestampMeta *meta = gst_buffer_get_reference_timestamp_meta(gst_sample_get_buffer(sample), arrival_caps);
    ASSERT_TRUE(meta) << "packet " << i << " has its arrival time";
    const gint64 arrival_us = (gint64) (meta->timestamp / 1000);
    EXPECT_GE(arrival_us, sent_us - 1000) << "packet " << i;   /* (the clocks' read-outs differ by a µs or so) */
    EXPECT_LE(arrival_us, pulled_us) << "packet " << i;
    EXPECT_EQ(gst_buffer_get_size(gst_sample_get_buffer(sample)), kPayloadBytes) << "depayloaded";
    gst_sample_unref(sample);
  }
  gst_caps_unref(arrival_caps);
  EXPECT_EQ(p.first_error(), "");
}

/* ---- depayload: G.711 out as audio, telephone-events as messages (sip.launch) ---- */

namespace {

/* A depayloading rtpnetsrc into an appsink, on a socket of the test's; @extra: more properties. */
struct DepayloadPipeline {
  explicit DepayloadPipeline(const std::string &extra = "")
      : p(std::string("rtpnetsrc name=src latency=60 depayload=true ") + extra + " caps=\"" + kCaps +
          "\" ! appsink name=sink sync=false emit-signals=false")
  {
    GSocket *socket = bound_socket(&port);
    g_object_set(p.by_name("src"), "socket", socket, nullptr);
    g_object_unref(socket);
  }
  GstElement *sink() const { return p.by_name("sink"); }
  Pipeline p;
  guint16 port = 0;
};

/* An RTP packet of payload type @pt carrying @payload; @csrcs CSRC entries and @padding bytes of
 * padding around it, @marker as given. */
std::vector<guint8> rtp_with(guint8 pt, guint16 seq, guint32 ts, const std::vector<guint8> &payload,
                             int csrcs = 0, guint8 padding = 0, bool marker = false)
{
  std::vector<guint8> p(12 + 4 * csrcs, 0);
  p[0] = (guint8) (0x80 | (padding ? 0x20 : 0) | csrcs);
  p[1] = (guint8) ((marker ? 0x80 : 0) | pt);
  p[2] = seq >> 8;
  p[3] = seq & 0xff;
  for (int i = 0; i < 4; i++) {
    p[4 + i] = (ts >> (24 - 8 * i)) & 0xff;
    p[8 + i] = (kSsrc >> (24 - 8 * i)) & 0xff;
  }
  p.insert(p.end(), payload.begin(), payload.end());
  for (guint8 i = 0; i < padding; i++)
    p.push_back(i + 1 == padding ? padding : 0);
  return p;
}

/* RFC 4733 §2.3: event, E bit, volume, duration. */
std::vector<guint8> telephone_event(guint8 event, bool end, guint16 duration)
{
  return {event, (guint8) ((end ? 0x80 : 0) | 10), (guint8) (duration >> 8), (guint8) (duration & 0xff)};
}

/* Pulls the @expected audio buffers (each within a second; slow under valgrind), then whatever else
 * comes within 300 ms; returns how many there were, all checked to be 20 ms of audio. */
int pull_audio(GstElement *sink, int expected)
{
  int count = 0;
  while (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
                                                          (count < expected ? 1000 : 300) * GST_MSECOND)) {
    EXPECT_EQ(gst_buffer_get_size(gst_sample_get_buffer(sample)), kPayloadBytes) << "buffer " << count;
    count++;
    gst_sample_unref(sample);
  }
  return count;
}

std::vector<guint8> counting_payload(guint8 first)
{
  std::vector<guint8> v(kPayloadBytes);
  for (guint i = 0; i < kPayloadBytes; i++)
    v[i] = (guint8) (first + i);
  return v;
}

}  // namespace

TEST(RtpNetSrc, DepayloadPutsOutTheG711AudioWithItsCaps)
{
  init_gstreamer();
  for (guint8 pt : {0, 8}) {
    DepayloadPipeline dp;
    ASSERT_TRUE(start(dp.p));
    Sender sender(dp.port);
    GstCaps *arrival_caps = gst_caps_from_string("timestamp/x-unix");
    GstClockTime previous_pts = GST_CLOCK_TIME_NONE;
    for (guint16 i = 0; i < 4; i++) {
      /* One packet with two CSRCs and 4 bytes of padding: the payload is still exactly the audio. */
      sender.send(rtp_with(pt, 500 + i, Sender::ts_of(500 + i), counting_payload((guint8) i), i == 2 ? 2 : 0,
                           i == 2 ? 4 : 0));
      GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(dp.sink()), GST_SECOND);
      ASSERT_TRUE(sample) << "packet " << i << " of payload type " << (int) pt;
      GstBuffer *buffer = gst_sample_get_buffer(sample);
      const GstStructure *s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
      EXPECT_STREQ(gst_structure_get_name(s), pt == 8 ? "audio/x-alaw" : "audio/x-mulaw");
      gint rate = 0;
      EXPECT_TRUE(gst_structure_get_int(s, "rate", &rate) && rate == 8000);
      std::vector<guint8> got(gst_buffer_get_size(buffer));
      gst_buffer_extract(buffer, 0, got.data(), got.size());
      EXPECT_EQ(got, counting_payload((guint8) i)) << "the payload, and only it, packet " << i;
      EXPECT_EQ(GST_BUFFER_IS_DISCONT(buffer), i == 0);
      EXPECT_TRUE(gst_buffer_get_reference_timestamp_meta(buffer, arrival_caps)) << "its arrival time kept";
      if (GST_CLOCK_TIME_IS_VALID(previous_pts)) {
        EXPECT_EQ(GST_BUFFER_PTS(buffer) - previous_pts, kPacketDuration);
      }
      previous_pts = GST_BUFFER_PTS(buffer);
      gst_sample_unref(sample);
    }
    gst_caps_unref(arrival_caps);
    EXPECT_EQ(dp.p.first_error(), "");
  }
}

TEST(RtpNetSrc, DepayloadPostsOneDtmfMessagePerTelephoneEventAndNoAudioForIt)
{
  init_gstreamer();
  DepayloadPipeline dp("telephone-event-payload-type=101");
  ASSERT_TRUE(start(dp.p));
  Sender sender(dp.port);
  guint16 seq = 700;
  auto audio = [&]() {
    sender.send(rtp_with(0, seq, Sender::ts_of(seq), counting_payload(0)));
    seq++;
  };
  /* An event as phones send it (RFC 4733 §2.5.1): packets every 50 ms sharing the event's timestamp,
   * the duration growing, the end packet sent three times. Then a second digit, a new timestamp. */
  auto digit = [&](guint8 event) {
    const guint32 ts = Sender::ts_of(seq);
    for (guint16 d = 400; d <= 1200; d += 400)
      sender.send(rtp_with(101, seq++, ts, telephone_event(event, false, d), 0, 0, d == 400));
    for (int i = 0; i < 3; i++)
      sender.send(rtp_with(101, seq++, ts, telephone_event(event, true, 1600)));
  };
  audio();
  digit(1);
  audio();
  digit(11);
  audio();
  EXPECT_EQ(pull_audio(dp.sink(), 3), 3) << "only the audio comes out, all of it";
  ASSERT_TRUE(dp.p.run_until([&] { return dp.p.element_messages("dtmf-event").size() >= 2; }, 2000));
  g_usleep(100000);
  dp.p.run_until([] { return false; }, 100);
  auto events = dp.p.element_messages("dtmf-event");
  ASSERT_EQ(events.size(), 2u) << "one message per event, not per packet";
  gint number = -1, method = 0;
  EXPECT_TRUE(gst_structure_get_int(events[0], "number", &number) && number == 1);
  EXPECT_TRUE(gst_structure_get_int(events[1], "number", &number) && number == 11) << "#";
  EXPECT_TRUE(gst_structure_get_int(events[0], "method", &method) && method == 1) << "RTP, as rtpdtmfdepay says";
  EXPECT_EQ(stat(dp.p.by_name("src"), "dtmf-events"), 2u);
  EXPECT_EQ(stat(dp.p.by_name("src"), "lost"), 0u) << "the events share the sequence numbers: no gap";
}

TEST(RtpNetSrc, DepayloadDropsWhatIsNotG711)
{
  init_gstreamer();
  DepayloadPipeline dp;   /* no telephone-event type: events are just another type */
  ASSERT_TRUE(start(dp.p));
  Sender sender(dp.port);
  sender.send(rtp_with(0, 900, Sender::ts_of(900), counting_payload(0)));
  sender.send(rtp_with(101, 901, Sender::ts_of(901), telephone_event(5, false, 400)));
  sender.send(rtp_with(18, 902, Sender::ts_of(902), std::vector<guint8>(20, 1)));   /* G.729 */
  sender.send(rtp_with(0, 903, Sender::ts_of(903), counting_payload(3)));
  EXPECT_EQ(pull_audio(dp.sink(), 2), 2);
  EXPECT_EQ(stat(dp.p.by_name("src"), "filtered"), 2u);
  EXPECT_TRUE(dp.p.element_messages("dtmf-event").empty());
}
