#include "core/hlc.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

namespace walrus {
namespace {

TEST(HlcTest, EncodingIsFixedWidthAndOrdered) {
  EXPECT_EQ(EncodeHlc({0x18bcfe56800, 3}), "018bcfe56800-0003");
  EXPECT_LT(EncodeHlc({9, 0xffff}), EncodeHlc({10, 0}));
  EXPECT_LT(EncodeStamp({10, 1}, "eu"), EncodeStamp({10, 1}, "us"));
  EXPECT_LT(EncodeStamp({10, 1}, "zz"), EncodeStamp({10, 2}, "aa"));
  auto h = ParseHlc("018bcfe56800-0003");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->physical_ms, 0x18bcfe56800);
  EXPECT_EQ(h->logical, 3u);
}

TEST(HlcTest, ParseIsStrict) {
  for (const char* bad : {"", "18bcfe56800-0003", "018bcfe56800-003", "018BCFE56800-0003",
                          "018bcfe56800_0003", "018bcfe56800-0003x", "1700000000000-0003"}) {
    EXPECT_FALSE(ParseHlc(bad)) << bad;
  }
}

TEST(HlcTest, OriginValidation) {
  EXPECT_TRUE(ValidOrigin("us-east.1_a"));
  EXPECT_FALSE(ValidOrigin(""));
  EXPECT_FALSE(ValidOrigin("a b"));
  EXPECT_FALSE(ValidOrigin(std::string(33, 'a')));
}

TEST(HlcTest, TickIsStrictlyIncreasingWhenClockStallsOrGoesBack) {
  int64_t now = 1000;
  HybridClock c({.origin = "us", .now_ms = [&] { return now; }});
  ASSERT_TRUE(c.Init());
  auto a = c.TickHlc();
  auto b = c.TickHlc();
  now = 900;  // wall clock steps back
  auto d = c.TickHlc();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(*a, (Hlc{1000, 0}));
  EXPECT_EQ(*b, (Hlc{1000, 1}));
  EXPECT_EQ(*d, (Hlc{1000, 2}));
  now = 1001;
  EXPECT_EQ(*c.TickHlc(), (Hlc{1001, 0}));
}

TEST(HlcTest, ObserveMakesLaterLocalWritesSortAfterRemote) {
  int64_t now = 1000;
  HybridClock c({.origin = "us", .now_ms = [&] { return now; }});
  ASSERT_TRUE(c.Init());
  ASSERT_TRUE(c.Observe(EncodeHlc({1500, 7})));
  EXPECT_EQ(*c.TickHlc(), (Hlc{1500, 8}));
  // An older remote stamp does not move the clock back.
  ASSERT_TRUE(c.ObserveHlc({10, 0}));
  EXPECT_EQ(*c.TickHlc(), (Hlc{1500, 9}));
}

TEST(HlcTest, LogicalOverflowBorrowsAMillisecond) {
  HybridClock c({.origin = "us", .now_ms = [] { return int64_t{5}; }});
  ASSERT_TRUE(c.Init());
  ASSERT_TRUE(c.ObserveHlc({5, kHlcMaxLogical}));
  EXPECT_EQ(*c.TickHlc(), (Hlc{6, 0}));
}

TEST(HlcTest, DriftGuardRefusesFarFutureStamps) {
  HybridClock c({.origin = "us", .max_drift_ms = 100, .now_ms = [] { return int64_t{1000}; }});
  ASSERT_TRUE(c.Init());
  auto st = c.ObserveHlc({1101, 0});
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kRefused));
  EXPECT_TRUE(c.ObserveHlc({1100, 0}));
  EXPECT_EQ(c.Last(), (Hlc{1100, 0}));
}

TEST(HlcTest, MonotonicAcrossRestartsViaFloorFile) {
  const auto path =
      std::filesystem::temp_directory_path() / ("walrus_hlc_test_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  int64_t now = 50000;
  Hlc issued;
  {
    HybridClock c(
        {.origin = "us", .floor_file = path.string(), .floor_step_ms = 1000, .now_ms = [&] {
           return now;
         }});
    ASSERT_TRUE(c.Init());
    for (int i = 0; i < 10; ++i) issued = *c.TickHlc();
  }
  now = 40000;  // restarted with a clock that went back 10 s
  HybridClock c2(
      {.origin = "us", .floor_file = path.string(), .floor_step_ms = 1000, .now_ms = [&] {
         return now;
       }});
  ASSERT_TRUE(c2.Init());
  EXPECT_GT(*c2.TickHlc(), issued);
  std::filesystem::remove(path);
}

TEST(HlcTest, BadOriginOrFloorFileIsRefused) {
  EXPECT_FALSE(HybridClock({.origin = "a b"}).Init());
  const auto path =
      std::filesystem::temp_directory_path() / ("walrus_hlc_bad_" + std::to_string(::getpid()));
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("garbage", f);
    std::fclose(f);
  }
  EXPECT_FALSE(HybridClock({.origin = "us", .floor_file = path.string()}).Init());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace walrus
