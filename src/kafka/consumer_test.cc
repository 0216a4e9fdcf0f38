// Component tests of kafka::Consumer (one member) against an in-process mock cluster.

#include "kafka/consumer.h"

#include <gtest/gtest.h>

#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "kafka/test_util.h"

namespace walrus::kafka {
namespace {

using namespace std::chrono_literals;
using testing::Drain;
using testing::RecordingHandler;
using testing::WaitFor;

// One mock cluster for the suite (destroying one takes ~1 s); each test uses its own
// single-partition topic and consumer group, both named after the test.
class ConsumerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = MockCluster::Create(1);
    ASSERT_TRUE(c.ok()) << c.error().message;
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() { delete cluster_; }
  void SetUp() override {
    t_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_TRUE(cluster_->CreateTopic(t_, 1).ok());
    auto p = Producer::Create({{"bootstrap.servers", cluster_->bootstraps()}});
    ASSERT_TRUE(p.ok()) << p.error().message;
    producer_ = std::move(*p);
  }
  std::unique_ptr<Consumer> MakeConsumer(RebalanceHandler* h) {
    auto c = Consumer::Create({{"bootstrap.servers", cluster_->bootstraps()}, {"group.id", t_}}, h);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }
  void ProduceValues(int n, int first = 0) {
    for (int i = first; i < first + n; ++i) {
      ASSERT_TRUE(producer_->Produce({.topic = t_, .partition = 0, .value = std::to_string(i)},
                                     nullptr)
                      .ok());
    }
    ASSERT_TRUE(producer_->Flush(10s).ok());
  }
  static MockCluster* cluster_;
  std::string t_;
  std::unique_ptr<Producer> producer_;
};

MockCluster* ConsumerTest::cluster_ = nullptr;

TEST_F(ConsumerTest, GroupIdIsRequired) {
  auto c = Consumer::Create({{"bootstrap.servers", cluster_->bootstraps()}}, nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().Is(Errc::kInvalidArgument));
}

TEST_F(ConsumerTest, RoundTripPreservesKeysValuesHeadersTimestamps) {
  ASSERT_TRUE(producer_->ProduceSync({.topic = t_,
                                      .key = "orders:42",
                                      .value = std::string("bin\0ary", 7),
                                      .headers = {{"walrus-origin", "us"},
                                                  {"dup", "first"},
                                                  {"dup", "second"},
                                                  {"nullhdr", std::nullopt}},
                                      .timestamp_ms = 1600000000123},
                                     10s)
                  .ok());
  ASSERT_TRUE(producer_->ProduceSync({.topic = t_, .value = std::nullopt}, 10s).ok());
  RecordingHandler handler;
  auto c = MakeConsumer(&handler);
  ASSERT_TRUE(c->Subscribe({t_}).ok());
  auto msgs = Drain(*c, 2, 20s);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(c->HasReceivedAssignment());

  const Message& m = msgs[0];
  EXPECT_EQ(m.topic(), t_);
  EXPECT_EQ(m.partition(), 0);
  EXPECT_EQ(m.offset(), 0);
  EXPECT_EQ(m.key(), "orders:42");
  EXPECT_EQ(m.value(), std::string_view("bin\0ary", 7));
  EXPECT_EQ(m.timestamp_ms(), 1600000000123);
  const std::vector<Header> want = {
      {"walrus-origin", "us"}, {"dup", "first"}, {"dup", "second"}, {"nullhdr", std::nullopt}};
  EXPECT_EQ(m.headers(), want);
  EXPECT_EQ(m.header("walrus-origin"), "us");
  EXPECT_EQ(m.header("dup"), "second");  // last one wins
  EXPECT_EQ(m.header("nullhdr"), "");
  EXPECT_FALSE(m.header("absent").has_value());

  const Message& tomb = msgs[1];
  EXPECT_EQ(tomb.offset(), 1);
  EXPECT_FALSE(tomb.key().has_value());
  EXPECT_FALSE(tomb.value().has_value());
  EXPECT_TRUE(tomb.headers().empty());
  EXPECT_GT(tomb.timestamp_ms(), 1600000000123);  // "now"
  c->Close();
  EXPECT_EQ(handler.revoke_calls, 1);
  c->Close();  // idempotent
}

TEST_F(ConsumerTest, PollBatchReturnsManyRecordsInOrder) {
  constexpr int kCount = 20000;
  ProduceValues(kCount);
  auto c = MakeConsumer(nullptr);
  ASSERT_TRUE(c->Subscribe({t_}).ok());
  int64_t next = 0;
  size_t largest_batch = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (next < kCount && std::chrono::steady_clock::now() < deadline) {
    auto batch = c->PollBatch(10000, 100ms);
    largest_batch = std::max(largest_batch, batch.size());
    for (const Message& m : batch) {
      ASSERT_TRUE(m.error().ok()) << m.error().error().message;
      ASSERT_EQ(m.offset(), next);
      ASSERT_EQ(m.value(), std::to_string(next));
      ++next;
    }
  }
  EXPECT_EQ(next, kCount);
  EXPECT_GT(largest_batch, 100u);
  auto wm = c->QueryWatermarks(t_, 0, 5s);
  ASSERT_TRUE(wm.ok()) << wm.error().message;
  EXPECT_EQ(wm->first, 0);
  EXPECT_EQ(wm->second, kCount);
  auto cached = c->Watermarks(t_, 0);
  ASSERT_TRUE(cached.ok()) << cached.error().message;
  EXPECT_EQ(cached->second, kCount);
}

TEST_F(ConsumerTest, HandlerOffsetSeekPauseResume) {
  ProduceValues(10);
  RecordingHandler handler;
  handler.start_offsets[{t_, 0}] = 5;
  auto c = MakeConsumer(&handler);
  ASSERT_TRUE(c->Subscribe({t_}).ok());
  auto first = Drain(*c, 1, 20s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].offset(), 5);  // the handler's start offset, not the beginning
  EXPECT_EQ(handler.assign_calls, 1);
  EXPECT_EQ(c->Assignment(), (std::vector<TopicPartition>{{t_, 0}}));

  auto rest = Drain(*c, 4, 10s);
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest.back().offset(), 9);

  ASSERT_TRUE(c->Seek({{t_, 0, 2}}).ok());
  auto again = Drain(*c, 1, 10s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].offset(), 2);
  EXPECT_EQ(again[0].value(), "2");
  auto tail = Drain(*c, 7, 10s);
  ASSERT_EQ(tail.size(), 7u);

  ASSERT_TRUE(c->Pause({{t_, 0}}).ok());
  ProduceValues(3, 10);
  // Paused: nothing arrives although records exist (bounded wait).
  EXPECT_TRUE(Drain(*c, 1, 1500ms).empty());
  ASSERT_TRUE(c->Resume({{t_, 0}}).ok());
  auto resumed = Drain(*c, 3, 10s);
  ASSERT_EQ(resumed.size(), 3u);
  EXPECT_EQ(resumed[0].offset(), 10);
}

// With auto.offset.reset=error (what `walrus apply` uses) a position beyond the log end is an
// error event naming the partition and the position, the partition is not moved, and Seek
// restarts its fetching (librdkafka alone refuses to seek it: _STATE).
TEST_F(ConsumerTest, OutOfRangeIsReportedNotResetAndSeekRestarts) {
  ProduceValues(3);
  RecordingHandler handler;
  handler.start_offsets[{t_, 0}] = 10;  // beyond the end (3)
  auto c = Consumer::Create({{"bootstrap.servers", cluster_->bootstraps()},
                             {"group.id", t_},
                             {"auto.offset.reset", "error"}},
                            &handler);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE((*c)->Subscribe({t_}).ok());
  bool reported = false;
  std::vector<int64_t> offsets;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (Message& m : (*c)->PollBatch(10, 100ms)) {
          if (m.position_out_of_range()) {
            reported = m.topic() == t_ && m.partition() == 0 && m.offset() == 10;
          } else if (m.error().ok()) {
            offsets.push_back(m.offset());
          }
        }
        return reported;
      },
      20s));
  EXPECT_TRUE(offsets.empty());  // not reset to the beginning
  EXPECT_TRUE(Drain(**c, 1, 1500ms).empty());  // and not moved anywhere
  ASSERT_TRUE((*c)->Seek({{t_, 0, 1}}).ok());
  auto got = Drain(**c, 2, 20s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].offset(), 1);
  EXPECT_EQ(got[1].offset(), 2);
}

}  // namespace
}  // namespace walrus::kafka
