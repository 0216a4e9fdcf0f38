// Unit tests of Backoff and PeriodicTasks' building block on a ManualClock: no Redis, no Kafka.

#include "apply/backoff.h"

#include <gtest/gtest.h>

namespace walrus::apply {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromTheFloorUpToTheCap) {
  ManualClock clock;
  Backoff b(clock, milliseconds(100), milliseconds(1000));
  EXPECT_FALSE(b.Waiting());  // never failed: try at once
  EXPECT_EQ(b.Failed(), milliseconds(100));
  EXPECT_EQ(b.Failed(), milliseconds(200));
  EXPECT_EQ(b.Failed(), milliseconds(400));
  EXPECT_EQ(b.Failed(), milliseconds(800));
  EXPECT_EQ(b.Failed(), milliseconds(1000));
  EXPECT_EQ(b.Failed(), milliseconds(1000));
  EXPECT_EQ(b.delay(), milliseconds(1000));
}

TEST(Backoff, WaitsExactlyTheDelay) {
  ManualClock clock;
  Backoff b(clock, milliseconds(100), milliseconds(1000));
  b.Failed();
  EXPECT_TRUE(b.Waiting());
  clock.Advance(milliseconds(99));
  EXPECT_TRUE(b.Waiting());
  clock.Advance(milliseconds(1));
  EXPECT_FALSE(b.Waiting());
  b.Failed();  // 200 ms from now
  clock.Advance(milliseconds(199));
  EXPECT_TRUE(b.Waiting());
  clock.Advance(milliseconds(1));
  EXPECT_FALSE(b.Waiting());
}

TEST(Backoff, ResetStartsOverFromTheFloor) {
  ManualClock clock;
  Backoff b(clock, milliseconds(100), milliseconds(1000));
  b.Failed();
  b.Failed();
  b.Failed();
  b.Reset();
  EXPECT_EQ(b.delay(), milliseconds(0));
  EXPECT_TRUE(b.Waiting());  // the deadline already set stays
  EXPECT_EQ(b.Failed(), milliseconds(100));
}

TEST(Backoff, CapBelowTheFloorWins) {
  ManualClock clock;
  Backoff b(clock, milliseconds(100), milliseconds(50));
  EXPECT_EQ(b.Failed(), milliseconds(50));
  EXPECT_EQ(b.Failed(), milliseconds(50));
}

}  // namespace
}  // namespace walrus::apply
