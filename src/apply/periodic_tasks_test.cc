// Unit tests of PeriodicTasks on a ManualClock: each task fires exactly when due, not before.

#include "apply/periodic_tasks.h"

#include <gtest/gtest.h>

namespace walrus::apply {
namespace {

using std::chrono::milliseconds;

TEST(PeriodicTasks, CommitOnlyAfterPositionsMoved) {
  ManualClock clock;
  PeriodicTasks t(clock, milliseconds(500));
  EXPECT_FALSE(t.TakeCommit(false));
  EXPECT_FALSE(t.TakeCommit(true));  // forced, but nothing moved
  t.OffsetsMoved();
  EXPECT_TRUE(t.TakeCommit(false));  // never committed: due at once
  EXPECT_FALSE(t.TakeCommit(false));  // nothing moved since
}

TEST(PeriodicTasks, CommitEveryIntervalNotBefore) {
  ManualClock clock;
  PeriodicTasks t(clock, milliseconds(500));
  t.OffsetsMoved();
  ASSERT_TRUE(t.TakeCommit(false));
  t.OffsetsMoved();
  clock.Advance(milliseconds(499));
  EXPECT_FALSE(t.TakeCommit(false));
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(t.TakeCommit(false));
  t.OffsetsMoved();
  clock.Advance(milliseconds(100));
  EXPECT_TRUE(t.TakeCommit(true));  // forced (revocation, shutdown): at once
  t.OffsetsMoved();
  clock.Advance(milliseconds(499));
  EXPECT_FALSE(t.TakeCommit(false));  // the forced commit counts
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(t.TakeCommit(false));
}

TEST(PeriodicTasks, PingEverySecondWhileConnected) {
  ManualClock clock;
  PeriodicTasks t(clock, milliseconds(500));
  EXPECT_FALSE(t.TakePing(false));  // nothing to ping: stays due
  EXPECT_TRUE(t.TakePing(true));
  EXPECT_FALSE(t.TakePing(true));
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(t.TakePing(true));
  clock.Advance(milliseconds(1));
  EXPECT_FALSE(t.TakePing(false));
  EXPECT_TRUE(t.TakePing(true));
}

TEST(PeriodicTasks, LagEverySecond) {
  ManualClock clock;
  PeriodicTasks t(clock, milliseconds(500));
  EXPECT_TRUE(t.TakeLag());
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(t.TakeLag());
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(t.TakeLag());
  EXPECT_FALSE(t.TakeLag());
}

}  // namespace
}  // namespace walrus::apply
