// Pins the stored hold records of both layouts: records written by earlier releases (these
// literals are what they wrote) must still be read, and the encoder must write the same bytes.
#include "core/hold_record.h"

#include <gtest/gtest.h>

namespace walrus {
namespace {

constexpr std::string_view kApplierHold =
    R"({"cluster":"","count":597,"high":20,"low":3,"partition":11,"position":617,)"
    R"("reason":"beyond_end","since_ms":1765000000000,"stored_cluster":"","topic":"us.events"})";
constexpr std::string_view kMirrorDecided =
    R"({"action":"reset-to-log-start","by":"ops","count":5,"decided_ms":7,"high":10,)"
    R"("host":"h1","low":0,"new_position":0,"partition":0,"position":15,"reason":"beyond_end",)"
    R"("since_ms":1,"source":"dc","state":"decided","topic":"t","why":"DC Kafka rebuilt"})";
constexpr std::string_view kMirrorClusterChanged =
    R"({"cluster":"new-id","count":0,"high":20,"low":0,"partition":1,"position":15,)"
    R"("reason":"cluster_changed","since_ms":5,"source":"dc","state":"held",)"
    R"("stored_cluster":"old-id","topic":"t"})";

TEST(HoldRecord, ApplierLayout) {
  HoldRecord h{.topic = "us.events",
               .partition = 11,
               .reason = HoldReason::kBeyondEnd,
               .position = 617,
               .low = 3,
               .high = 20,
               .count = 597,
               .since_ms = 1765000000000};
  EXPECT_EQ(EncodeHold(h, HoldLayout::kApplier), kApplierHold);
  auto back = DecodeHold(kApplierHold, HoldLayout::kApplier);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->topic, "us.events");
  EXPECT_EQ(back->partition, 11);
  EXPECT_EQ(back->count, 597);
  EXPECT_EQ(back->since_ms, 1765000000000);
  EXPECT_EQ(EncodeHold(*back, HoldLayout::kApplier), kApplierHold);
}

TEST(HoldRecord, MirrorLayout) {
  for (std::string_view stored : {kMirrorDecided, kMirrorClusterChanged}) {
    auto h = DecodeHold(stored, HoldLayout::kMirror);
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(EncodeHold(*h, HoldLayout::kMirror), stored);
  }
  auto d = DecodeHold(kMirrorDecided, HoldLayout::kMirror);
  EXPECT_EQ(d->state, HoldState::kDecided);
  EXPECT_EQ(d->source_alias, "dc");
  EXPECT_EQ(d->new_position, 0);
  EXPECT_EQ(d->why, "DC Kafka rebuilt");
  auto c = DecodeHold(kMirrorClusterChanged, HoldLayout::kMirror);
  EXPECT_EQ(c->reason, HoldReason::kClusterChanged);
  EXPECT_EQ(c->stored_cluster, "old-id");
  EXPECT_EQ(c->cluster, "new-id");
}

TEST(HoldRecord, RequiredFieldsPerLayout) {
  // The mirror's record may omit low/high/count; the applier's may not.
  constexpr std::string_view kSparse =
      R"({"partition":2,"position":9,"reason":"beyond_end","state":"released","topic":"t"})";
  auto m = DecodeHold(kSparse, HoldLayout::kMirror);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->low, -1);
  EXPECT_EQ(m->state, HoldState::kReleased);
  auto a = DecodeHold(kSparse, HoldLayout::kApplier);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.error().Is(Errc::kInvalidArgument));
  // The mirror's needs a state, and a decision needs its new position.
  EXPECT_FALSE(DecodeHold(kApplierHold, HoldLayout::kMirror).ok());
  auto no_pos = DecodeHold(
      R"({"partition":0,"position":3,"reason":"beyond_end","state":"decided","topic":"t"})",
      HoldLayout::kMirror);
  ASSERT_FALSE(no_pos.ok());
  EXPECT_TRUE(no_pos.error().Is(Errc::kDecode));
  EXPECT_FALSE(DecodeHold(R"({"reason":"in_range","topic":"t","partition":0,"position":1,)"
                          R"("low":0,"high":5,"count":0})",
                          HoldLayout::kApplier)
                   .ok());
  EXPECT_FALSE(DecodeHold("[1]", HoldLayout::kApplier).ok());
  EXPECT_FALSE(DecodeHold("", HoldLayout::kMirror).ok());
}

TEST(HoldRecord, Names) {
  EXPECT_EQ(HoldReasonName(HoldReason::kBeyondEnd), "beyond_end");
  EXPECT_EQ(HoldReasonName(HoldReason::kRetentionGap), "retention_gap");
  EXPECT_EQ(HoldReasonName(HoldReason::kClusterChanged), "cluster_changed");
  EXPECT_EQ(HoldStateName(HoldState::kHeld), "held");
  EXPECT_EQ(HoldStateName(HoldState::kDecided), "decided");
  EXPECT_EQ(HoldStateName(HoldState::kReleased), "released");
  EXPECT_EQ(ParseHoldReason("retention_gap"), HoldReason::kRetentionGap);
  EXPECT_FALSE(ParseHoldReason("in_range"));
  EXPECT_EQ(ParseHoldState("released"), HoldState::kReleased);
  EXPECT_FALSE(ParseHoldState("odd"));
}

}  // namespace
}  // namespace walrus
