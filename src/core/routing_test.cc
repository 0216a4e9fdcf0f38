#include "core/routing.h"

#include <gtest/gtest.h>

namespace walrus {
namespace {

TEST(RoutingTest, HashTag) {
  EXPECT_EQ(HashTagOrKey("stock:{sku1}"), "sku1");
  EXPECT_EQ(HashTagOrKey("plain"), "plain");
  EXPECT_EQ(HashTagOrKey("empty:{}"), "empty:{}");
  EXPECT_EQ(HashTagOrKey("open:{x"), "open:{x");
  EXPECT_EQ(HashTagOrKey("{a}{b}"), "a");
}

TEST(RoutingTest, RecordKeyOfMultiIsTheTag) {
  Write w;
  w.multi = true;
  w.ops.push_back({"DECRBY", "stock:{sku1}", {"1"}, {}, {}});
  w.ops.push_back({"RPUSH", "orders:{sku1}", {"o"}, {}, {}});
  EXPECT_EQ(RecordKey(w), "sku1");
  w.multi = false;
  w.ops.resize(1);
  EXPECT_EQ(RecordKey(w), "stock:{sku1}");
  EXPECT_EQ(RoutingKey(w), "sku1");
}

// Reference values of Kafka's Java Utils.murmur2 (as published in Kafka's own unit tests).
TEST(RoutingTest, Murmur2MatchesKafka) {
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
            -58897971);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("abc")), 479470107);
}

TEST(RoutingTest, PartitionInRange) {
  for (int i = 0; i < 1000; ++i) {
    const auto p = PartitionFor("key" + std::to_string(i), 12);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 12);
  }
}

}  // namespace
}  // namespace walrus
