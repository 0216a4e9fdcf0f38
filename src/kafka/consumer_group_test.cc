// Component tests of group behaviour (cooperative rebalancing, commits) on a mock cluster.

#include <gtest/gtest.h>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "kafka/test_util.h"

namespace walrus::kafka {
namespace {

using namespace std::chrono_literals;
using testing::RecordingHandler;
using testing::WaitFor;

class ConsumerGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = MockCluster::Create(2);
    ASSERT_TRUE(c.ok()) << c.error().message;
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopic("t", 4).ok());
  }
  Properties Props() const {
    return {{"bootstrap.servers", cluster_->bootstraps()}, {"group.id", "grp"}, 
            // The mock finishes a rebalance of a live group only after session.timeout.ms - 1 s.
            {"session.timeout.ms", "3000"},
            {"heartbeat.interval.ms", "300"}};
  }
  std::unique_ptr<MockCluster> cluster_;
};

TEST_F(ConsumerGroupTest, TwoMembersSplitPartitionsCooperatively) {
  RecordingHandler h1, h2;
  auto c1 = Consumer::Create(Props(), &h1);
  ASSERT_TRUE(c1.ok()) << c1.error().message;
  ASSERT_TRUE((*c1)->Subscribe({"t"}).ok());
  ASSERT_TRUE(WaitFor([&] { (*c1)->PollBatch(100, 50ms); return h1.owned.size() == 4; }, 20s));

  auto c2 = Consumer::Create(Props(), &h2);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  ASSERT_TRUE((*c2)->Subscribe({"t"}).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        (*c1)->PollBatch(100, 20ms);
        (*c2)->PollBatch(100, 20ms);
        return h1.owned.size() == 2 && h2.owned.size() == 2;
      },
      30s))
      << "c1 owns " << h1.owned.size() << ", c2 owns " << h2.owned.size();
  for (const auto& tp : h2.owned) EXPECT_EQ(h1.owned.count(tp), 0u);
  // Cooperative: c1 kept two partitions throughout (only the moved ones were revoked).
  EXPECT_GE(h1.revoke_calls, 1);
  EXPECT_EQ((*c1)->Assignment().size(), 2u);
  EXPECT_TRUE((*c2)->HasReceivedAssignment());

  // Records flow to the owner of their partition only.
  auto p = Producer::Create({{"bootstrap.servers", cluster_->bootstraps()}});
  ASSERT_TRUE(p.ok());
  for (int32_t part = 0; part < 4; ++part) {
    ASSERT_TRUE((*p)->ProduceSync({.topic = "t", .partition = part, .value = "x"}, 10s).ok());
  }
  int got1 = 0, got2 = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& m : (*c1)->PollBatch(100, 20ms)) {
          EXPECT_EQ(h1.owned.count({std::string(m.topic()), m.partition()}), 1u);
          ++got1;
        }
        for (auto& m : (*c2)->PollBatch(100, 20ms)) {
          EXPECT_EQ(h2.owned.count({std::string(m.topic()), m.partition()}), 1u);
          ++got2;
        }
        return got1 + got2 == 4;
      },
      20s));
  EXPECT_EQ(got1, 2);
  EXPECT_EQ(got2, 2);

  // When c2 leaves, c1 gets everything back.
  (*c2)->Close();
  EXPECT_TRUE(h2.owned.empty());
  ASSERT_TRUE(WaitFor([&] { (*c1)->PollBatch(100, 50ms); return h1.owned.size() == 4; }, 30s));
}

TEST_F(ConsumerGroupTest, CommitAsyncIsVisible) {
  RecordingHandler h;
  auto c = Consumer::Create(Props(), &h);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE((*c)->Subscribe({"t"}).ok());
  ASSERT_TRUE(WaitFor([&] { (*c)->PollBatch(100, 50ms); return h.owned.size() == 4; }, 20s));
  ASSERT_TRUE((*c)->CommitAsync({{"t", 0, 7}, {"t", 3, 42}}).ok());
  std::vector<TopicPartition> committed;
  ASSERT_TRUE(WaitFor(
      [&] {
        (*c)->PollBatch(10, 20ms);  // serves the commit result
        auto r = (*c)->Committed({{"t", 0}, {"t", 1}, {"t", 3}}, 5s);
        if (r.ok()) committed = *r;
        return r.ok() && committed[0].offset == 7;
      },
      10s));
  EXPECT_EQ(committed[1].offset, kOffsetInvalid);
  EXPECT_EQ(committed[2].offset, 42);
  // Another client (e.g. `walrus status`) sees them without joining the group.
  auto other = CommittedOffsets(Props(), {{"t", 0}, {"t", 3}}, 5s);
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ((*other)[0].offset, 7);
  EXPECT_EQ((*other)[1].offset, 42);
}

}  // namespace
}  // namespace walrus::kafka
