/* G.711 against the ITU-T tables (via known code/value pairs), quantisation error bounds and
 * monotonicity over the whole 16-bit range. */
#include "common/g711.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace g711 = clawvoice::g711;

TEST(G711Ulaw, KnownTableValues)
{
  EXPECT_EQ(g711::ulaw_to_linear(0xFF), 0);
  EXPECT_EQ(g711::ulaw_to_linear(0x7F), 0);  // "negative zero"
  EXPECT_EQ(g711::ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(g711::ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(g711::ulaw_to_linear(0xFE), 8);
  EXPECT_EQ(g711::ulaw_to_linear(0x7E), -8);
  EXPECT_EQ(g711::ulaw_to_linear(0xEF), 132);  // first step of segment 1

  EXPECT_EQ(g711::linear_to_ulaw(0), 0xFF);
  EXPECT_EQ(g711::linear_to_ulaw(32767), 0x80);
  EXPECT_EQ(g711::linear_to_ulaw(-32768), 0x00);
  EXPECT_EQ(g711::linear_to_ulaw(-32124), 0x00);
  EXPECT_EQ(g711::linear_to_ulaw(32124), 0x80);
  EXPECT_EQ(g711::linear_to_ulaw(8), 0xFE);
  EXPECT_EQ(g711::linear_to_ulaw(-8), 0x7E);
}

TEST(G711Alaw, KnownTableValues)
{
  EXPECT_EQ(g711::alaw_to_linear(0xD5), 8);
  EXPECT_EQ(g711::alaw_to_linear(0x55), -8);
  EXPECT_EQ(g711::alaw_to_linear(0x2A), -32256);
  EXPECT_EQ(g711::alaw_to_linear(0xAA), 32256);
  EXPECT_EQ(g711::alaw_to_linear(0xD4), 24);

  EXPECT_EQ(g711::linear_to_alaw(0), 0xD5);
  EXPECT_EQ(g711::linear_to_alaw(-1), 0x55);
  EXPECT_EQ(g711::linear_to_alaw(32767), 0xAA);
  EXPECT_EQ(g711::linear_to_alaw(-32768), 0x2A);
  EXPECT_EQ(g711::linear_to_alaw(8), 0xD5);
  EXPECT_EQ(g711::linear_to_alaw(-8), 0x55);
}

TEST(G711Ulaw, EveryCodeRoundTrips)
{
  for (int code = 0; code < 256; code++) {
    if (code == 0x7F)
      continue;  // negative zero decodes to 0, which encodes as positive zero 0xFF
    EXPECT_EQ(g711::linear_to_ulaw(g711::ulaw_to_linear((uint8_t) code)), code) << "code " << code;
  }
  EXPECT_EQ(g711::linear_to_ulaw(g711::ulaw_to_linear(0x7F)), 0xFF);
}

TEST(G711Alaw, EveryCodeRoundTrips)
{
  for (int code = 0; code < 256; code++)
    EXPECT_EQ(g711::linear_to_alaw(g711::alaw_to_linear((uint8_t) code)), code) << "code " << code;
}

/* Within a segment of exponent e the quantiser step is 2^(e+3) (A-law: segments 0 and 1 share 16),
 * and values decode to the middle of their step: the error is at most half a step, except above the
 * largest code value where the encoder clips. */
TEST(G711Ulaw, PcmRoundTripWithinQuantisationError)
{
  for (int x = -32768; x <= 32767; x++) {
    uint8_t code = g711::linear_to_ulaw((int16_t) x);
    int exponent = ((uint8_t) ~code >> 4) & 0x07;
    int bound = 1 << (exponent + 2);
    int clip = std::abs(x) - 32124;
    if (clip > bound)
      bound = clip;
    int y = g711::ulaw_to_linear(code);
    ASSERT_LE(std::abs(y - x), bound) << "x=" << x << " code=" << (int) code << " y=" << y;
  }
}

TEST(G711Alaw, PcmRoundTripWithinQuantisationError)
{
  for (int x = -32768; x <= 32767; x++) {
    uint8_t code = g711::linear_to_alaw((int16_t) x);
    int exponent = ((code ^ 0x55) >> 4) & 0x07;
    int bound = 1 << ((exponent < 1 ? 1 : exponent) + 2);
    int clip = std::abs(x) - 32256;
    if (clip > bound)
      bound = clip;
    int y = g711::alaw_to_linear(code);
    ASSERT_LE(std::abs(y - x), bound) << "x=" << x << " code=" << (int) code << " y=" << y;
  }
}

TEST(G711, RoundTripIsMonotonic)
{
  int prev_u = g711::ulaw_to_linear(g711::linear_to_ulaw(-32768));
  int prev_a = g711::alaw_to_linear(g711::linear_to_alaw(-32768));
  for (int x = -32767; x <= 32767; x++) {
    int u = g711::ulaw_to_linear(g711::linear_to_ulaw((int16_t) x));
    int a = g711::alaw_to_linear(g711::linear_to_alaw((int16_t) x));
    ASSERT_GE(u, prev_u) << "ulaw at " << x;
    ASSERT_GE(a, prev_a) << "alaw at " << x;
    prev_u = u;
    prev_a = a;
  }
}

TEST(G711, SignSymmetry)
{
  for (int x = 1; x <= 32767; x++) {
    EXPECT_EQ(g711::ulaw_to_linear(g711::linear_to_ulaw((int16_t) x)),
              -g711::ulaw_to_linear(g711::linear_to_ulaw((int16_t) -x)))
      << x;
    /* A-law is symmetric around -1/2: x and -x-1 mirror each other. */
    EXPECT_EQ(g711::alaw_to_linear(g711::linear_to_alaw((int16_t) x)),
              -g711::alaw_to_linear(g711::linear_to_alaw((int16_t) (-x - 1))))
      << x;
  }
}

TEST(G711, BufferHelpersMatchSampleFunctions)
{
  std::vector<int16_t> pcm;
  for (int x = -32768; x <= 32767; x++)
    pcm.push_back((int16_t) x);
  auto u = g711::encode_ulaw(pcm.data(), pcm.size());
  auto a = g711::encode_alaw(pcm.data(), pcm.size());
  ASSERT_EQ(u.size(), pcm.size());
  ASSERT_EQ(a.size(), pcm.size());
  auto ud = g711::decode_ulaw(u.data(), u.size());
  auto ad = g711::decode_alaw(a.data(), a.size());
  for (size_t i = 0; i < pcm.size(); i++) {
    EXPECT_EQ(u[i], g711::linear_to_ulaw(pcm[i]));
    EXPECT_EQ(a[i], g711::linear_to_alaw(pcm[i]));
    EXPECT_EQ(ud[i], g711::ulaw_to_linear(u[i]));
    EXPECT_EQ(ad[i], g711::alaw_to_linear(a[i]));
  }
  EXPECT_TRUE(g711::encode_ulaw(nullptr, 0).empty());
  EXPECT_TRUE(g711::decode_alaw(nullptr, 0).empty());
}
