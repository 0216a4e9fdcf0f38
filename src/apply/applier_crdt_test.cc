// Component tests of `walrus apply --mode crdt` beyond the merge itself (a real Applier, the
// in-process mock Kafka, a real redis-server):
//  * walrus:hlc holds the highest record stamp applied, whatever the arrival order;
//  * the periodic GC sweep forgets tombstones older than the horizon and keeps newer ones, and
//    the documented trade-off: once a dead key's sidecar is collected, a record older than the
//    horizon arriving late applies as new (it resurrects), while a key that keeps its sidecar
//    ignores it.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "apply/applier_test_util.h"
#include "core/hlc.h"
#include "crdt/crdt_planner.h"
#include "crdt/merge_script.h"

namespace walrus::apply::test {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kMinuteMs = 60 * 1000;

int64_t UnixMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A crdt record of origin "us" stamped at physical time `ms`.
std::string Rec(std::string_view cmd, std::string_view key, std::vector<std::string> args,
                int64_t ms) {
  std::string a;
  for (const auto& x : args) a += (a.empty() ? "" : ",") + fmt::format("\"{}\"", x);
  return fmt::format(R"({{"cmd":"{}","key":"{}","args":[{}],"origin":"us","hlc":"{}"}})", cmd,
                     key, a, EncodeHlc(Hlc{ms, 0}));
}

class ApplierCrdtTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.Init()); }

  void Start(GcOptions gc) {
    ApplyConfig cfg = h_.Config();
    cfg.mode = Mode::kCrdt;
    cfg.gc = gc;
    h_.Start(cfg, h_.redis(0).endpoint(), std::make_unique<crdt::CrdtPlanner>());
  }
  // Produces `rec` with the Kafka timestamp of its stamp, as a producer (and a mirror) does.
  void Produce(std::string_view cmd, std::string_view key, std::vector<std::string> args,
               int64_t ms) {
    h_.Produce({Rec(cmd, key, std::move(args), ms)}, std::string(key), ms);
  }
  std::string Cmd(std::initializer_list<std::string_view> argv) {
    return ApplierHarness::Cmd(h_.redis(0), argv);
  }

  ApplierHarness h_;
};

TEST_F(ApplierCrdtTest, HighestAppliedStampIsKeptInRedis) {
  const int64_t t = UnixMs();
  Produce("SET", "a", {"1"}, t - 3000);
  Produce("SET", "b", {"1"}, t - 1000);  // the highest
  Produce("SET", "a", {"2"}, t - 2000);
  Start({.horizon = milliseconds(0)});  // GC off
  ASSERT_TRUE(h_.WaitPosition(h_.redis(0), "3"));
  EXPECT_EQ(Cmd({"GET", "walrus:hlc"}), EncodeHlc(Hlc{t - 1000, 0}));
  Produce("SET", "c", {"1"}, t - 5000);  // older: walrus:hlc stays
  Produce("INCR", "d", {}, t - 500);
  ASSERT_TRUE(h_.WaitPosition(h_.redis(0), "5"));
  EXPECT_EQ(Cmd({"GET", "walrus:hlc"}), EncodeHlc(Hlc{t - 500, 0}));
  EXPECT_EQ(h_.probe().gc_sweeps.Value(), 0);
}

TEST_F(ApplierCrdtTest, GcForgetsOldTombstonesKeepsNewOnesAndTheHorizonIsTheContract) {
  const int64_t t = UnixMs();
  const int64_t ago3h = t - 180 * kMinuteMs, ago2h = t - 120 * kMinuteMs;
  // In stamp order, as one origin's partition holds them.
  Produce("SET", "r", {"v1"}, ago3h);          // r: deleted long ago -> its sidecar goes
  Produce("SET", "keep", {"v"}, ago3h);        // a live key: its value and sidecar stay
  Produce("SADD", "s", {"a", "b"}, ago3h);     // s: member a removed long ago
  Produce("DEL", "r", {}, ago2h);
  Produce("SREM", "s", {"a"}, ago2h);
  Produce("SET", "n", {"v1"}, t - 30 * kMinuteMs);  // n: deleted recently
  Produce("DEL", "n", {}, t - 20 * kMinuteMs);
  Start({.horizon = hours(1),
         .interval = milliseconds(300),
         .keys_per_second = 100000,
         .retry = milliseconds(200)});
  ASSERT_TRUE(h_.WaitPosition(h_.redis(0), "7"));
  // Two sweeps completed after everything was applied: the second started after it.
  const double sweeps = h_.probe().gc_sweeps.Value();
  ASSERT_TRUE(WaitFor([&] { return h_.probe().gc_sweeps.Value() >= sweeps + 2; }, seconds(30)));

  EXPECT_EQ(Cmd({"EXISTS", crdt::SidecarKey("r")}), "0");  // tombstone + metadata collected
  EXPECT_EQ(Cmd({"HEXISTS", crdt::SidecarKey("s"), "m:a"}), "0");  // old member tombstone
  EXPECT_EQ(Cmd({"HEXISTS", crdt::SidecarKey("s"), "m:b"}), "1");
  EXPECT_EQ(Cmd({"SMEMBERS", "s"}), "[\"b\"]");
  EXPECT_EQ(Cmd({"HEXISTS", crdt::SidecarKey("n"), "x"}), "1");  // newer than the horizon
  EXPECT_EQ(Cmd({"GET", "keep"}), "v");
  EXPECT_EQ(Cmd({"HEXISTS", crdt::SidecarKey("keep"), "m:"}), "1");
  // m:a (1), r's x + xi (2) and its remaining t, e, es (3) at least.
  EXPECT_GE(h_.probe().gc_removed.Value(), 6);
  EXPECT_GE(h_.probe().gc_keys.Value(), 4);

  // Late records, older than the horizon (a mirror lagging more than it: outside the contract).
  const int64_t ago150m = t - 150 * kMinuteMs;
  Produce("SET", "r", {"zombie"}, ago150m);  // older than r's collected DEL: resurrects
  Produce("SADD", "s", {"a"}, ago150m);      // s keeps its sidecar: below its GC floor, ignored
  Produce("SET", "n", {"late"}, t - 25 * kMinuteMs);  // older than n's kept tombstone
  ASSERT_TRUE(h_.WaitPosition(h_.redis(0), "10"));
  EXPECT_EQ(Cmd({"GET", "r"}), "zombie");
  EXPECT_EQ(Cmd({"SMEMBERS", "s"}), "[\"b\"]");
  EXPECT_EQ(Cmd({"GET", "n"}), "<nil>");
  EXPECT_EQ(Cmd({"GET", "walrus:hlc"}), EncodeHlc(Hlc{t - 20 * kMinuteMs, 0}));
}

}  // namespace
}  // namespace walrus::apply::test
