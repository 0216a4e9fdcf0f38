// Component test of OutboxDrain on the in-process mock Kafka and a real redis-server: entries a
// crash left in the outbox are produced to the DLQ exactly once: an entry whose dead letter the
// DLQ already holds (acknowledged before the crash) is only deleted, the others are produced
// with their original record re-read from the source topic, or with the coordinates and reason
// only (walrus-dlq-body-missing) when the source log no longer holds the record. Before the
// outbox there was nothing to drain: such dead letters were lost.

#include "apply/outbox_drain.h"

#include <gtest/gtest.h>

#include <map>

#include "apply/outbox.h"
#include "kafka/assign_consumer.h"
#include "kafka/mock_cluster.h"
#include "metrics/registry.h"
#include "testing/redis_server.h"

namespace walrus::apply {
namespace {

class OutboxDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = kafka::MockCluster::Create(1);
    ASSERT_TRUE(cluster) << cluster.error().message;
    cluster_ = std::move(*cluster);
    ASSERT_TRUE(cluster_->CreateTopic("t", 1));
    ASSERT_TRUE(cluster_->CreateTopic("t.dlq", 1));
    props_ = {{"bootstrap.servers", cluster_->bootstraps()}};
    auto producer = kafka::Producer::Create(props_);
    ASSERT_TRUE(producer) << producer.error().message;
    producer_ = std::shared_ptr<kafka::Producer>(std::move(*producer));
    auto srv = test::RedisServer::Start();
    ASSERT_TRUE(srv) << srv.error().message;
    server_ = std::move(*srv);
    auto c = server_->Connect();
    ASSERT_TRUE(c) << c.error().message;
    conn_ = std::move(*c);
    part_.topic = "t";
    part_.partition = 0;
    part_.pos_key = PositionKey("t", 0);
  }

  void Produce(kafka::OutRecord rec) {
    ASSERT_TRUE(producer_->ProduceSync(std::move(rec), std::chrono::seconds(10)));
  }

  // A DLQ record, copied (a Message must not outlive its consumer).
  struct Dead {
    std::optional<std::string> key, value;
    std::map<std::string, std::string> headers;
    std::optional<std::string_view> header(const std::string& name) const {
      auto it = headers.find(name);
      if (it == headers.end()) return std::nullopt;
      return it->second;
    }
  };

  // Every DLQ record, in order.
  std::vector<Dead> ReadDlq() {
    auto c = kafka::AssignConsumer::Create(props_);
    EXPECT_TRUE(c);
    auto wm = (*c)->QueryWatermarks("t.dlq", 0, std::chrono::seconds(5));
    EXPECT_TRUE(wm);
    std::vector<Dead> out;
    EXPECT_TRUE((*c)->Assign({{"t.dlq", 0, kafka::kOffsetBeginning}}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (static_cast<int64_t>(out.size()) < wm->second &&
           std::chrono::steady_clock::now() < deadline) {
      for (auto& m : (*c)->PollBatch(100, std::chrono::milliseconds(100))) {
        if (!m.error()) continue;
        Dead d;
        if (auto k = m.key()) d.key.emplace(*k);
        if (auto v = m.value()) d.value.emplace(*v);
        for (const auto& h : m.headers()) d.headers.emplace(h.name, h.value.value_or(""));
        out.push_back(std::move(d));
      }
    }
    return out;
  }

  std::unique_ptr<kafka::MockCluster> cluster_;
  kafka::Properties props_;
  std::shared_ptr<kafka::Producer> producer_;
  std::unique_ptr<test::RedisServer> server_;
  std::unique_ptr<redis::Connection> conn_;
  PartitionState part_;
  metrics::Registry registry_;
  ApplyProbe probe_{registry_};
  std::atomic<bool> stop_{false};
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Source record i has timestamp kTs0 + i.
constexpr int64_t kTs0 = 1700000000000;

// A DLQ copy naming t[0] `offset`, as DeadLetterSink writes it.
kafka::OutRecord DlqCopy(const std::string& group, int64_t offset, int64_t src_ts) {
  return {.topic = "t.dlq", .partition = 0, .key = "k" + std::to_string(offset),
          .value = "v" + std::to_string(offset),
          .headers = {{"walrus-dlq-group", group}, {"walrus-src-topic", "t"},
                      {"walrus-src-partition", "0"}, {"walrus-src-offset", std::to_string(offset)},
                      {"walrus-src-timestamp", std::to_string(src_ts)}}};
}

TEST_F(OutboxDrainTest, ProducesWhatTheDlqLacksOnceAndDeletesEverything) {
  for (int i = 0; i < 3; ++i) {
    Produce({.topic = "t", .partition = 0, .key = "k" + std::to_string(i),
             .value = "v" + std::to_string(i), .headers = {{"h", "x"}}, .timestamp_ms = kTs0 + i});
  }
  // Offset 1's dead letter was acknowledged before the crash.
  Produce(DlqCopy("g", 1, kTs0 + 1));
  const int64_t now = WallMs();
  const std::string key = OutboxKey("t", 0);
  ASSERT_TRUE(conn_->Command({"HSET", key, "0", EncodeOutboxValue(now, "decode", "not JSON"), "1",
                              EncodeOutboxValue(now, "rejected", "WRONGTYPE x"), "7",
                              EncodeOutboxValue(now, "rejected", "not an integer")}));
  DeadLetterSink sink(producer_, [](const std::string& t) { return t + ".dlq"; }, probe_, "g");
  OutboxDrain drain(props_, producer_, sink, [](const std::string& t) { return t + ".dlq"; },
                    probe_, "g");
  ASSERT_TRUE(drain.Drain(*conn_, {&part_}, {}, stop_));

  auto left = conn_->Command({"HLEN", key});
  ASSERT_TRUE(left);
  EXPECT_EQ(left->integer(), 0);
  auto dlq = ReadDlq();
  ASSERT_EQ(dlq.size(), 3u);
  std::map<std::string, const Dead*> by_offset;
  for (const auto& m : dlq) {
    auto off = m.header("walrus-src-offset");
    ASSERT_TRUE(off);
    EXPECT_FALSE(by_offset.count(std::string(*off))) << "twice: " << *off;
    by_offset[std::string(*off)] = &m;
  }
  ASSERT_TRUE(by_offset.count("0"));
  const auto* d0 = by_offset["0"];
  EXPECT_EQ(d0->key, std::optional<std::string>("k0"));
  EXPECT_EQ(d0->value, std::optional<std::string>("v0"));
  EXPECT_EQ(d0->header("h"), std::optional<std::string_view>("x"));
  EXPECT_EQ(d0->header("walrus-dlq-category"), std::optional<std::string_view>("decode"));
  EXPECT_EQ(d0->header("walrus-dlq-reason"), std::optional<std::string_view>("not JSON"));
  EXPECT_EQ(d0->header("walrus-dlq-recovered"), std::optional<std::string_view>("1"));
  EXPECT_FALSE(d0->header("walrus-dlq-body-missing"));
  EXPECT_EQ(d0->header("walrus-dlq-group"), std::optional<std::string_view>("g"));
  EXPECT_EQ(d0->header("walrus-src-timestamp"), std::optional<std::string_view>("1700000000000"));
  ASSERT_TRUE(by_offset.count("7"));
  const auto* d7 = by_offset["7"];
  EXPECT_FALSE(d7->value);
  ASSERT_TRUE(d7->header("walrus-dlq-body-missing"));
  EXPECT_NE(d7->header("walrus-dlq-body-missing")->find("not in the source log"),
            std::string_view::npos);
  EXPECT_EQ(d7->header("walrus-dlq-reason"), std::optional<std::string_view>("not an integer"));
  EXPECT_FALSE(by_offset["1"]->header("walrus-dlq-recovered"));  // the original, not a copy

  // Nothing left: a second drain produces nothing.
  ASSERT_TRUE(drain.Drain(*conn_, {&part_}, {}, stop_));
  EXPECT_EQ(ReadDlq().size(), 3u);
}

// Two consumer groups share t.dlq, and t was recreated (its offsets start again at 0): a copy of
// another group, or one of the same group for an earlier record at the same offset (another
// source timestamp), is not this entry's dead letter. Before, the drain matched on topic,
// partition and offset only and deleted both entries without producing them: lost.
TEST_F(OutboxDrainTest, CopiesOfAnotherGroupOrAnotherIncarnationDoNotCount) {
  for (int i = 0; i < 2; ++i) {
    Produce({.topic = "t", .partition = 0, .key = "k" + std::to_string(i),
             .value = "v" + std::to_string(i), .timestamp_ms = kTs0 + i});
  }
  Produce(DlqCopy("other", 0, kTs0));        // another group's dead letter of the same record
  Produce(DlqCopy("g", 1, kTs0 - 86400000));  // ours, of the topic's earlier incarnation
  const int64_t now = WallMs();
  const std::string key = OutboxKey("t", 0);
  ASSERT_TRUE(conn_->Command({"HSET", key, "0", EncodeOutboxValue(now, "decode", "not JSON"), "1",
                              EncodeOutboxValue(now, "rejected", "WRONGTYPE x")}));
  DeadLetterSink sink(producer_, [](const std::string& t) { return t + ".dlq"; }, probe_, "g");
  OutboxDrain drain(props_, producer_, sink, [](const std::string& t) { return t + ".dlq"; },
                    probe_, "g");
  ASSERT_TRUE(drain.Drain(*conn_, {&part_}, {}, stop_));
  auto dlq = ReadDlq();
  ASSERT_EQ(dlq.size(), 4u);  // the two copies above and both entries, produced now
  int recovered = 0;
  for (const auto& m : dlq) {
    if (m.header("walrus-dlq-recovered")) {
      ++recovered;
      EXPECT_EQ(m.header("walrus-dlq-group"), std::optional<std::string_view>("g"));
    }
  }
  EXPECT_EQ(recovered, 2);
  auto left = conn_->Command({"HLEN", key});
  ASSERT_TRUE(left);
  EXPECT_EQ(left->integer(), 0);
}

// Entries this process saw acknowledged (their HDEL had not committed yet, e.g. a fence fired
// after the ack) are deleted without a DLQ scan and not produced again.
TEST_F(OutboxDrainTest, EntriesAcknowledgedToThisProcessAreOnlyDeleted) {
  const std::string key = OutboxKey("t", 0);
  ASSERT_TRUE(conn_->Command({"HSET", key, "5", EncodeOutboxValue(WallMs(), "decode", "x")}));
  DeadLetterSink sink(producer_, [](const std::string& t) { return t + ".dlq"; }, probe_, "g");
  OutboxDrain drain(props_, producer_, sink, [](const std::string& t) { return t + ".dlq"; },
                    probe_, "g");
  ASSERT_TRUE(drain.Drain(*conn_, {&part_}, {{key, 5}}, stop_));
  auto left = conn_->Command({"HLEN", key});
  ASSERT_TRUE(left);
  EXPECT_EQ(left->integer(), 0);
  EXPECT_EQ(ReadDlq().size(), 0u);
}

}  // namespace
}  // namespace walrus::apply
