/* SseParser against the WHATWG event-stream rules: line ends, comments, multi-line data, events
 * split across reads at every byte boundary, and the end of a stream. */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "openclaw/sse_parser.h"

using clawvoice::openclaw::SseEvent;
using clawvoice::openclaw::SseParser;

namespace {

/* Feeds @pieces in order and returns the data of every event. */
std::vector<std::string> parse(const std::vector<std::string> &pieces, SseParser *parser = nullptr)
{
  SseParser local;
  SseParser &p = parser ? *parser : local;
  std::vector<std::string> out;
  for (const std::string &piece : pieces)
    EXPECT_TRUE(p.feed(piece, [&](const SseEvent &e) { out.push_back(e.data); }));
  return out;
}

const std::string kStream =
    "data: {\"a\":1}\n\n"
    ": keep-alive comment\r\n"
    "data: first line\r\n"
    "data: second line\r\n\r\n"
    "event: custom\rdata:no space\r\r"
    "data\n\n"
    "id: 7\ndata: [DONE]\n\n";
const std::vector<std::string> kEvents = {"{\"a\":1}", "first line\nsecond line", "no space", "",
                                          "[DONE]"};

}  // namespace

TEST(SseParser, LineEndsCommentsAndMultiLineData)
{
  EXPECT_EQ(parse({kStream}), kEvents);
}

TEST(SseParser, SplitAtEveryByteBoundary)
{
  for (size_t cut = 0; cut <= kStream.size(); cut++)
    EXPECT_EQ(parse({kStream.substr(0, cut), kStream.substr(cut)}), kEvents) << "cut at " << cut;
}

TEST(SseParser, OneByteAtATime)
{
  std::vector<std::string> bytes;
  for (char c : kStream)
    bytes.emplace_back(1, c);
  EXPECT_EQ(parse(bytes), kEvents);
}

TEST(SseParser, CrLfSplitBetweenReadsIsOneLineEnd)
{
  /* A CR ending one read and the LF starting the next must not make an empty line (which would
   * dispatch the event early and lose the second data line). */
  EXPECT_EQ(parse({"data: a\r", "\ndata: b\r", "\n\r", "\n"}),
            std::vector<std::string>{"a\nb"});
}

TEST(SseParser, EventTypeAndIdAreReported)
{
  SseParser p;
  std::vector<SseEvent> events;
  p.feed("event: delta\nid: 42\ndata: x\n\ndata: y\n\n", [&](const SseEvent &e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "delta");
  EXPECT_EQ(events[0].id, "42");
  EXPECT_EQ(events[1].type, "message");   /* the type does not carry over */
  EXPECT_EQ(events[1].id, "42");          /* the last event id does */
}

TEST(SseParser, LeadingBomIsSkippedEvenWhenSplit)
{
  EXPECT_EQ(parse({"\xEF\xBB", "\xBF" "data: x\n\n"}), std::vector<std::string>{"x"});
}

TEST(SseParser, BlankLinesWithoutDataDispatchNothing)
{
  SseParser p;
  EXPECT_TRUE(parse({"\n\n: only a comment\n\nevent: x\n\n"}, &p).empty());
  EXPECT_EQ(p.events(), 0u);
}

TEST(SseParser, UnfinishedEventAtTheEndIsNotDispatched)
{
  SseParser p;
  EXPECT_EQ(parse({"data: done\n\ndata: half"}, &p), std::vector<std::string>{"done"});
  EXPECT_TRUE(p.in_event());
  EXPECT_EQ(p.events(), 1u);
}

TEST(SseParser, StopEndsTheFeedAfterTheCurrentEvent)
{
  SseParser p;
  std::vector<std::string> seen;
  p.feed("data: 1\n\ndata: [DONE]\n\ndata: 3\n\n", [&](const SseEvent &e) {
    seen.push_back(e.data);
    if (e.data == "[DONE]")
      p.stop();
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "[DONE]"}));
}

TEST(SseParser, OverlongLineBreaksTheStream)
{
  SseParser p(64);
  EXPECT_FALSE(p.feed("data: " + std::string(100, 'x'), [](const SseEvent &) {}));
  EXPECT_FALSE(p.error().empty());
  EXPECT_FALSE(p.feed("data: ok\n\n", [](const SseEvent &) { ADD_FAILURE(); }));
}
