// Component tests of kafka::Producer against an in-process mock cluster over real TCP.

#include "kafka/producer.h"

#include <gtest/gtest.h>

#include <atomic>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/test_util.h"

namespace walrus::kafka {
namespace {

using namespace std::chrono_literals;

// One mock cluster for the suite (destroying one takes ~1 s); each test uses its own topic,
// named after the test, with 3 partitions.
class ProducerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = MockCluster::Create(3);
    ASSERT_TRUE(c.ok()) << c.error().message;
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() { delete cluster_; }
  void SetUp() override {
    t_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(cluster_->CreateTopic(t_, 3).ok());
  }
  std::unique_ptr<Producer> MakeProducer(Properties extra = {}) {
    Properties props = {{"bootstrap.servers", cluster_->bootstraps()}};
    props.insert(props.end(), extra.begin(), extra.end());
    auto p = Producer::Create(props);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? std::move(*p) : nullptr;
  }
  static MockCluster* cluster_;
  std::string t_;
};

MockCluster* ProducerTest::cluster_ = nullptr;

TEST_F(ProducerTest, ProduceSyncReportsCoordinates) {
  auto p = MakeProducer();
  ASSERT_TRUE(p);
  for (int64_t i = 0; i < 3; ++i) {
    auto r = p->ProduceSync({.topic = t_, .partition = 2, .key = "k", .value = "v",
                             .timestamp_ms = 1700000000000 + i},
                            10s);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->status.ok());
    EXPECT_EQ(r->topic, t_);
    EXPECT_EQ(r->partition, 2);
    EXPECT_EQ(r->offset, i);
    EXPECT_EQ(r->timestamp_ms, 1700000000000 + i);
  }
}

TEST_F(ProducerTest, SameKeyGoesToOnePartition) {
  auto p = MakeProducer();
  ASSERT_TRUE(p);
  std::set<int32_t> seen_a, seen_all;
  for (int i = 0; i < 10; ++i) {
    auto a = p->ProduceSync({.topic = t_, .key = "orders:42", .value = "x"}, 10s);
    ASSERT_TRUE(a.ok()) << a.error().message;
    seen_a.insert(a->partition);
    auto b = p->ProduceSync({.topic = t_, .key = "key-" + std::to_string(i), .value = "x"}, 10s);
    ASSERT_TRUE(b.ok()) << b.error().message;
    seen_all.insert(b->partition);
  }
  EXPECT_EQ(seen_a.size(), 1u);
  EXPECT_GT(seen_all.size(), 1u);  // different keys spread over partitions
}

TEST_F(ProducerTest, AsyncProduceCallbacksAndFlush) {
  auto p = MakeProducer();
  ASSERT_TRUE(p);
  std::atomic<int> ok{0}, failed{0};
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(p->Produce({.topic = t_, .key = std::to_string(i), .value = "v"},
                           [&](const DeliveryReport& r) { (r.status.ok() ? ok : failed)++; })
                    .ok());
  }
  ASSERT_TRUE(p->Flush(10s).ok());
  EXPECT_EQ(ok.load(), kCount);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(p->OutQueueLength(), 0);
}

TEST_F(ProducerTest, UnknownPartitionIsAClearError) {
  auto p = MakeProducer({{"message.timeout.ms", "3000"}});
  ASSERT_TRUE(p);
  auto r = p->ProduceSync({.topic = t_, .partition = 99, .value = "x"}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(Errc::kNotFound)) << r.error().message;
  EXPECT_NE(r.error().message.find(t_ + "[99]"), std::string::npos) << r.error().message;
}

TEST_F(ProducerTest, BrokerDownTimesOutThenRecoversWhenLeaderMoves) {
  // A new producer may take up to ~1 s to fetch a topic's metadata before its first send.
  // Timeouts of records for a down broker are only checked when its thread wakes up to
  // reconnect: bound the reconnect backoff (default up to 10 s).
  auto p = MakeProducer({{"message.timeout.ms", "3000"}, {"reconnect.backoff.max.ms", "500"}});
  ASSERT_TRUE(p);
  ASSERT_TRUE(cluster_->SetPartitionLeader(t_, 0, 1).ok());
  ASSERT_TRUE(p->ProduceSync({.topic = t_, .partition = 0, .value = "before"}, 10s).ok());
  ASSERT_TRUE(cluster_->SetBrokerDown(1).ok());
  // Waiting less than message.timeout.ms: our own wait expires.
  auto quick = p->ProduceSync({.topic = t_, .partition = 0, .value = "x"}, 200ms);
  ASSERT_FALSE(quick.ok());
  EXPECT_TRUE(quick.error().Is(Errc::kTimeout)) << quick.error().message;
  // Waiting longer: librdkafka gives up on the record.
  auto slow = p->ProduceSync({.topic = t_, .partition = 0, .value = "y"}, 10s);
  ASSERT_FALSE(slow.ok());
  EXPECT_TRUE(slow.error().Is(Errc::kTimeout)) << slow.error().message;
  EXPECT_NE(slow.error().message.find("timed out"), std::string::npos) << slow.error().message;
  // The mock does not move leadership by itself; once moved, producing works again.
  ASSERT_TRUE(cluster_->SetPartitionLeader(t_, 0, 2).ok());
  ASSERT_TRUE(cluster_->SetBrokerUp(1).ok());
  auto after = p->ProduceSync({.topic = t_, .partition = 0, .value = "after"}, 10s);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->partition, 0);
  EXPECT_GT(after->offset, 0);
}

TEST_F(ProducerTest, PartitionCountDoesNotAutoCreate) {
  auto p = MakeProducer();
  ASSERT_TRUE(p);
  auto n = p->PartitionCount(t_, 5s);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 3);
  auto missing = p->PartitionCount("missing", 5s);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().Is(Errc::kNotFound));
  auto topics = ListTopics({{"bootstrap.servers", cluster_->bootstraps()}}, 5s);
  ASSERT_TRUE(topics.ok()) << topics.error().message;
  for (const auto& t : *topics) EXPECT_NE(t.name, "missing");
}

TEST_F(ProducerTest, InvalidPropertyIsRejected) {
  auto p = Producer::Create({{"bootstrap.servers", cluster_->bootstraps()}, {"no.such", "1"}});
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.error().Is(Errc::kInvalidArgument));
  EXPECT_NE(p.error().message.find("no.such"), std::string::npos);
}

TEST_F(ProducerTest, TransactionCommits) {
  auto p = MakeProducer({{"transactional.id", "walrus-test-tx"}});
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->InitTransactions(10s).ok());
  ASSERT_TRUE(p->BeginTransaction().ok());
  std::atomic<int> delivered{0};
  ASSERT_TRUE(p->Produce({.topic = t_, .partition = 1, .value = "tx"},
                         [&](const DeliveryReport& r) { delivered += r.status.ok(); })
                  .ok());
  // Consume-transform-produce: the group's offsets ride in the transaction (the mock accepts
  // them but stores nothing, see README).
  auto consumer = Consumer::Create(
      {{"bootstrap.servers", cluster_->bootstraps()}, {"group.id", "tx-group"}}, nullptr);
  ASSERT_TRUE(consumer.ok());
  Status sent = p->SendOffsetsToTransaction({{t_, 1, 1}}, **consumer, 10s);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  Status s = p->CommitTransaction(10s);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(delivered.load(), 1);
}

}  // namespace
}  // namespace walrus::kafka
