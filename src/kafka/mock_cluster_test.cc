// Tests documenting the behaviour of librdkafka 2.0's mock cluster that walrus relies on.

#include "kafka/mock_cluster.h"

#include <gtest/gtest.h>

#include "kafka/admin.h"
#include "kafka/producer.h"

namespace walrus::kafka {
namespace {

using namespace std::chrono_literals;

TEST(MockClusterTest, BootstrapsListsEveryBroker) {
  auto c = MockCluster::Create(3);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const std::string& b = (*c)->bootstraps();
  EXPECT_EQ(std::count(b.begin(), b.end(), ','), 2) << b;
  EXPECT_EQ(b.rfind("127.0.0.1:", 0), 0u) << b;
  EXPECT_FALSE(MockCluster::Create(0).ok());
}

TEST(MockClusterTest, CreateTopicTwiceIsConflict) {
  auto c = MockCluster::Create(1);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->CreateTopic("x", 6, 3).ok());  // rf capped at the broker count
  Status again = (*c)->CreateTopic("x", 6);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().Is(Errc::kConflict)) << again.error().message;
  auto topics = ListTopics({{"bootstrap.servers", (*c)->bootstraps()}}, 5s);
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  ASSERT_EQ(topics->size(), 1u);
  EXPECT_EQ((*topics)[0].name, "x");
  EXPECT_EQ((*topics)[0].partitions, 6);
}

// The mock creates any topic a metadata request names, with 4 partitions, whatever
// allow.auto.create.topics says: producing to a missing topic succeeds.
TEST(MockClusterTest, ProducingAutoCreatesTopicWithFourPartitions) {
  auto c = MockCluster::Create(1);
  ASSERT_TRUE(c.ok());
  auto p = Producer::Create(
      {{"bootstrap.servers", (*c)->bootstraps()}, {"allow.auto.create.topics", "false"}});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)->PartitionCount("auto", 5s).ok());
  auto r = (*p)->ProduceSync({.topic = "auto", .value = "x"}, 10s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto n = (*p)->PartitionCount("auto", 5s);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 4);
}

// librdkafka 2.0's mock has no CreateTopics handler: the Admin request is never answered.
TEST(MockClusterTest, AdminCreateTopicsIsUnsupported) {
  auto c = MockCluster::Create(1);
  ASSERT_TRUE(c.ok());
  Status s = CreateTopics({{"bootstrap.servers", (*c)->bootstraps()}}, {{"admin", 3}}, 1500ms);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.error().Is(Errc::kTimeout)) << s.error().message;
  EXPECT_TRUE(CreateTopics({{"bootstrap.servers", (*c)->bootstraps()}}, {}, 1s).ok());
}

}  // namespace
}  // namespace walrus::kafka
