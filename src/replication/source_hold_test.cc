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


namespace walrus::replication {
namespace {

// The stored bytes of a hold record (walrus-mirror.offsets, key "<position key>/hold") are a
// contract: records written by an earlier release must still be read, and this one writes the
// same bytes.
constexpr std::string_view kStoredHeld =
    R"({"count":19,"high":85,"low":24,"partition":3,"position":5,"reason":"retention_gap",)"
    R"("since_ms":1700000000000,"source":"dc","state":"held","topic":"redis-writes"})";
constexpr std::string_view kStoredDecided =
    R"({"action":"reset-to-log-start","by":"ops","count":5,"decided_ms":7,"high":10,)"
    R"("host":"h1","low":0,"new_position":0,"partition":0,"position":15,"reason":"beyond_end",)"
    R"("since_ms":1,"source":"dc","state":"decided","topic":"t","why":"DC Kafka rebuilt"})";
constexpr std::string_view kStoredClusterChanged =
    R"({"cluster":"new-id","count":0,"high":20,"low":0,"partition":1,"position":15,)"
    R"("reason":"cluster_changed","since_ms":5,"source":"dc","state":"held",)"
    R"("stored_cluster":"old-id","topic":"t"})";

TEST(SourceHoldTest, StoredFormatIsPinned) {
  EXPECT_EQ(MakeSourceHold("dc", "redis-writes", 3, 5, 24, 85, 1700000000000).ToJson(), kStoredHeld);
  SourceHold d = MakeSourceHold("dc", "t", 0, 15, 0, 10, 1);
  d.state = SourceHold::State::kDecided;
  d.action = "reset-to-log-start";
  d.new_position = 0;
  d.why = "DC Kafka rebuilt";
  d.by = "ops";
  d.host = "h1";
  d.decided_ms = 7;
  EXPECT_EQ(d.ToJson(), kStoredDecided);
  SourceHold c = MakeSourceHold("dc", "t", 1, 15, 0, 20, 5);
  c.reason = HoldReason::kClusterChanged;
  c.stored_cluster = "old-id";
  c.cluster = "new-id";
  EXPECT_EQ(c.ToJson(), kStoredClusterChanged);
  for (std::string_view stored : {kStoredHeld, kStoredDecided, kStoredClusterChanged}) {
    auto back = SourceHold::FromJson(stored);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->ToJson(), stored);
  }
  EXPECT_EQ(SourceHold::FromJson(kStoredDecided)->state, SourceHold::State::kDecided);
  EXPECT_EQ(SourceHold::FromJson(kStoredClusterChanged)->stored_cluster, "old-id");
  // Only the required fields: the others take their defaults.
  auto min = SourceHold::FromJson(
      R"({"partition":2,"position":9,"reason":"beyond_end","state":"released","topic":"t"})");
  ASSERT_TRUE(min) << min.error().message;
  EXPECT_EQ(min->state, SourceHold::State::kReleased);
  EXPECT_EQ(min->low, -1);
  EXPECT_EQ(min->new_position, -1);
  EXPECT_EQ(min->source_alias, "");
}

}  // namespace
}  // namespace walrus::replication
