#include "sim_test_support.h"

#include "speech_synth.h"

namespace clawvoice::sim::test {

Options fast_options()
{
  Options o;
  o.api_key = "sk-test";
  o.burst_speed = 20.0;
  o.response_delay_ms = 20;
  o.delta_ms = 100;
  return o;
}

std::vector<int16_t> speech_pcm(const std::string &text, int rate)
{
  SynthRequest request;
  request.text = text;
  request.rate = rate;
  return SpeechSynthesizer::synthesize(request);
}

std::vector<int16_t> silence_pcm(int ms, int rate)
{
  return std::vector<int16_t>((size_t) rate * ms / 1000, 0);
}

std::vector<int16_t> concat(std::initializer_list<std::vector<int16_t>> parts)
{
  std::vector<int16_t> out;
  for (auto &p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::string append_event(const AudioFormat &format, const int16_t *pcm, size_t samples)
{
  std::vector<uint8_t> bytes = encode_audio(format, pcm, samples);
  return R"({"type":"input_audio_buffer.append","audio":")" +
         encode_base64(bytes.data(), bytes.size()) + "\"}";
}

double delta_audio_ms(const WsClient &client, const AudioFormat &format, const std::string &item_id)
{
  double ms = 0;
  for (const Event *e : client.of_type("response.output_audio.delta")) {
    if (!item_id.empty() && json::get_string(e->object.get(), "item_id") != item_id)
      continue;
    std::vector<uint8_t> bytes;
    EXPECT_TRUE(decode_base64_strict(json::get_string(e->object.get(), "delta"), &bytes));
    ms += format.ms_for_bytes(bytes.size());
  }
  return ms;
}

void SimTest::TearDown()
{
  for (auto &c : clients) {
    for (const std::string &failure : c->schema_failures())
      ADD_FAILURE() << "server event does not validate: " << failure;
  }
  clients.clear();
  if (sim)
    sim->stop();
  sim.reset();
}

void SimTest::start(Options options)
{
  sim = std::make_unique<RealtimeSimulator>(std::move(options));
  std::string error;
  ASSERT_TRUE(sim->start(&error)) << error;
  ASSERT_NE(sim->port(), 0u);
}

WsClient &SimTest::connect(const std::string &query, const ConnectOptions &options,
                           bool expect_session)
{
  clients.push_back(std::make_unique<WsClient>());
  WsClient &c = *clients.back();
  std::string url = sim->url() + query;
  bool ok = c.connect(url, options);
  EXPECT_TRUE(ok) << "connect " << url << " → HTTP " << c.http_status();
  if (ok && expect_session) {
    EXPECT_NE(c.wait_for("session.created"), nullptr);
  }
  return c;
}

void SimTest::send_audio(WsClient &client, const std::vector<int16_t> &pcm,
                         const AudioFormat &format, int chunk_ms)
{
  const size_t chunk = (size_t) format.rate() * chunk_ms / 1000;
  for (size_t at = 0; at < pcm.size(); at += chunk) {
    size_t n = std::min(chunk, pcm.size() - at);
    client.send(append_event(format, pcm.data() + at, n));
    client.pump(0);
  }
}

const Event *SimTest::request(WsClient &client, const std::string &json, const std::string &reply,
                              int timeout_ms)
{
  size_t before = client.events().size();
  client.send(json);
  const Event *found = nullptr;
  const gint64 end = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
  while (!found && g_get_monotonic_time() < end) {
    client.pump(5);
    for (size_t i = before; i < client.events().size(); i++) {
      if (client.events()[i].type == reply) {
        found = &client.events()[i];
        break;
      }
    }
  }
  return found;
}

}  // namespace clawvoice::sim::test
