/* Fixture and helpers shared by the simulator tests: a simulator on 127.0.0.1:0, WebSocket
 * clients whose received events are all checked against the server schemas, and audio helpers. */
#pragma once

#include "audio_format.h"
#include "realtime_simulator.h"
#include "ws_client.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace clawvoice::sim::test {

/* Fast replies for tests: little thinking time, audio 20x faster than real time. */
Options fast_options();

std::vector<int16_t> speech_pcm(const std::string &text, int rate = 24000);
std::vector<int16_t> silence_pcm(int ms, int rate = 24000);
std::vector<int16_t> concat(std::initializer_list<std::vector<int16_t>> parts);

/* {"type":"input_audio_buffer.append","audio":…} */
std::string append_event(const AudioFormat &format, const int16_t *pcm, size_t samples);

/* Milliseconds of audio in all response.output_audio.delta events of @client (for @item_id, or
 * all items when empty). */
double delta_audio_ms(const WsClient &client, const AudioFormat &format,
                      const std::string &item_id = "");

class SimTest : public ::testing::Test {
 protected:
  void TearDown() override;

  void start(Options options = fast_options());
  /* Connects and waits for session.created (unless @expect_session is false). */
  WsClient &connect(const std::string &query = "?model=gpt-realtime",
                    const ConnectOptions &options = {}, bool expect_session = true);
  /* Sends @pcm in @chunk_ms appends, as fast as the socket takes them. */
  void send_audio(WsClient &client, const std::vector<int16_t> &pcm,
                  const AudioFormat &format = {}, int chunk_ms = 20);
  /* Sends a JSON text and waits for the first @reply event after it. */
  const Event *request(WsClient &client, const std::string &json, const std::string &reply,
                       int timeout_ms = 5000);

  std::unique_ptr<RealtimeSimulator> sim;
  std::vector<std::unique_ptr<WsClient>> clients;
};

}  // namespace clawvoice::sim::test
