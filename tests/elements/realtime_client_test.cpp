/* RealtimeClient against the simulator: what is held while connecting, and the ordering barrier. */
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <vector>

#include "net/net_thread.h"
#include "realtime/realtime_client.h"
#include "test_support.h"

namespace clawvoice::test {
namespace {

constexpr char kKey[] = "sk-test-client";

/* 20 ms frames of PCM16 24 kHz: a 1 s tone loud enough for the server VAD, then 1 s of silence. */
std::vector<std::vector<uint8_t>> tone_then_silence()
{
  std::vector<std::vector<uint8_t>> frames;
  for (int f = 0; f < 100; f++) {
    std::vector<uint8_t> frame(480 * 2, 0);
    for (int i = 0; f < 50 && i < 480; i++) {
      int16_t v = (int16_t) (8000 * std::sin(2 * M_PI * 300 * (f * 480 + i) / 24000.0));
      frame[2 * i] = (uint8_t) (v & 0xff);
      frame[2 * i + 1] = (uint8_t) ((v >> 8) & 0xff);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

/* A file source can push a whole question before the WebSocket is even open. The barrier asked for
 * then must pass only after the server has heard the held audio, or the end of stream is taken for
 * the end of the conversation before the caller's turn was ever seen (a CI failure, once). */
TEST(RealtimeClient, BarrierRequestedWhileConnectingPassesAfterTheHeldAudio)
{
  sim::Options options;
  options.api_key = kKey;
  options.response_delay_ms = 60000;   /* the turn matters here, not the reply */
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);

  std::shared_ptr<net::NetThread> thread = net::NetThread::acquire();
  realtime::ConnectOptions connect;
  connect.url = simulator->url();
  connect.api_key = kKey;
  realtime::SessionConfig session;

  std::mutex lock;
  std::vector<std::string> events;
  std::atomic<guint64> barrier{0};
  std::atomic<int> turns_when_barrier_passed{-1};
  std::unique_ptr<realtime::RealtimeClient> client;
  realtime::RealtimeClientCallbacks callbacks;
  callbacks.on_event = [&](realtime::ServerEvent &event) {
    std::lock_guard<std::mutex> guard(lock);
    events.push_back(event.type);
    guint64 token = barrier.load();
    if (token && turns_when_barrier_passed.load() < 0 && client->barrier_passed(token)) {
      int stopped = 0;
      for (const std::string &type : events)
        stopped += type == "input_audio_buffer.speech_stopped";
      turns_when_barrier_passed = stopped;
    }
  };
  client = std::make_unique<realtime::RealtimeClient>(thread, connect, session, callbacks);
  client->start();
  /* Keep the network thread busy so the connection cannot open before everything is held. */
  thread->invoke([]() { g_usleep(300 * 1000); });
  for (const auto &frame : tone_then_silence())
    ASSERT_TRUE(client->send_audio(frame.data(), frame.size()));
  barrier = client->request_barrier();
  EXPECT_NE(client->state(), realtime::ConnectionState::Connected) << "the test needs the held path";

  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (turns_when_barrier_passed.load() < 0 && g_get_monotonic_time() < deadline)
    g_usleep(10 * 1000);
  client->stop();
  ASSERT_GE(turns_when_barrier_passed.load(), 0) << "the barrier never passed";
  EXPECT_EQ(turns_when_barrier_passed.load(), 1)
      << "when the barrier passed, the server had already ended the caller's turn";
  EXPECT_EQ(simulator->user_turns().size(), 1u);
}

}  // namespace
}  // namespace clawvoice::test
