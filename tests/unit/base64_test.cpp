/* The strict base64 decoder: the same bytes as GLib's for every valid input, and a refusal (an empty
 * result) for anything RFC 4648 does not allow, where GLib would skip characters silently. */
#include <glib.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/base64.h"

using clawvoice::base64::decode_base64_strict;
using clawvoice::base64::encode_base64;

TEST(Base64, RoundTripsEveryLengthAndByteValue)
{
  std::mt19937 rng(4648);
  for (size_t len = 0; len < 700; len++) {
    std::vector<uint8_t> bytes(len);
    for (auto &b : bytes)
      b = static_cast<uint8_t>(rng());
    const std::string text = encode_base64(bytes.data(), bytes.size());
    std::vector<uint8_t> decoded{1, 2, 3};
    ASSERT_TRUE(decode_base64_strict(text, &decoded)) << "length " << len;
    ASSERT_EQ(decoded, bytes) << "length " << len;

    gsize glib_len = 0;
    g_autofree guchar *glib = g_base64_decode(text.c_str(), &glib_len);
    ASSERT_EQ(std::vector<uint8_t>(glib, glib + glib_len), decoded);
  }
}

TEST(Base64, RefusesWhatTheAlphabetAndPaddingDoNotAllow)
{
  std::vector<uint8_t> out;
  for (const char *bad : {"A", "AB", "ABC", "AB=C", "A===", "====", "QQ==QQ==", "QUJD\n", "QU JD", "QUJ-",
                          "QUJ_", "QUJD=", "=QUJ", "QU\xc3\xa9", "QUJDRA=A"}) {
    out = {9};
    EXPECT_FALSE(decode_base64_strict(bad, &out)) << bad;
    EXPECT_TRUE(out.empty()) << bad;
  }
  std::string with_nul("QU\0D", 4);
  EXPECT_FALSE(decode_base64_strict(with_nul, &out));
}
