/* json::FlatObject, the reader of plain JSON that spares json-glib's parser the messages that come
 * many times a second: what it reads, what it leaves to json-glib, and that the Realtime events
 * built from it are exactly those json-glib's parser builds. (The Twilio messages read with it are
 * checked the same way in tests/twilio/media_stream_test.cpp.) */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/json.h"
#include "common/json_flat.h"
#include "realtime/server_events.h"

using clawvoice::json::FlatObject;
namespace json = clawvoice::json;
namespace realtime = clawvoice::realtime;

TEST(JsonFlat, ReadsStringsIntegersAndObjectsUpToTheDepthAsked)
{
  FlatObject flat;
  ASSERT_TRUE(flat.read(R"( {"a":"x y","n":-42,"z":0,"o":{"b":"c","m":7}} )", 1));
  std::string_view text;
  EXPECT_TRUE(FlatObject::string(flat.root(), "a", &text));
  EXPECT_EQ(text, "x y");
  const FlatObject::Member *n = FlatObject::find(flat.root(), "n");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->kind, FlatObject::Member::Kind::Integer);
  EXPECT_EQ(n->integer, -42);
  const FlatObject::Members *o = flat.object_member(flat.root(), "o");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(FlatObject::string(*o, "b", &text));
  EXPECT_EQ(text, "c");
  EXPECT_FALSE(flat.read(R"({"o":{"b":"c"}})", 0)) << "deeper than asked";
  EXPECT_TRUE(flat.read("{}", 0));

  for (const char *other : {R"({"a":[1]})", R"({"a":true})", R"({"a":null})", R"({"a":1.5})", R"({"a":1e3})",
           R"({"a":01})", R"({"a":1234567890123456789})", R"({"a":"x\"y"})", R"({"a":"\u00e9"})", "{\"a\":\"\xc3\xa9\"}",
           R"({"a":"x","a":"y"})", R"({"a":"x",})", R"({"a":"x"} x)", R"(["a"])", R"({"a":-})", ""})
    EXPECT_FALSE(flat.read(other, 1)) << other;
}

namespace {

std::string describe(const std::optional<realtime::ServerEvent> &event, const std::string &error)
{
  if (!event)
    return "none: " + error;
  return event->type + " " + json::to_string(event->body.get());
}

void expect_same_event(const std::string &text)
{
  std::string fast_error, slow_error;
  auto fast = realtime::parse_server_event(text, &fast_error);
  auto slow = realtime::parse_server_event_with_json_glib(text, &slow_error);
  EXPECT_EQ(describe(fast, fast_error), describe(slow, slow_error)) << "input: " << text;
}

}  // namespace

TEST(JsonFlat, RealtimeEventsAreTheOnesJsonGlibsParserBuilds)
{
  const std::vector<std::string> seeds = {
    R"({"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1","item_id":"item_1",)"
    R"("output_index":0,"content_index":0,"delta":"//8AAP//AAD//w=="})",
    R"({"type":"response.output_audio_transcript.delta","event_id":"e2","response_id":"r","item_id":"i",)"
    R"("output_index":0,"content_index":0,"delta":"Hello there, "})",
    R"({"type":"input_audio_buffer.speech_started","event_id":"e3","audio_start_ms":1000,"item_id":"i2"})",
    R"({ "type" : "input_audio_buffer.committed" , "event_id" : "e4" , "previous_item_id" : "p" , "item_id" : "i3" })",
    R"({"type":"rate_limits.updated","event_id":"e5","rate_limits":[{"name":"requests","limit":1000}]})",
    R"({"type":"error","event_id":"e6","error":{"type":"invalid_request_error","code":"x","message":"m","param":null}})",
  };
  for (const auto &seed : seeds) {
    std::string error;
    EXPECT_TRUE(realtime::parse_server_event(seed, &error).has_value()) << seed << ": " << error;
    expect_same_event(seed);
  }
  for (const char *other : {R"({"event_id":"e"})", R"({"type":""})", R"({"type":7})", R"({"type":"x","n":-9007199254740993})",
           R"({"type":"x","n":-0})", "{\"type\":\"x\"", "[]", ""})
    expect_same_event(other);

  /* Every seed with each byte deleted, replaced or preceded by characters that matter to a JSON
   * reader: both ways agree on every one. */
  const std::string probes = std::string("\"\\{}[],: 0-1.e=\x01\x7f", 19) + "\xc3";
  size_t checked = 0;
  for (const auto &seed : seeds) {
    for (size_t i = 0; i <= seed.size(); i++) {
      if (i < seed.size()) {
        std::string deleted = seed;
        deleted.erase(i, 1);
        expect_same_event(deleted);
        checked++;
      }
      for (char c : probes) {
        std::string inserted = seed;
        inserted.insert(i, 1, c);
        expect_same_event(inserted);
        checked++;
        if (i < seed.size()) {
          std::string replaced = seed;
          replaced[i] = c;
          expect_same_event(replaced);
          checked++;
        }
      }
      if (HasFailure())
        return;   /* one input is enough to see what differs */
    }
  }
  EXPECT_GT(checked, 20000u);
}
