/* json::FlatObject, the reader of plain JSON that spares json-glib's parser the messages that come
 * many times a second: what it reads, what it leaves to json-glib, and that its two users (Twilio's
 * media and mark messages, the Realtime server events) answer exactly as they do through json-glib,
 * for the messages they see and for every one-byte mutation of them. */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <functional>
#include <variant>

#include "common/json.h"
#include "common/json_flat.h"
#include "realtime/server_events.h"
#include "twilio/media_stream.h"

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

/* Calls @check on each seed with each byte in turn deleted, replaced by and preceded by each of
 * @probes (characters that matter to a JSON reader); stops at the first seed position that made a
 * test fail (one input is enough to see what differs). Returns how many inputs were checked. */
size_t check_one_byte_mutations(const std::vector<std::string> &seeds, const std::string &probes,
                                const std::function<void(const std::string &)> &check)
{
  size_t checked = 0;
  for (const auto &seed : seeds) {
    for (size_t i = 0; i <= seed.size(); i++) {
      if (i < seed.size()) {
        std::string deleted = seed;
        deleted.erase(i, 1);
        check(deleted);
        checked++;
      }
      for (char c : probes) {
        std::string inserted = seed;
        inserted.insert(i, 1, c);
        check(inserted);
        checked++;
        if (i < seed.size()) {
          std::string replaced = seed;
          replaced[i] = c;
          check(replaced);
          checked++;
        }
      }
      if (::testing::Test::HasFailure())
        return checked;
    }
  }
  return checked;
}

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

  /* Every one-byte mutation of the seeds: both ways agree on every one. */
  const std::string probes = std::string("\"\\{}[],: 0-1.e=\x01\x7f", 19) + "\xc3";
  EXPECT_GT(check_one_byte_mutations(seeds, probes, expect_same_event), 20000u);
}

/* ---- Twilio: parse_inbound() reads media and mark messages with FlatObject; it must answer exactly
 * as its json-glib way does, for every input. ---- */

namespace {

using namespace clawvoice::twilio;

std::string describe_twilio(const InboundParse &p)
{
  std::string out = std::to_string((int) p.status) + "|" + p.event + "|" + p.error + "|";
  if (!p.message)
    return out + "none";
  if (const auto *m = std::get_if<MediaMessage>(&*p.message)) {
    return out + "media " + std::to_string(m->sequence_number) + " " + m->stream_sid + " " + m->track + " " +
        std::to_string(m->chunk) + " " + std::to_string(m->timestamp_ms) + " " +
        std::string(m->payload.begin(), m->payload.end());
  }
  if (const auto *m = std::get_if<MarkMessage>(&*p.message))
    return out + "mark " + std::to_string(m->sequence_number) + " " + m->stream_sid + " " + m->name;
  return out + "other " + std::to_string(p.message->index());
}

void expect_same_answer(const std::string &text)
{
  EXPECT_EQ(describe_twilio(parse_inbound(text)), describe_twilio(parse_inbound_with_json_glib(text))) << "input: " << text;
}

}  // namespace

TEST(JsonFlat, TwilioMediaAndMarkMessagesAreReadAsJsonGlibReadsThem)
{
  std::vector<std::string> seeds;
  for (size_t bytes : {0, 1, 2, 3, 159, 160, 161}) {
    MediaMessage media{42, "MZ0123456789abcdef", "inbound", 17, 340, {}};
    for (size_t i = 0; i < bytes; i++)
      media.payload.push_back((uint8_t) (i * 37 + 11));
    seeds.push_back(build_inbound_media(media));
  }
  seeds.push_back(build_mark_echo({6, "MZ1", "cv-3-120000-220000"}));
  /* Members in another order, spaces everywhere JSON allows them, members Twilio may add. */
  seeds.push_back(" { \"streamSid\" : \"MZ1\" ,\n\t\"media\" : { \"payload\" : \"/w==\" , \"timestamp\" : \"5\" ,"
                  " \"chunk\" : \"1\" , \"track\" : \"inbound\" } , \"sequenceNumber\" : \"3\" , \"event\" : \"media\" }\r\n");
  seeds.push_back(R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","extra":"x","more":{"a":"b"},)"
                  R"("media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA","new":"y"}})");
  seeds.push_back(R"({"event":"mark","sequenceNumber":"8","streamSid":"MZ1","mark":{"name":"a b c"},"n":{}})");
  /* What only json-glib reads, valid or not. */
  const char *other[] = {
    R"({"event":"media","sequenceNumber":3,"streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"in\"bound","chunk":"1","timestamp":"5","payload":"AAAA"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ\u0031","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAA"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA"},"event":"mark"})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA","payload":"AAAB"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA","x":{"y":"z"}}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"ïnbound","chunk":"1","timestamp":"5","payload":"AAAA"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"-1","timestamp":"5","payload":"AAAA"}})",
    R"({"event":"media","sequenceNumber":"99999999999999999999","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA"}})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":"AAAA"})",
    R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1"})",
    R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{}})",
    R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":null}})",
    R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":"x"}} trailing)",
    R"({"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":"x"},})",
    R"({"event":"stop","sequenceNumber":"3","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})",
    R"({"event":"dtmf","sequenceNumber":"3","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"5"}})",
    "{}", "", "[]", "\"media\"", "{\"event\":\"media\"", "{\"event\":\"media\"}}",
  };
  for (const char *text : other)
    expect_same_answer(text);
  for (const auto &seed : seeds) {
    EXPECT_EQ(parse_inbound(seed).status, ParseStatus::Ok) << seed;
    expect_same_answer(seed);
  }

  /* Every one-byte mutation of the seeds: whatever the result, both ways agree. */
  const std::string probes = std::string("\"\\{}[],: 0a=+/\x01\x7f", 17) + "\xc3";
  EXPECT_GT(check_one_byte_mutations(seeds, probes, expect_same_answer), 20000u);
}
