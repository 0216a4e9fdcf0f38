#include "core/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace walrus {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [raw, enc] : kVectors) {
    EXPECT_EQ(Base64Encode(raw), enc);
    Result<std::string> dec = Base64Decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(*dec, raw);
  }
}

TEST(Base64, BinaryRoundTripAllLengths) {
  std::string raw;
  for (int i = 0; i < 300; ++i) {
    raw.push_back(static_cast<char>((i * 37 + 11) & 0xff));
    Result<std::string> dec = Base64Decode(Base64Encode(raw));
    ASSERT_TRUE(dec) << i;
    ASSERT_EQ(*dec, raw) << i;
  }
  EXPECT_EQ(Base64Encode(std::string_view("\x00\xff", 2)), "AP8=");
}

TEST(Base64, EncodeToAppends) {
  std::string out = "x:";
  Base64EncodeTo("hi", out);
  EXPECT_EQ(out, "x:aGk=");
}

TEST(Base64, StrictRejects) {
  const char* kBad[] = {
      "Zg",        // missing padding
      "Zg=",       // short
      "Zm9v\n",    // whitespace
      "Zm 9v",     // space
      "Zh==",      // non-zero trailing bits
      "Zm9=",      // non-zero trailing bits (one pad)
      "Z===",      // too much padding
      "====",      // only padding
      "Zg==Zg==",  // padding in the middle
      "Zm-v",      // URL-safe alphabet
      "Zm_v",      // URL-safe alphabet
      "Zm9\x80",   // non-ASCII
  };
  for (const char* b : kBad) {
    Result<std::string> r = Base64Decode(b);
    ASSERT_FALSE(r) << b;
    EXPECT_TRUE(r.error().Is(Errc::kDecode)) << b;
    EXPECT_NE(r.error().message.find("invalid base64"), std::string::npos) << b;
  }
}

TEST(Base64, DecodeToReusesAndClears) {
  std::string out = "garbage";
  ASSERT_TRUE(Base64DecodeTo("Zm9v", out));
  EXPECT_EQ(out, "foo");
  ASSERT_FALSE(Base64DecodeTo("!!!!", out));
}

}  // namespace
}  // namespace walrus
