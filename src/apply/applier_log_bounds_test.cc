// Component test of the PartitionGuard inside a real Applier (docs/log-gaps.md): an in-process
// mock Kafka cluster and a real redis-server.
//
// The Redis holds position 100 for t[0] while the log has 5 records (a replaced cluster): the
// partition is held (hold key, /readyz reason with both numbers, metrics), nothing is applied or
// counted as duplicate, also across a Redis reconnect (resync); once the hold is lifted as
// `walrus position --reset-to-log-start` does, the 5 records apply exactly once.

#include "apply/applier_test_util.h"
#include "kafka/admin.h"

namespace walrus::apply::test {
namespace {

using std::chrono::seconds;

class ApplierLogBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.Init(1)); }
  walrus::test::RedisServer& R() { return h_.redis(0); }
  std::string Get(std::string_view key) { return ApplierHarness::Get(R(), key); }
  // The mock's Kafka cluster id, as the applier and `walrus position` read it.
  std::string CurrentCluster() {
    auto id = kafka::ClusterId({{"bootstrap.servers", h_.Config().brokers}}, seconds(10));
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id ? *id : std::string();
  }
  // An operator decision about t[0], written as `walrus position` writes it (one MULTI): the
  // position, the hold key deleted, the decision (naming the hold it lifted), the cluster id.
  void Decide(int64_t pos, const std::string& cluster) {
    auto c = R().Connect();
    ASSERT_TRUE(c.ok());
    const std::string hold = Get("walrus:hold:t:0");
    (*c)->Append({"MULTI"});
    (*c)->Append({"SET", "walrus:pos:t:0", std::to_string(pos)});
    (*c)->Append({"DEL", "walrus:hold:t:0"});
    (*c)->Append({"XADD", "walrus:decisions", "*", "topic", "t", "partition", "0", "action",
                  "reset-to", "new_position", std::to_string(pos), "hold",
                  hold == "<nil>" ? "" : hold});
    (*c)->Append({"SET", "walrus:kafka-cluster-id:t:0", cluster});
    (*c)->Append({"EXEC"});
    auto r = (*c)->ReadReplies(6);
    ASSERT_TRUE(r.ok() && !(*r)[5].IsNil() && !(*r)[5].IsError());
  }
  bool Gauge(prometheus::Family<prometheus::Gauge>& f, prometheus::Labels l) {
    return f.Has(l);
  }
  const prometheus::Labels kT0{{"topic", "t"}, {"partition", "0"}};
  const prometheus::Labels kClusterChanged{
      {"topic", "t"}, {"partition", "0"}, {"reason", "cluster_changed"}};
  ApplierHarness h_;
};

TEST_F(ApplierLogBoundsTest, PositionBeyondTheLogIsHeldAcrossResyncsUntilDecided) {
  h_.Produce(std::vector<std::string>(5, R"({"cmd":"INCR","key":"c"})"), "c");
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:pos:t:0", "100"}), "OK");
  h_.Start(h_.Config(), R().endpoint());

  ASSERT_TRUE(WaitFor([&] { return Get("walrus:hold:t:0") != "<nil>"; }, seconds(30)));
  auto [ready, why] = h_.applier().Ready();
  EXPECT_FALSE(ready);
  EXPECT_NE(why.find("t[0] held: stored position 100 beyond log end 5 by 95"), std::string::npos)
      << why;
  EXPECT_NE(Get("walrus:hold:t:0").find(R"("reason":"beyond_end")"), std::string::npos);

  // A reconnect re-reads positions and holds: still held, nothing applied.
  const double reconnects = h_.probe().redis_reconnects.Value();
  h_.locator().Set(R().endpoint());
  ASSERT_TRUE(WaitFor([&] { return h_.probe().redis_reconnects.Value() > reconnects; },
                      seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return !h_.applier().Ready().first; }, seconds(10)));
  EXPECT_EQ(Get("c"), "<nil>");
  EXPECT_EQ(Get("walrus:pos:t:0"), "100");
  EXPECT_EQ(h_.probe().duplicates.Value(), 0);
  EXPECT_EQ(h_.probe().applied.Value(), 0);

  // The operator's decision, as `walrus position --reset-to-log-start` writes it.
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:pos:t:0", "0"}), "OK");
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"DEL", "walrus:hold:t:0"}), "1");
  ASSERT_TRUE(h_.WaitPosition(R(), "5"));
  EXPECT_EQ(Get("c"), "5");
  EXPECT_TRUE(WaitFor([&] { return h_.applier().Ready().first; }, seconds(10)));
  EXPECT_EQ(h_.probe().duplicates.Value(), 0);
  EXPECT_EQ(h_.probe().hold_releases.Value(), 1);
}

// A decision about another partition (as the per-topic cluster id of the first version let it)
// must not re-base this one: t[0]'s own record says its position 2 is of another cluster, inside
// the new log of 5. Held (no lag published), and its gauge goes once decided.
TEST_F(ApplierLogBoundsTest, ClusterIdIsPerPartition) {
  h_.Produce(std::vector<std::string>(5, R"({"cmd":"INCR","key":"c"})"), "c");
  const std::string cluster = CurrentCluster();
  ASSERT_FALSE(cluster.empty());
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:pos:t:0", "2"}), "OK");
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:kafka-cluster-id:t", cluster}), "OK");
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:kafka-cluster-id:t:0", "old-cluster"}), "OK");
  h_.Start(h_.Config(), R().endpoint());

  ASSERT_TRUE(WaitFor([&] { return Get("walrus:hold:t:0") != "<nil>"; }, seconds(30)))
      << "t[0] was not held; c=" << Get("c");
  EXPECT_NE(Get("walrus:hold:t:0").find(R"("reason":"cluster_changed")"), std::string::npos);
  EXPECT_NE(h_.applier().Ready().second.find("positions stored for cluster 'old-cluster'"),
            std::string::npos)
      << h_.applier().Ready().second;
  EXPECT_TRUE(Gauge(h_.probe().held, kClusterChanged));
  // Its position is not in this log: no lag is published for it (UpdateLag sets the position
  // gauge first, in the same pass).
  ASSERT_TRUE(WaitFor([&] { return Gauge(h_.probe().position, kT0); }, seconds(10)));
  EXPECT_FALSE(Gauge(h_.probe().lag, kT0));
  EXPECT_EQ(Get("c"), "<nil>");

  Decide(0, cluster);
  ASSERT_TRUE(h_.WaitPosition(R(), "5"));
  EXPECT_EQ(Get("c"), "5");
  EXPECT_TRUE(WaitFor([&] { return h_.applier().Ready().first; }, seconds(10)));
  EXPECT_FALSE(Gauge(h_.probe().held, kClusterChanged));
  EXPECT_TRUE(WaitFor([&] { return Gauge(h_.probe().lag, kT0); }, seconds(10)));
}

// A hold key lost (an unreplicated SET in a Redis failover) is no decision: the position is
// still the held one and no decision names the hold. Written again, not released -- the
// position 2 lies inside the log, releasing would apply from it. A real decision keeping the
// same position does release it.
TEST_F(ApplierLogBoundsTest, LostHoldKeyIsWrittenAgainNotTakenForADecision) {
  h_.Produce(std::vector<std::string>(5, R"({"cmd":"INCR","key":"c"})"), "c");
  const std::string cluster = CurrentCluster();
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:pos:t:0", "2"}), "OK");
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:kafka-cluster-id:t:0", "old-cluster"}), "OK");
  h_.Start(h_.Config(), R().endpoint());
  ASSERT_TRUE(WaitFor([&] { return Get("walrus:hold:t:0") != "<nil>"; }, seconds(30)));
  const std::string hold = Get("walrus:hold:t:0");

  ASSERT_EQ(ApplierHarness::Cmd(R(), {"DEL", "walrus:hold:t:0"}), "1");
  ASSERT_TRUE(WaitFor([&] { return Get("walrus:hold:t:0") != "<nil>"; }, seconds(30)))
      << "released; c=" << Get("c");
  EXPECT_EQ(Get("walrus:hold:t:0"), hold);
  EXPECT_EQ(h_.probe().lost_holds.Value(), 1);
  EXPECT_EQ(h_.probe().hold_releases.Value(), 0);
  EXPECT_FALSE(h_.applier().Ready().first);
  EXPECT_EQ(Get("c"), "<nil>");

  Decide(2, cluster);  // keeps the position: the operator knows records [0, 2) were applied
  ASSERT_TRUE(h_.WaitPosition(R(), "5"));
  EXPECT_EQ(Get("c"), "3");
  EXPECT_EQ(h_.probe().hold_releases.Value(), 1);
  EXPECT_EQ(Get("walrus:hold:t:0"), "<nil>");
}

// The applier writes a hold only while the position is still the one it judged: a decision
// landing between its read of the position and its hold write (here during the watermark query,
// slowed by an 800 ms broker round trip) is not undone by a hold.
TEST_F(ApplierLogBoundsTest, HoldIsNotWrittenOverADecisionMadeMeanwhile) {
  h_.Produce(std::vector<std::string>(5, R"({"cmd":"INCR","key":"c"})"), "c");
  const std::string cluster = CurrentCluster();
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:pos:t:0", "100"}), "OK");
  // Cluster ids known (also under the first version's per-topic key): nothing is written
  // between the read of the position and the hold.
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:kafka-cluster-id:t:0", cluster}), "OK");
  ASSERT_EQ(ApplierHarness::Cmd(R(), {"SET", "walrus:kafka-cluster-id:t", cluster}), "OK");
  ASSERT_TRUE(h_.cluster().SetBrokerRtt(1, 800));
  h_.Start(h_.Config(), R().endpoint());
  auto c = R().Connect();
  ASSERT_TRUE(c.ok());
  // The applier's last command is the MGET reading the position (then its holds): the check
  // against the log is under way.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = (*c)->Command({"CLIENT", "LIST"});
        return r.ok() && r->str().find("cmd=mget") != std::string::npos;
      },
      seconds(60)));
  Decide(0, cluster);
  ASSERT_TRUE(h_.cluster().SetBrokerRtt(1, 0));
  ASSERT_TRUE(h_.WaitPosition(R(), "5")) << "hold " << Get("walrus:hold:t:0");
  EXPECT_EQ(Get("c"), "5");
  EXPECT_EQ(Get("walrus:hold:t:0"), "<nil>");
  // No hold at all: the decision came first (not a hold, then a release by a later recheck).
  EXPECT_EQ(h_.probe().Holds("beyond_end").Value(), 0);
  EXPECT_EQ(h_.probe().hold_releases.Value(), 0);
}

// A fetch out of range on a partition with no stored position (here: injected on the first
// fetch) goes back where --start-from says (earliest), not to -1 = the log end.
TEST_F(ApplierLogBoundsTest, OutOfRangeFetchWithoutAPositionRestartsAtTheLogStart) {
  h_.Produce(std::vector<std::string>(5, R"({"cmd":"INCR","key":"c"})"), "c");
  h_.cluster().FailNextFetches(1, 1);  // OFFSET_OUT_OF_RANGE
  h_.Start(h_.Config(), R().endpoint());
  ASSERT_TRUE(WaitFor([&] { return h_.probe().fetch_out_of_range.Value() >= 1; }, seconds(30)));
  ASSERT_TRUE(h_.WaitPosition(R(), "5")) << "position " << Get("walrus:pos:t:0");
  EXPECT_EQ(Get("c"), "5");
  EXPECT_EQ(Get("walrus:hold:t:0"), "<nil>");
}

// --start-from latest with auto.offset.reset=error: on a first start over a non-empty log, only
// records produced after the start are applied. Records are produced one by one until one is
// applied, so the check does not depend on when the seek to the end resolved.
TEST_F(ApplierLogBoundsTest, StartFromLatestAppliesOnlyNewRecords) {
  h_.Produce(std::vector<std::string>(5, R"({"cmd":"INCR","key":"old"})"), "old");
  ApplyConfig cfg = h_.Config();
  cfg.start_from = StartFrom::kLatest;
  h_.Start(cfg, R().endpoint());
  int produced = 0;
  bool applied = false;
  while (produced < 30 && !applied) {
    h_.Produce({R"({"cmd":"INCR","key":"c"})"}, "c");
    ++produced;
    applied = WaitFor([&] { return Get("walrus:pos:t:0") != "<nil>"; }, seconds(2));
  }
  ASSERT_TRUE(applied);
  // Records produced before the seek to the end resolved are skipped too (they were there at
  // the start); the 5 old ones never are applied.
  ASSERT_TRUE(h_.WaitPosition(R(), std::to_string(5 + produced)));
  EXPECT_EQ(Get("old"), "<nil>");
  const int64_t c = std::stoll(Get("c"));
  EXPECT_GE(c, 1);
  EXPECT_LE(c, produced);
  EXPECT_EQ(h_.probe().fetch_out_of_range.Value(), 0);
}

TEST_F(ApplierLogBoundsTest, EagerAssignorIsRefusedAtStartUp) {
  ApplyConfig cfg = h_.Config();
  cfg.kafka_props.emplace_back("partition.assignment.strategy", "range");
  try {
    h_.Start(cfg, R().endpoint());
    FAIL() << "started with partition.assignment.strategy=range";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs cooperative-sticky"), std::string::npos)
        << e.what();
  }
}

TEST_F(ApplierLogBoundsTest, AutomaticOffsetResetIsRefusedAtStartUp) {
  ApplyConfig cfg = h_.Config();
  cfg.kafka_props.emplace_back("auto.offset.reset", "earliest");
  try {
    h_.Start(cfg, R().endpoint());
    FAIL() << "started with auto.offset.reset=earliest";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("never resets offsets automatically"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace walrus::apply::test
