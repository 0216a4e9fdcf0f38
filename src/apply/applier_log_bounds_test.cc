// Component test of the PartitionGuard inside a real Applier (docs/log-gaps.md): an in-process
// mock Kafka cluster and a real redis-server.
//
// The Redis holds position 100 for t[0] while the log has 5 records (a replaced cluster): the
// partition is held (hold key, /readyz reason with both numbers, metrics), nothing is applied or
// counted as duplicate, also across a Redis reconnect (resync); once the hold is lifted as
// `walrus position --reset-to-log-start` does, the 5 records apply exactly once.

#include "apply/applier_test_util.h"

namespace walrus::apply::test {
namespace {

using std::chrono::seconds;

class ApplierLogBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.Init(1)); }
  walrus::test::RedisServer& R() { return h_.redis(0); }
  std::string Get(std::string_view key) { return ApplierHarness::Get(R(), key); }
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
