// Component tests of held source partitions (SourceHolds) in a mirror Flow between two
// in-process mock clusters: a stored position beyond the source log end, and a retention gap
// (the mock keeps ~5 MiB per partition and drops the oldest records), are held (nothing of the
// partition copied, the other partitions flow), reported (Summary for /readyz, metrics), persisted
// in the target, and released only by an operator's decision recorded there, after which the
// rest is copied exactly.

#include <gtest/gtest.h>

#include <atomic>
#include <fmt/format.h>

#include <thread>

#include "kafka/assign_consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "metrics/registry.h"
#include "mirror/flow.h"
#include "mirror/flow_test_util.h"
#include "replication/mirror_state.h"
#include "replication/source_hold.h"

namespace walrus::mirror {
namespace {

using std::chrono::milliseconds;

using testing::WaitFor;

class FlowHoldTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    src_ = kafka::MockCluster::Create(1).value();
    dst_ = kafka::MockCluster::Create(1).value();
    ASSERT_TRUE(src_->CreateTopic("t", 2).ok());
    ASSERT_TRUE(dst_->CreateTopic("t", 2).ok());
  }

  FlowConfig Config() { return testing::TestFlowConfig(*src_, *dst_, GetParam()); }

  void Produce(kafka::MockCluster& c, std::string topic, int32_t partition, int n,
               size_t size = 8, std::string key = "k") {
    auto p = kafka::Producer::Create({{"bootstrap.servers", c.bootstraps()}});
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE((*p)->Produce({.topic = topic, .partition = partition, .key = key,
                                 .value = std::string(size, 'v')}, nullptr).ok());
    }
    ASSERT_TRUE((*p)->Flush(std::chrono::seconds(30)).ok());
  }

  std::pair<int64_t, int64_t> Watermarks(kafka::MockCluster& c, const std::string& topic,
                                         int32_t p) {
    auto a = kafka::AssignConsumer::Create({{"bootstrap.servers", c.bootstraps()}}).value();
    return a->QueryWatermarks(topic, p, milliseconds(5000)).value();
  }

  replication::MirrorState State() {
    return replication::ReadMirrorState({{"bootstrap.servers", dst_->bootstraps()}},
                                        milliseconds(10000))
        .value();
  }

  // What `walrus mirror-position` writes: the partition's hold, decided.
  void Decide(const std::string& key, const std::string& action, int64_t to) {
    auto h = replication::SourceHold::FromJson(State().holds.at(key)).value();
    ASSERT_EQ(h.state, replication::SourceHold::State::kHeld);
    h.state = replication::SourceHold::State::kDecided;
    h.action = action;
    h.new_position = to;
    h.why = "test";
    const std::string json = h.ToJson();
    auto p = kafka::Producer::Create({{"bootstrap.servers", dst_->bootstraps()}}).value();
    ASSERT_TRUE(
        p->ProduceSync(
             {.topic = kOffsetsTopic, .key = replication::HoldRecordKey(key), .value = json},
             milliseconds(10000))
            .ok());
  }

  double Held(const std::string& reason) {
    double v = 0;
    for (const auto& fam : registry_.raw()->Collect()) {
      if (fam.name != "walrus_mirror_partition_held") continue;
      for (const auto& m : fam.metric) {
        for (const auto& l : m.label) {
          if (l.name == "reason" && l.value == reason) v += m.gauge.value;
        }
      }
    }
    return v;
  }

  std::unique_ptr<kafka::MockCluster> src_, dst_;
  metrics::Registry registry_;
};

TEST_P(FlowHoldTest, PositionBeyondTheSourceEndIsHeldUntilDecided) {
  Produce(*src_, "t", 0, 10);
  Produce(*src_, "t", 1, 10);
  // The stored position of t[0] (15) is beyond the source log end (10): a replaced log.
  {
    auto p = kafka::Producer::Create({{"bootstrap.servers", dst_->bootstraps()}}).value();
    ASSERT_TRUE(p->ProduceSync({.topic = kOffsetsTopic, .key = "dc/t/0", .value = "15"},
                               milliseconds(10000)).ok());
  }
  MirrorProbe probe(registry_, "dc:dr");
  std::atomic<bool> stop{false};
  Flow flow(Config(), probe, stop);
  std::thread t([&] { flow.Run(); });
  // t[1] flows; t[0] is held.
  ASSERT_TRUE(WaitFor([&] { return probe.records.Value() >= 10; }, milliseconds(20000)));
  ASSERT_TRUE(WaitFor([&] { return !flow.HeldSummary().empty(); }, milliseconds(5000)));
  EXPECT_NE(flow.HeldSummary().find("1 partition(s) held"), std::string::npos);
  EXPECT_NE(flow.HeldSummary().find("source partition t[0] held: stored position 15 beyond "
                                    "source log end 10 by 5"),
            std::string::npos)
      << flow.HeldSummary();
  EXPECT_EQ(Held("beyond_end"), 1);
  EXPECT_EQ(Watermarks(*dst_, "t", 0).second, 0);  // nothing of t[0] copied
  EXPECT_EQ(Watermarks(*dst_, "t", 1).second, 10);
  auto st = State();
  ASSERT_EQ(st.holds.count("dc/t/0"), 1u);  // persisted in the target
  EXPECT_EQ(st.positions.at("dc/t/0"), 15);  // never moved

  // The operator's decision (recorded in the target) is picked up by the running flow.
  Decide("dc/t/0", "reset-to-log-start", 0);
  ASSERT_TRUE(WaitFor([&] { return probe.records.Value() >= 20; }, milliseconds(20000)));
  EXPECT_TRUE(WaitFor([&] { return flow.HeldSummary().empty(); }, milliseconds(5000)));
  EXPECT_EQ(Held("beyond_end"), 0);
  EXPECT_TRUE(WaitFor([&] { return State().positions.at("dc/t/0") == 10; }, milliseconds(10000)));
  EXPECT_EQ(replication::SourceHold::FromJson(State().holds.at("dc/t/0"))->state,
            replication::SourceHold::State::kReleased);
  stop = true;
  t.join();
  EXPECT_EQ(Watermarks(*dst_, "t", 0).second, 10);
  EXPECT_EQ(Watermarks(*dst_, "t", 1).second, 10);
}

TEST_P(FlowHoldTest, RetentionGapIsHeldNotSkippedAndTheRestCopiedAfterTheDecision) {
  Produce(*src_, "t", 0, 5);
  MirrorProbe probe(registry_, "dc:dr");
  {
    std::atomic<bool> stop{false};
    Flow flow(Config(), probe, stop);
    std::thread t([&] { flow.Run(); });
    ASSERT_TRUE(WaitFor([&] { return probe.records.Value() >= 5; }, milliseconds(20000)));
    stop = true;
    t.join();
  }
  ASSERT_EQ(State().positions.at("dc/t/0"), 5);
  // ~7 MiB into t[0] while the mirror is down: the mock keeps ~5 MiB and drops the oldest.
  Produce(*src_, "t", 0, 70, 100000, "big");
  Produce(*src_, "t", 0, 10);
  Produce(*src_, "t", 1, 3);
  const auto [low, end] = Watermarks(*src_, "t", 0);
  ASSERT_GT(low, 5);
  ASSERT_EQ(end, 85);

  std::atomic<bool> stop{false};
  Flow flow(Config(), probe, stop);
  std::thread t([&] { flow.Run(); });
  ASSERT_TRUE(WaitFor([&] { return probe.records.Value() >= 8; }, milliseconds(20000)));  // t[1]
  ASSERT_TRUE(WaitFor([&] { return !flow.HeldSummary().empty(); }, milliseconds(5000)));
  EXPECT_NE(flow.HeldSummary().find(fmt::format("t[0] held: retention gap [5, {}) of {} records",
                                                low, low - 5)),
            std::string::npos)
      << flow.HeldSummary();
  EXPECT_EQ(Held("retention_gap"), 1);
  EXPECT_EQ(Watermarks(*dst_, "t", 0).second, 5);  // nothing past the gap
  EXPECT_EQ(State().positions.at("dc/t/0"), 5);

  Decide("dc/t/0", "accept-gap", low);
  ASSERT_TRUE(WaitFor([&] { return Watermarks(*dst_, "t", 0).second == 5 + (end - low); },
                      milliseconds(30000)));
  EXPECT_TRUE(WaitFor([&] { return flow.HeldSummary().empty(); }, milliseconds(5000)));
  stop = true;
  t.join();
  EXPECT_EQ(Watermarks(*dst_, "t", 0).second, 5 + (end - low));  // exactly the rest
  EXPECT_EQ(State().positions.at("dc/t/0"), end);
}

// A replaced source cluster whose new log is already longer than the stored position: offsets
// cannot tell, the cluster id stored beside the positions does.
TEST_P(FlowHoldTest, PositionsOfAnotherSourceClusterAreHeld) {
  Produce(*src_, "t", 0, 10);
  Produce(*src_, "t", 1, 4);
  {
    auto p = kafka::Producer::Create({{"bootstrap.servers", dst_->bootstraps()}}).value();
    ASSERT_TRUE(p->ProduceSync({.topic = kOffsetsTopic, .key = "dc/t/0", .value = "5"},
                               milliseconds(10000)).ok());
    ASSERT_TRUE(p->ProduceSync({.topic = kOffsetsTopic, .key = "dc/cluster-id",
                                .value = "the-old-cluster"}, milliseconds(10000)).ok());
  }
  MirrorProbe probe(registry_, "dc:dr");
  std::atomic<bool> stop{false};
  Flow flow(Config(), probe, stop);
  std::thread t([&] { flow.Run(); });
  ASSERT_TRUE(WaitFor([&] { return probe.records.Value() >= 4; }, milliseconds(20000)));  // t[1]
  ASSERT_TRUE(WaitFor([&] { return !flow.HeldSummary().empty(); }, milliseconds(5000)));
  EXPECT_NE(flow.HeldSummary().find("t[0] held: source Kafka cluster changed (positions stored "
                                    "for cluster 'the-old-cluster'"),
            std::string::npos)
      << flow.HeldSummary();
  EXPECT_EQ(Held("cluster_changed"), 1);
  EXPECT_EQ(Watermarks(*dst_, "t", 0).second, 0);
  auto st = State();
  ASSERT_EQ(st.clusters.count("dc"), 1u);
  EXPECT_NE(st.clusters.at("dc"), "the-old-cluster");  // the new one, recorded after the hold
  Decide("dc/t/0", "reset-to-log-start", 0);
  ASSERT_TRUE(WaitFor([&] { return Watermarks(*dst_, "t", 0).second == 10; }, milliseconds(20000)));
  EXPECT_TRUE(WaitFor([&] { return flow.HeldSummary().empty(); }, milliseconds(5000)));
  stop = true;
  t.join();
  EXPECT_EQ(Watermarks(*dst_, "t", 0).second, 10);
}

INSTANTIATE_TEST_SUITE_P(Modes, FlowHoldTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Transactional" : "AtLeastOnce"; });

}  // namespace
}  // namespace walrus::mirror
