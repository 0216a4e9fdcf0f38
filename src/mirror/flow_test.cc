// Component tests of a mirror Flow between two in-process librdkafka mock clusters: what is
// copied (key, value, headers, timestamp, partition, walrus-src), the loop guard, positions in
// the target (a restarted flow copies only what is new), and refusal of a smaller target topic.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "kafka/assign_consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "metrics/registry.h"
#include "mirror/flow.h"
#include "mirror/flow_test_util.h"
#include "replication/mirror_state.h"

namespace walrus::mirror {
namespace {

using std::chrono::milliseconds;

using testing::WaitFor;

struct Copied {
  std::string key, value;
  int32_t partition;
  int64_t ts;
  std::string src, custom;
};

class FlowTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    src_ = kafka::MockCluster::Create(1).value();
    dst_ = kafka::MockCluster::Create(1).value();
    ASSERT_TRUE(src_->CreateTopic("t", 3).ok());
  }

  FlowConfig Config() { return testing::TestFlowConfig(*src_, *dst_, GetParam()); }

  void ProduceSource(int from, int to) {
    auto p = kafka::Producer::Create({{"bootstrap.servers", src_->bootstraps()}});
    ASSERT_TRUE(p.ok());
    for (int i = from; i < to; ++i) {
      kafka::OutRecord r{.topic = "t",
                         .partition = i % 3,
                         .key = "k" + std::to_string(i),
                         .value = "v" + std::to_string(i),
                         .headers = {{"custom", "h" + std::to_string(i)}},
                         .timestamp_ms = 1700000000000 + i};
      if (i == 5) r.headers.push_back({"walrus-origin", "dr"});  // came from the target
      ASSERT_TRUE((*p)->Produce(std::move(r), nullptr).ok());
    }
    ASSERT_TRUE((*p)->Flush(std::chrono::seconds(10)).ok());
  }

  // Everything in the target topic "t".
  std::vector<Copied> ReadTarget() {
    auto c = kafka::AssignConsumer::Create({{"bootstrap.servers", dst_->bootstraps()}});
    std::vector<Copied> out;
    std::vector<kafka::TopicPartition> parts;
    int64_t total = 0;
    for (int p = 0; p < 3; ++p) {
      auto wm = (*c)->QueryWatermarks("t", p, milliseconds(5000));
      if (!wm) return out;
      total += wm->second;
      parts.push_back({"t", p, kafka::kOffsetBeginning});
    }
    (void)(*c)->Assign(parts);
    WaitFor([&] {
      for (auto& m : (*c)->PollBatch(1000, milliseconds(100))) {
        if (!m.error().ok()) continue;
        out.push_back({std::string(*m.key()), std::string(*m.value()), m.partition(),
                       m.timestamp_ms(), std::string(m.header("walrus-src").value_or("")),
                       std::string(m.header("custom").value_or(""))});
      }
      return static_cast<int64_t>(out.size()) >= total;
    }, milliseconds(10000));
    return out;
  }

  std::unique_ptr<kafka::MockCluster> src_, dst_;
  metrics::Registry registry_;
};

TEST_P(FlowTest, CopiesRecordsAndResumesFromPositionsInTarget) {
  ASSERT_TRUE(dst_->CreateTopic("t", 3).ok());
  ProduceSource(0, 30);
  MirrorProbe probe(registry_, "dc:dr");
  {
    std::atomic<bool> stop{false};
    Flow flow(Config(), probe, stop);
    std::thread t([&] { flow.Run(); });
    EXPECT_TRUE(WaitFor([&] { return probe.records.Value() >= 29; }, milliseconds(20000)));
    stop = true;
    t.join();
    EXPECT_FALSE(flow.Fatal());
  }
  auto copied = ReadTarget();
  ASSERT_EQ(copied.size(), 29u);  // record 5 came from dr: not copied back
  std::map<std::string, Copied> by_key;
  for (auto& c : copied) by_key[c.key] = c;
  EXPECT_EQ(by_key.count("k5"), 0u);
  const Copied& c7 = by_key.at("k7");
  EXPECT_EQ(c7.value, "v7");
  EXPECT_EQ(c7.partition, 1);
  EXPECT_EQ(c7.ts, 1700000000007);
  EXPECT_EQ(c7.custom, "h7");
  EXPECT_EQ(c7.src, "dc/t/1/2");  // partition 1 holds 1, 4, 7: offset 2
  auto pos = replication::ReadMirrorPositions({{"bootstrap.servers", dst_->bootstraps()}},
                                              milliseconds(10000));
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->at("dc/t/0"), 10);
  EXPECT_EQ(pos->at("dc/t/2"), 10);

  // A new flow instance resumes from the positions: only the new records are copied.
  ProduceSource(30, 36);
  {
    std::atomic<bool> stop{false};
    Flow flow(Config(), probe, stop);
    std::thread t([&] { flow.Run(); });
    EXPECT_TRUE(WaitFor([&] { return probe.records.Value() >= 35; }, milliseconds(20000)));
    stop = true;
    t.join();
  }
  EXPECT_EQ(ReadTarget().size(), 35u);
  EXPECT_EQ(probe.skipped_loop.Value(), 1);
}

TEST_P(FlowTest, RefusesTargetWithFewerPartitions) {
  ASSERT_TRUE(dst_->CreateTopic("t", 2).ok());
  MirrorProbe probe(registry_, "dc:dr");
  std::atomic<bool> stop{false};
  Flow flow(Config(), probe, stop);
  std::thread t([&] { flow.Run(); });
  t.join();  // returns by itself: fatal
  EXPECT_TRUE(flow.Fatal());
  EXPECT_NE(flow.Detail().find("fewer than the 3"), std::string::npos) << flow.Detail();
}

TEST_P(FlowTest, WorkersShareThePartitions) {
  ASSERT_TRUE(dst_->CreateTopic("t", 3).ok());
  ProduceSource(0, 30);
  MirrorProbe probe(registry_, "dc:dr");
  FlowConfig cfg = Config();
  cfg.workers = 2;  // partitions 0 and 2 to worker 0, 1 to worker 1
  {
    std::atomic<bool> stop{false};
    Flow flow(cfg, probe, stop);
    std::thread t([&] { flow.Run(); });
    EXPECT_TRUE(WaitFor([&] { return probe.records.Value() >= 29; }, milliseconds(20000)));
    stop = true;
    t.join();
    EXPECT_FALSE(flow.Fatal());
  }
  auto copied = ReadTarget();
  ASSERT_EQ(copied.size(), 29u);
  std::map<std::string, Copied> by_key;
  for (auto& c : copied) by_key[c.key] = c;
  EXPECT_EQ(by_key.size(), 29u);  // each once
  EXPECT_EQ(by_key.at("k7").src, "dc/t/1/2");
  auto pos = replication::ReadMirrorPositions({{"bootstrap.servers", dst_->bootstraps()}},
                                              milliseconds(10000));
  ASSERT_TRUE(pos.ok());
  for (int p = 0; p < 3; ++p) EXPECT_EQ(pos->at("dc/t/" + std::to_string(p)), 10) << p;
  // One worker resumes where the two stopped.
  ProduceSource(30, 33);
  cfg.workers = 1;
  {
    std::atomic<bool> stop{false};
    Flow flow(cfg, probe, stop);
    std::thread t([&] { flow.Run(); });
    EXPECT_TRUE(WaitFor([&] { return probe.records.Value() >= 32; }, milliseconds(20000)));
    stop = true;
    t.join();
  }
  EXPECT_EQ(ReadTarget().size(), 32u);
}

INSTANTIATE_TEST_SUITE_P(Modes, FlowTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Transactional" : "AtLeastOnce"; });

}  // namespace
}  // namespace walrus::mirror
