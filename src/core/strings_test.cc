#include "core/strings.h"

#include <gtest/gtest.h>

#include <limits>

namespace walrus {
namespace {

TEST(Strings, AsciiUpperAndEquals) {
  EXPECT_EQ(AsciiUpper("hSet-1\xc3\xa9"), "HSET-1\xc3\xa9");
  EXPECT_TRUE(EqualsIgnoreCase("nx", "NX"));
  EXPECT_TRUE(EqualsIgnoreCase("Nx", "NX"));
  EXPECT_FALSE(EqualsIgnoreCase("nxx", "NX"));
  EXPECT_FALSE(EqualsIgnoreCase("ny", "NX"));
}

TEST(Strings, ParseInt64LikeRedis) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("-42"), -42);
  EXPECT_EQ(ParseInt64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (const char* bad :
       {"", "-", "+1", " 1", "1 ", "01", "-0", "1.5", "1e3", "abc", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "184467440737095516160"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
}

TEST(Strings, QuoteForMessage) {
  EXPECT_EQ(QuoteForMessage("abc"), "'abc'");
  EXPECT_EQ(QuoteForMessage(std::string_view("a\0'\\\xff", 5)), "'a\\x00\\x27\\x5c\\xff'");
  EXPECT_EQ(QuoteForMessage("abcdef", 3), "'abc'...");
}

}  // namespace
}  // namespace walrus
