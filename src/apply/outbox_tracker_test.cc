// Unit tests of OutboxTracker on a ManualClock with a scripted drain: acked entries, drain due,
// failing drains retried with backoff. No Redis, no Kafka.

#include "apply/outbox_tracker.h"

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace walrus::apply {
namespace {

using std::chrono::milliseconds;

class OutboxTrackerTest : public ::testing::Test {
 protected:
  Status Drain(Status result) {
    return outbox_.Drain([&](const OutboxDrain::Acked& known) {
      seen_ = known;
      return result;
    });
  }

  metrics::Registry registry_;
  ApplyProbe probe_{registry_};
  ManualClock clock_;
  OutboxTracker outbox_{clock_, probe_, milliseconds(2000)};
  OutboxDrain::Acked seen_;
};

TEST_F(OutboxTrackerTest, AckedEntriesGoIntoTheNextTransaction) {
  EXPECT_FALSE(outbox_.has_acked());
  outbox_.Acked({{"walrus:outbox:t:0", 7}, {"walrus:outbox:t:0", 9}});
  EXPECT_TRUE(outbox_.has_acked());
  Transaction tx;
  outbox_.ClearInto(tx);
  EXPECT_FALSE(outbox_.has_acked());
  ASSERT_EQ(tx.clears().size(), 2u);
  // Not committed yet: a drain is told they are acked (no DLQ scan for them).
  ASSERT_TRUE(Drain({}));
  EXPECT_EQ(seen_.size(), 2u);
}

TEST_F(OutboxTrackerTest, CommittedDeletionsAreForgotten) {
  outbox_.Acked({{"walrus:outbox:t:0", 7}, {"walrus:outbox:t:1", 3}});
  Transaction tx;
  tx.ClearOutbox("walrus:outbox:t:0", 7);
  outbox_.Cleared(tx);
  ASSERT_TRUE(Drain({}));
  EXPECT_EQ(seen_, (OutboxDrain::Acked{{"walrus:outbox:t:1", 3}}));
}

TEST_F(OutboxTrackerTest, DueUntilADrainSucceeds) {
  EXPECT_FALSE(outbox_.due());
  outbox_.MarkDue();
  EXPECT_TRUE(outbox_.due());
  EXPECT_FALSE(Drain(Error(Errc::kIo, "dlq unreachable")));
  EXPECT_TRUE(outbox_.due());
  clock_.Advance(outbox_.backoff());
  EXPECT_TRUE(Drain({}));
  EXPECT_FALSE(outbox_.due());
}

TEST_F(OutboxTrackerTest, FailingDrainBacksOffAndReportsWhy) {
  outbox_.Acked({{"walrus:outbox:t:0", 7}});
  EXPECT_FALSE(Drain(Error(Errc::kIo, "dlq unreachable")));
  EXPECT_TRUE(outbox_.failing());
  EXPECT_EQ(outbox_.error(), "dlq unreachable");
  EXPECT_EQ(probe_.outbox_drain_failures.Value(), 1);
  EXPECT_EQ(outbox_.backoff(), milliseconds(500));
  EXPECT_TRUE(outbox_.Waiting());
  clock_.Advance(milliseconds(499));
  EXPECT_TRUE(outbox_.Waiting());
  clock_.Advance(milliseconds(1));
  EXPECT_FALSE(outbox_.Waiting());
  for (auto want : {1000, 2000, 2000}) {
    EXPECT_FALSE(Drain(Error(Errc::kIo, "dlq unreachable")));
    EXPECT_EQ(outbox_.backoff(), milliseconds(want));
  }
  EXPECT_EQ(seen_.size(), 1u);  // still known on every retry
  EXPECT_TRUE(Drain({}));
  EXPECT_FALSE(outbox_.failing());
  EXPECT_FALSE(outbox_.Waiting());
  EXPECT_EQ(outbox_.error(), "");
  EXPECT_FALSE(outbox_.has_acked());
  EXPECT_EQ(outbox_.backoff(), milliseconds(0));
  ASSERT_TRUE(Drain({}));
  EXPECT_TRUE(seen_.empty());  // the drain deleted whatever was left
}

TEST_F(OutboxTrackerTest, BackoffFloorIsHalfASecondWhateverTheMax) {
  OutboxTracker small(clock_, probe_, milliseconds(100));
  EXPECT_FALSE(small.Drain([](const OutboxDrain::Acked&) -> Status {
    return Error(Errc::kIo, "x");
  }));
  EXPECT_EQ(small.backoff(), milliseconds(500));
}

}  // namespace
}  // namespace walrus::apply
