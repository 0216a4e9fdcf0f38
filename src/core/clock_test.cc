#include "core/clock.h"

#include <gtest/gtest.h>

namespace walrus {
namespace {

TEST(ClockTest, ManualClockMovesOnlyWhenAdvanced) {
  ManualClock clock(1000);
  const auto t0 = clock.Steady();
  EXPECT_EQ(clock.WallMs(), 1000);
  EXPECT_EQ(clock.Steady(), t0);
  clock.Advance(std::chrono::milliseconds(250));
  EXPECT_EQ(clock.WallMs(), 1250);
  EXPECT_EQ(clock.Steady() - t0, std::chrono::milliseconds(250));
}

TEST(ClockTest, SystemClockIsNearTheRealTime) {
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t now = WallNowMs();
  EXPECT_GE(now, before);
  EXPECT_LT(now - before, 60'000);
  const auto s0 = SystemClock().Steady();
  EXPECT_GE(SystemClock().Steady(), s0);
}

}  // namespace
}  // namespace walrus
