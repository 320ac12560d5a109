/* realtimesink's formats: the sink caps choose the session's input format and downstream's caps its
 * output format, for every combination, with G.711 passed through untouched. */
#include <gtest/gtest.h>

#include "common/json.h"
#include "test_support.h"

using namespace clawvoice;
using namespace clawvoice::test;

namespace {

struct Format {
  const char *name;
  const char *encode;     /* elements turning S16 into this format */
  const char *caps;       /* caps of this format */
  const char *wire;       /* the session's format type */
};

const Format kFormats[] = {
  {"pcm", "audioresample ! audio/x-raw,format=S16LE,rate=24000,channels=1",
   "audio/x-raw,format=S16LE,rate=24000,channels=1", "audio/pcm"},
  {"mulaw", "audioresample ! audio/x-raw,rate=8000,channels=1 ! mulawenc", "audio/x-mulaw,rate=8000,channels=1",
   "audio/pcmu"},
  {"alaw", "audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc", "audio/x-alaw,rate=8000,channels=1",
   "audio/pcma"},
};

std::string format_of(const std::string &session_json, const char *direction)
{
  json::ObjectPtr session = json::parse_object(session_json);
  JsonObject *audio = json::get_object(session.get(), "audio");
  return json::get_string(json::get_object(json::get_object(audio, direction), "format"), "type");
}

class Negotiation : public ::testing::TestWithParam<std::tuple<int, int>> {
 protected:
  void SetUp() override { init_gstreamer(); }
};

}  // namespace

TEST_P(Negotiation, CapsChooseTheSessionFormats)
{
  const Format &in = kFormats[std::get<0>(GetParam())];
  const Format &out = kFormats[std::get<1>(GetParam())];
  sim::Options options;
  options.api_key = "sk-formats";
  options.tool_calls = false;
  auto simulator = start_simulator(options);
  ASSERT_TRUE(simulator);
  Pipeline p(std::string("audiotestsrc is-live=true wave=sine freq=440 volume=0.3 samplesperbuffer=480 ! "
                         "audio/x-raw,format=S16LE,rate=24000,channels=1 ! ") + in.encode +
             " ! realtimesink name=rt url=" + simulator->url() + " api-key=sk-formats ! " + out.caps +
             " ! fakesink name=out");
  ASSERT_NE(p.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_TRUE(p.run_until([&] {
    std::string s = simulator->current_session_json();
    return format_of(s, "input") == in.wire && format_of(s, "output") == out.wire &&
           simulator->input_audio_ms() > 200;
  }, 5000)) << simulator->current_session_json();
  EXPECT_EQ(p.first_error(), "");
  /* The src pad carries exactly the negotiated caps. */
  GstPad *pad = gst_element_get_static_pad(p.by_name("rt"), "src");
  GstCaps *caps = gst_pad_get_current_caps(pad);
  ASSERT_TRUE(caps);
  GstCaps *expected = gst_caps_from_string(out.caps);
  EXPECT_TRUE(gst_caps_can_intersect(caps, expected)) << gst_caps_to_string(caps);
  gst_caps_unref(expected);
  gst_caps_unref(caps);
  gst_object_unref(pad);
  /* Every append was accepted: the right number of bytes for the declared format. */
  for (const auto &e : simulator->received_events())
    EXPECT_TRUE(e.valid) << e.json.substr(0, 200);
  EXPECT_TRUE(simulator->errors_sent().empty());
}

INSTANTIATE_TEST_SUITE_P(AllFormats, Negotiation,
    ::testing::Combine(::testing::Values(0, 1, 2), ::testing::Values(0, 1, 2)),
    [](const ::testing::TestParamInfo<Negotiation::ParamType> &info) {
      return std::string(kFormats[std::get<0>(info.param)].name) + "_to_" + kFormats[std::get<1>(info.param)].name;
    });
