#include "apply/partition_hold.h"

#include <gtest/gtest.h>

namespace walrus::apply {
namespace {

TEST(ClassifyPosition, InsideTheLogIncludingItsEnds) {
  EXPECT_EQ(ClassifyPosition(0, 0, 0).verdict, Verdict::kInRange);
  EXPECT_EQ(ClassifyPosition(46, 46, 100).verdict, Verdict::kInRange);  // at the log start
  // At the high watermark: all applied. On a real broker the last offsets may be transaction
  // markers, so a position below the high watermark with nothing left to fetch is normal too.
  EXPECT_EQ(ClassifyPosition(100, 46, 100).verdict, Verdict::kInRange);
  EXPECT_EQ(ClassifyPosition(-1, 46, 100).verdict, Verdict::kInRange);  // nothing stored
}

TEST(ClassifyPosition, BeyondTheEndOfAReplacedLog) {
  // The issue's reproduction: positions 617 and 7814 above a new cluster's log of 20 records.
  auto c = ClassifyPosition(617, 0, 20);
  EXPECT_EQ(c.verdict, Verdict::kBeyondEnd);
  EXPECT_EQ(c.count, 597);
  EXPECT_EQ(ClassifyPosition(7814, 0, 0).count, 7814);
  EXPECT_EQ(ClassifyPosition(101, 46, 100).verdict, Verdict::kBeyondEnd);
}

TEST(ClassifyPosition, BelowTheStartAfterRetention) {
  // The issue's reproduction: position 42, librdkafka reset to BEGINNING 46.
  auto c = ClassifyPosition(42, 46, 60);
  EXPECT_EQ(c.verdict, Verdict::kRetentionGap);
  EXPECT_EQ(c.count, 4);
}

TEST(PartitionHold, DescribeNamesEveryNumber) {
  auto gap = MakeHold("redis-writes", 3, 42, 46, 60, 1000);
  EXPECT_EQ(gap.reason, Verdict::kRetentionGap);
  EXPECT_EQ(gap.Describe(),
            "redis-writes[3] held: retention gap [42, 46) of 4 records deleted before they were "
            "applied (stored position 42, log [46, 60])");
  auto beyond = MakeHold("redis-writes", 0, 617, 0, 20, 1000);
  EXPECT_EQ(beyond.Describe(),
            "redis-writes[0] held: stored position 617 beyond log end 20 by 597 (log replaced or "
            "truncated; log [0, 20])");
}

TEST(PartitionHold, JsonRoundTrip) {
  auto h = MakeHold("us.events", 11, 617, 3, 20, 1765000000000);
  auto back = PartitionHold::FromJson(h.ToJson());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->topic, "us.events");
  EXPECT_EQ(back->partition, 11);
  EXPECT_EQ(back->reason, Verdict::kBeyondEnd);
  EXPECT_EQ(back->position, 617);
  EXPECT_EQ(back->low, 3);
  EXPECT_EQ(back->high, 20);
  EXPECT_EQ(back->count, 597);
  EXPECT_EQ(back->since_ms, 1765000000000);
}

TEST(PartitionHold, RejectsGarbage) {
  EXPECT_FALSE(PartitionHold::FromJson("").ok());
  EXPECT_FALSE(PartitionHold::FromJson("[1]").ok());
  EXPECT_FALSE(PartitionHold::FromJson(R"({"topic":"t"})").ok());
  EXPECT_FALSE(PartitionHold::FromJson(
                   R"({"topic":"t","partition":0,"reason":"in_range","position":1,"low":0,)"
                   R"("high":5,"count":0})")
                   .ok());
}

TEST(HoldKey, UnderTheWalrusNamespace) {
  EXPECT_EQ(HoldKey("redis-writes", 7), "walrus:hold:redis-writes:7");
  EXPECT_EQ(HoldKeyPrefix("redis-writes"), "walrus:hold:redis-writes:");
  EXPECT_EQ(ClusterIdKey("us.events", 3), "walrus:kafka-cluster-id:us.events:3");
}

}  // namespace
}  // namespace walrus::apply

namespace walrus::apply {
namespace {

TEST(PartitionHold, ClusterChangedNamesBothClusters) {
  auto h = MakeClusterHold("t", 1, 15, 0, 20, "old-id", "new-id", 5);
  EXPECT_EQ(h.reason, Verdict::kClusterChanged);
  EXPECT_EQ(h.Describe(),
            "t[1] held: Kafka cluster changed (positions stored for cluster 'old-id', consuming "
            "cluster 'new-id'): stored position 15 refers to another log (log now [0, 20])");
  auto back = PartitionHold::FromJson(h.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->stored_cluster, "old-id");
  EXPECT_EQ(back->cluster, "new-id");
  // An offsets verdict on a changed cluster says both.
  auto beyond = MakeHold("t", 1, 15, 0, 10, 5);
  beyond.stored_cluster = "old-id";
  beyond.cluster = "new-id";
  EXPECT_EQ(beyond.Describe(),
            "t[1] held: stored position 15 beyond log end 10 by 5 (log replaced or truncated; log "
            "[0, 10]); Kafka cluster changed from 'old-id' to 'new-id'");
}

}  // namespace
}  // namespace walrus::apply

namespace walrus::apply {
namespace {

// The stored bytes of a hold (walrus:hold:<topic>:<p>) are a contract: a hold written by an
// earlier release must still be read, and this release writes the same bytes.
constexpr std::string_view kStoredBeyondEnd =
    R"({"cluster":"","count":597,"high":20,"low":3,"partition":11,"position":617,)"
    R"("reason":"beyond_end","since_ms":1765000000000,"stored_cluster":"","topic":"us.events"})";
constexpr std::string_view kStoredClusterChanged =
    R"({"cluster":"new-id","count":0,"high":20,"low":0,"partition":1,"position":15,)"
    R"("reason":"cluster_changed","since_ms":5,"stored_cluster":"old-id","topic":"t"})";

TEST(PartitionHold, StoredFormatIsPinned) {
  EXPECT_EQ(MakeHold("us.events", 11, 617, 3, 20, 1765000000000).ToJson(), kStoredBeyondEnd);
  EXPECT_EQ(MakeClusterHold("t", 1, 15, 0, 20, "old-id", "new-id", 5).ToJson(),
            kStoredClusterChanged);
  auto h = PartitionHold::FromJson(kStoredBeyondEnd);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->ToJson(), kStoredBeyondEnd);
  EXPECT_EQ(h->reason, Verdict::kBeyondEnd);
  EXPECT_EQ(h->count, 597);
  auto c = PartitionHold::FromJson(kStoredClusterChanged);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->ToJson(), kStoredClusterChanged);
  EXPECT_EQ(c->reason, Verdict::kClusterChanged);
  EXPECT_EQ(c->stored_cluster, "old-id");
  // A hold written before cluster ids were recorded (no since_ms / cluster fields) still reads.
  auto old = PartitionHold::FromJson(
      R"({"count":2,"high":5,"low":3,"partition":0,"position":1,"reason":"retention_gap",)"
      R"("topic":"t"})");
  ASSERT_TRUE(old.ok()) << old.error().message;
  EXPECT_EQ(old->reason, Verdict::kRetentionGap);
  EXPECT_EQ(old->since_ms, 0);
  EXPECT_EQ(old->cluster, "");
}

}  // namespace
}  // namespace walrus::apply
