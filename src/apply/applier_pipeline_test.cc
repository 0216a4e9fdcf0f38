// Component tests of the applier's pipelining (a batch's EXEC in flight while the next batch is
// built behind it): a real Applier on the in-process mock Kafka and a real redis-server. The
// failure paths must discard the batch queued behind a failed one and resume exactly.

#include <gtest/gtest.h>

#include "apply/applier_test_util.h"

namespace walrus::apply::test {
namespace {

using std::chrono::seconds;

constexpr int kRecords = 6000;

class ApplierPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Init());
    cfg_ = h_.Config();
    cfg_.batch_max_ops = 8;  // many small transactions: the faults land mid-stream
    h_.Produce(std::vector<std::string>(kRecords, R"({"cmd":"INCR","key":"c"})"), "c");
  }
  std::string Cmd(std::initializer_list<std::string_view> argv) {
    return ApplierHarness::Cmd(h_.redis(0), argv);
  }
  int64_t Position() {
    const std::string p = Cmd({"GET", "walrus:pos:t:0"});
    return p == "<nil>" ? -1 : std::stoll(p);
  }

  ApplierHarness h_;
  ApplyConfig cfg_;
};

// The dataset goes back in time while batches are in flight (a backup restored under a running
// applier): whichever batch meets it — the one in flight (WATCH fires) or the one queued behind
// it (the position fence) — is dropped, positions are re-read and everything from the restored
// position is applied once.
TEST_F(ApplierPipelineTest, DatasetRestoredMidStreamIsReappliedExactly) {
  h_.Start(cfg_, h_.redis(0).endpoint());
  ASSERT_TRUE(WaitFor([&] { return Position() >= 200; }, seconds(30)));
  ASSERT_LT(Position(), kRecords) << "drained before the restore: make the test longer";
  auto c = h_.redis(0).Connect();
  ASSERT_TRUE(c);
  (*c)->Append({"MULTI"});
  (*c)->Append({"SET", "c", "100"});
  (*c)->Append({"SET", "walrus:pos:t:0", "100"});
  (*c)->Append({"EXEC"});
  auto replies = (*c)->ReadReplies(4);
  ASSERT_TRUE(replies);
  ASSERT_TRUE(ApplierHarness::WaitPosition(h_.redis(0), std::to_string(kRecords)));
  EXPECT_EQ(Cmd({"GET", "c"}), std::to_string(kRecords));
  EXPECT_GE(h_.probe().conflicts.Value(), 1);
}

// Redis refuses writes for a while (out of memory: queue-time errors abort the EXEC): nothing
// is skipped or doubled across the pause.
TEST_F(ApplierPipelineTest, TransientRefusalsPauseAndResumeExactly) {
  h_.Start(cfg_, h_.redis(0).endpoint());
  ASSERT_TRUE(WaitFor([&] { return Position() >= 200; }, seconds(30)));
  ASSERT_EQ(Cmd({"CONFIG", "SET", "maxmemory", "1"}), "OK");
  ASSERT_TRUE(WaitFor([&] { return h_.probe().retries.Value() >= 1; }, seconds(30)));
  const int64_t paused_at = Position();
  ASSERT_LT(paused_at, kRecords);
  ASSERT_EQ(Cmd({"CONFIG", "SET", "maxmemory", "0"}), "OK");
  ASSERT_TRUE(ApplierHarness::WaitPosition(h_.redis(0), std::to_string(kRecords)));
  EXPECT_EQ(Cmd({"GET", "c"}), std::to_string(kRecords));
}

}  // namespace
}  // namespace walrus::apply::test
