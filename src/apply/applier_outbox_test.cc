// Component tests of the applier's dead-letter outbox handling on the in-process mock Kafka and a
// real redis-server (ApplierHarness):
//  * an apply script that aborts part way in a committed transaction stops the applier (readiness
//    false naming the offsets) and never dead-letters the records after the abort point. Before,
//    every record of the run became a dead letter (the first one had been applied: a double; the
//    last one never ran: lost);
//  * a failing outbox drain is its own state (readiness "draining the dead-letter outbox: ...",
//    walrus_apply_outbox_drain_failures_total, retried) and keeps the Redis connection. Before,
//    it dropped Redis: endless reconnects reported as "no Redis primary reachable".

#include <gtest/gtest.h>

#include "apply/applier_test_util.h"
#include "apply/outbox.h"

namespace walrus::apply {
namespace {

using std::chrono::seconds;
using test::ApplierHarness;
using test::WaitFor;

class ApplierOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.Init()); }
  std::string Get(std::string_view key) { return ApplierHarness::Get(h_.redis(0), key); }
  std::string Cmd(std::initializer_list<std::string_view> argv) {
    return ApplierHarness::Cmd(h_.redis(0), argv);
  }
  ApplierHarness h_;
};

TEST_F(ApplierOutboxTest, AbortedApplyScriptStopsTheApplierWithoutDeadLetters) {
  h_.Produce({R"({"cmd":"INCR","key":"c"})"}, "c");
  h_.Start(h_.Config(), h_.redis(0).endpoint());
  ASSERT_TRUE(ApplierHarness::WaitPosition(h_.redis(0), "1"));
  // The outbox key overwritten with a string: the rejected record's HSET raises in the script.
  Cmd({"SET", OutboxKey("t", 0), "not a hash"});
  Cmd({"SET", "s", "abc"});
  h_.Produce({R"({"cmd":"INCR","key":"c"})"}, "c");
  h_.Produce({R"({"cmd":"INCR","key":"s"})"}, "s");
  h_.Produce({R"({"cmd":"INCR","key":"c"})"}, "c");
  std::string reason;
  ASSERT_TRUE(WaitFor(
      [&] {
        reason = h_.applier().Ready().second;
        return reason.rfind("stopped: records", 0) == 0;
      },
      seconds(30)))
      << reason;
  // Offset 2 (and 3 if it was in the same run) is named; both may be in one batch or not.
  EXPECT_NE(reason.find("topic=t partition=0 offsets 2"), std::string::npos) << reason;
  EXPECT_FALSE(h_.applier().Ready().first);
  EXPECT_EQ(h_.probe().halted.Value(), 1);
  // Offset 1 applied. Offset 3: never ran if it was in the aborted run; if it was the next
  // batch, pipelined behind the aborted one's EXEC, it ran (once) and is not named.
  const std::string c = Get("c");
  if (reason.find("offsets 2,3") != std::string::npos) {
    EXPECT_EQ(c, "2");
  } else {
    EXPECT_TRUE(c == "2" || c == "3") << c;
  }
  EXPECT_EQ(h_.probe().Dlq("rejected").Value(), 0);  // no record is a dead letter
  // It stays stopped: later records are not applied.
  h_.Produce({R"({"cmd":"INCR","key":"c"})"}, "c");
  EXPECT_FALSE(WaitFor([&] { return Get("c") != c; }, seconds(2)));
  EXPECT_TRUE(h_.applier().Healthy().first);
}

TEST_F(ApplierOutboxTest, FailingDrainIsReportedAndRetriedWithoutDroppingRedis) {
  // HGETALL of a string: WRONGTYPE, the drain fails until the key is repaired.
  Cmd({"SET", OutboxKey("t", 0), "not a hash"});
  h_.Produce({R"({"cmd":"INCR","key":"c"})"}, "c");
  h_.Start(h_.Config(), h_.redis(0).endpoint());
  ASSERT_TRUE(WaitFor([&] { return h_.probe().outbox_drain_failures.Value() >= 2; }, seconds(30)));
  auto [ready, reason] = h_.applier().Ready();
  EXPECT_FALSE(ready);
  EXPECT_EQ(reason.rfind("draining the dead-letter outbox: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("WRONGTYPE"), std::string::npos) << reason;
  EXPECT_EQ(h_.probe().redis_reconnects.Value(), 1);  // connected once, never dropped
  EXPECT_EQ(Get("c"), "<nil>");                       // nothing applied meanwhile
  Cmd({"DEL", OutboxKey("t", 0)});
  ASSERT_TRUE(ApplierHarness::WaitPosition(h_.redis(0), "1"));
  EXPECT_EQ(Get("c"), "1");
  EXPECT_TRUE(WaitFor([&] { return h_.applier().Ready().first; }, seconds(10)))
      << h_.applier().Ready().second;
  EXPECT_EQ(h_.probe().redis_reconnects.Value(), 1);
}

}  // namespace
}  // namespace walrus::apply
