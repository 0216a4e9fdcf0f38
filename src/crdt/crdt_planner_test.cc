// CrdtPlanner's clock-skew guard: a stamp far ahead of the applier's clock is refused.

#include "crdt/crdt_planner.h"

#include <gtest/gtest.h>

#include <string>

namespace walrus::crdt {
namespace {

constexpr int64_t kNow = 1'764'000'000'000;  // the applier's (injected) wall clock

Write SetAt(int64_t physical_ms) {
  Write w;
  w.origin = "us";
  w.hlc = EncodeHlc(Hlc{physical_ms, 0});
  w.ops.push_back(Op{.cmd = "SET", .key = "k", .args = {"v"}});
  return w;
}

TEST(CrdtPlannerSkewTest, DefaultIsTheProducersDriftGuard) {
  EXPECT_EQ(CrdtPlannerOptions{}.max_clock_skew_ms, HybridClockOptions{}.max_drift_ms);
}

TEST(CrdtPlannerSkewTest, RefusesAStampBeyondTheGuardWithBothTimes) {
  CrdtPlanner p({.now_ms = [] { return kNow; }});
  std::vector<Argv> out;
  const int64_t far = kNow + 365LL * 24 * 3600 * 1000;  // a year ahead: would win every conflict
  auto st = p.Plan(SetAt(far), kNow, out);
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kRefused));
  const std::string& m = st.error().message;
  EXPECT_NE(m.find(std::to_string(far)), std::string::npos) << m;
  EXPECT_NE(m.find(std::to_string(kNow)), std::string::npos) << m;
  EXPECT_NE(m.find("ahead of this applier's clock"), std::string::npos) << m;
  EXPECT_TRUE(out.empty());

  EXPECT_FALSE(p.Plan(SetAt(kNow + 60'001), kNow, out));
  EXPECT_TRUE(out.empty());
  // At the guard, behind, or a little ahead: accepted.
  for (int64_t t : {kNow + 60'000, kNow + 5'000, kNow, kNow - 3'600'000}) {
    out.clear();
    EXPECT_TRUE(p.Plan(SetAt(t), kNow, out)) << t;
    EXPECT_EQ(out.size(), 1u);
  }
}

TEST(CrdtPlannerSkewTest, GuardIsConfigurableAndFollowsTheClock) {
  int64_t now = kNow;
  CrdtPlanner p({.max_clock_skew_ms = 5'000, .now_ms = [&now] { return now; }});
  std::vector<Argv> out;
  EXPECT_FALSE(p.Plan(SetAt(kNow + 10'000), kNow, out));
  now += 6'000;  // the same stamp, later: within 5 s now
  EXPECT_TRUE(p.Plan(SetAt(kNow + 10'000), kNow, out));
  // A multi is refused as a whole.
  Write multi = SetAt(kNow + 60'000);
  multi.multi = true;
  multi.ops.push_back(Op{.cmd = "INCRBY", .key = "c", .args = {"1"}});
  out.clear();
  EXPECT_FALSE(p.Plan(multi, kNow, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace walrus::crdt
