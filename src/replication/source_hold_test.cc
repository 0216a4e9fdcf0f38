// Unit tests of SourceHold: classification against the source log, the record's JSON round
// trip, and the description every report uses.

#include "replication/source_hold.h"

#include <gtest/gtest.h>

namespace walrus::replication {
namespace {

TEST(SourceHoldTest, ClassifiesAgainstTheSourceLog) {
  EXPECT_FALSE(ClassifySourcePosition(-1, 5, 10).reason);  // nothing stored
  EXPECT_FALSE(ClassifySourcePosition(5, 5, 10).reason);
  EXPECT_FALSE(ClassifySourcePosition(10, 5, 10).reason);  // everything copied
  auto beyond = ClassifySourcePosition(15, 0, 10);
  ASSERT_TRUE(beyond.reason);
  EXPECT_EQ(*beyond.reason, HoldReason::kBeyondEnd);
  EXPECT_EQ(beyond.count, 5);
  auto gap = ClassifySourcePosition(5, 24, 85);
  ASSERT_TRUE(gap.reason);
  EXPECT_EQ(*gap.reason, HoldReason::kRetentionGap);
  EXPECT_EQ(gap.count, 19);
}

TEST(SourceHoldTest, DescribesAndRoundTrips) {
  SourceHold h = MakeSourceHold("dc", "redis-writes", 3, 5, 24, 85, 1700000000000);
  EXPECT_EQ(h.Describe(),
            "source partition redis-writes[3] held: retention gap [5, 24) of 19 records deleted "
            "from the source before they were mirrored (stored position 5, source log [24, 85])");
  auto back = SourceHold::FromJson(h.ToJson());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->state, SourceHold::State::kHeld);
  EXPECT_EQ(back->Describe(), h.Describe());
  EXPECT_EQ(back->since_ms, 1700000000000);

  SourceHold b = MakeSourceHold("dc", "t", 0, 15, 0, 10, 1);
  EXPECT_NE(b.Describe().find("stored position 15 beyond source log end 10 by 5"), std::string::npos);
  b.state = SourceHold::State::kDecided;
  b.action = "reset-to-log-start";
  b.new_position = 0;
  b.why = "DC Kafka rebuilt";
  auto d = SourceHold::FromJson(b.ToJson());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state, SourceHold::State::kDecided);
  EXPECT_EQ(d->new_position, 0);
  EXPECT_EQ(d->why, "DC Kafka rebuilt");
  EXPECT_EQ(HoldRecordKey("dc/t/0"), "dc/t/0/hold");
  EXPECT_EQ(DecisionRecordKey("dc/t/0", 42), "dc/t/0/decision/42");
}

TEST(SourceHoldTest, RefusesMalformedRecords) {
  EXPECT_FALSE(SourceHold::FromJson("12"));
  EXPECT_FALSE(SourceHold::FromJson(R"({"state":"odd","reason":"beyond_end"})"));
  EXPECT_FALSE(SourceHold::FromJson(
      R"({"state":"decided","reason":"beyond_end","topic":"t","partition":0,"position":3})"));
}

}  // namespace
}  // namespace walrus::replication
