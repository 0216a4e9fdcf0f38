// Component test of the applier's leader-epoch fence (docs/ha.md, "Epoch fencing"): a real
// Applier consuming from an in-process mock Kafka cluster, two real redis-servers behind a
// locator the test switches, as `walrus elect` would move the primary.
//
// A (epoch 5) is the primary and takes 100 INCRs; the primary moves to B, which holds epoch 3
// and the data of position 60 (an old primary): the applier refuses to write there however long
// it waits, and more records keep arriving. Once B is elected (epoch 6) the applier continues
// from B's own position: the counter is exactly 150. Back to A (epoch 5 < 6): refused again.

#include "apply/applier_test_util.h"

namespace walrus::apply::test {
namespace {

using std::chrono::seconds;

class ApplierEpochTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.Init(2)); }

  walrus::test::RedisServer& A() { return h_.redis(0); }
  walrus::test::RedisServer& B() { return h_.redis(1); }
  void Produce(int n) {
    h_.Produce(std::vector<std::string>(n, R"({"cmd":"INCR","key":"c"})"), "c");
  }
  static void Set(walrus::test::RedisServer& srv, std::string_view key, std::string_view value) {
    ASSERT_EQ(ApplierHarness::Cmd(srv, {"SET", key, value}), "OK");
  }
  static std::string Get(walrus::test::RedisServer& srv, std::string_view key) {
    return ApplierHarness::Get(srv, key);
  }
  bool WaitRefusals(double n) {
    return WaitFor([&] { return h_.probe().epoch_refusals.Value() >= n; }, seconds(30));
  }

  ApplierHarness h_;
};

TEST_F(ApplierEpochTest, OlderEpochIsNeverWrittenAndANewerOneContinuesExactly) {
  Set(A(), "walrus:epoch", "5");
  // B: an old primary of epoch 3 holding the data of position 60.
  Set(B(), "walrus:epoch", "3");
  Set(B(), "c", "60");
  Set(B(), "walrus:pos:t:0", "60");
  Produce(100);
  h_.Start(h_.Config(), A().endpoint());
  ASSERT_TRUE(h_.WaitPosition(A(), "100"));
  EXPECT_EQ(Get(A(), "c"), "100");
  EXPECT_EQ(h_.probe().epoch.Value(), 5);
  EXPECT_EQ(h_.probe().epoch_refusals.Value(), 0);

  h_.locator().Set(B().endpoint());
  ASSERT_TRUE(WaitRefusals(1));
  Produce(50);
  ASSERT_TRUE(WaitRefusals(h_.probe().epoch_refusals.Value() + 3));  // kept refusing, backing off
  EXPECT_EQ(Get(B(), "c"), "60");
  EXPECT_EQ(Get(B(), "walrus:pos:t:0"), "60");
  auto ready = h_.applier().Ready();
  EXPECT_FALSE(ready.first) << ready.second;

  Set(B(), "walrus:epoch", "6");  // B is elected
  ASSERT_TRUE(h_.WaitPosition(B(), "150"));
  EXPECT_EQ(Get(B(), "c"), "150");  // records 60..149 applied once each, none skipped
  EXPECT_EQ(h_.probe().epoch.Value(), 6);

  // The deposed A (epoch 5) comes back as "primary": refused, A keeps what it had.
  const double before = h_.probe().epoch_refusals.Value();
  h_.locator().Set(A().endpoint());
  Produce(10);
  ASSERT_TRUE(WaitRefusals(before + 2));
  EXPECT_EQ(Get(A(), "walrus:pos:t:0"), "100");
  EXPECT_EQ(Get(A(), "c"), "100");
}

TEST_F(ApplierEpochTest, NoEpochAnywhereIsFine) {
  Produce(40);
  h_.Start(h_.Config(), A().endpoint());
  ASSERT_TRUE(h_.WaitPosition(A(), "40"));
  EXPECT_EQ(Get(A(), "c"), "40");
  EXPECT_EQ(h_.probe().epoch_refusals.Value(), 0);
}

}  // namespace
}  // namespace walrus::apply::test
