// Unit tests of InflightBatch's state machine with a fake link (scripted EXEC outcomes) and a
// fake owner that records what it was told: no Redis, no Kafka.

#include "apply/inflight_batch.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace walrus::apply {
namespace {

class FakeLink final : public TxLink {
 public:
  bool connected() const override { return up; }
  TxResult ReadExec(Transaction&) override { return Next(execs, "ReadExec"); }
  TxResult Rerun(Transaction&) override { return Next(reruns, "Rerun"); }
  Status Discard() override {
    calls.push_back("Discard");
    return discard;
  }

  bool up = true;
  std::deque<TxResult> execs, reruns;
  Status discard;
  std::vector<std::string> calls;

 private:
  TxResult Next(std::deque<TxResult>& q, const char* what) {
    calls.push_back(what);
    EXPECT_FALSE(q.empty()) << what << " not scripted";
    if (q.empty()) return {TxOutcome::kBroken, "unscripted"};
    TxResult r = q.front();
    q.pop_front();
    return r;
  }
};

class FakeOwner final : public InflightBatch::Owner {
 public:
  void Committed(Transaction&, std::vector<kafka::Message>&,
                 std::chrono::steady_clock::time_point t0) override {
    calls.push_back("Committed");
    committed_t0 = t0;
  }
  void Failed(const TxResult& r, bool in_callback) override {
    calls.push_back(std::string("Failed:") + (in_callback ? "callback:" : "") + r.detail);
  }
  void Lost(const std::string& why) override { calls.push_back("Lost:" + why); }
  bool Resync() override {
    calls.push_back("Resync");
    return resync_ok;
  }
  void Cleared() override { calls.push_back("Cleared"); }

  bool resync_ok = true;
  std::chrono::steady_clock::time_point committed_t0{};
  std::vector<std::string> calls;
};

using Calls = std::vector<std::string>;

class InflightBatchTest : public ::testing::Test {
 protected:
  void StartOne() {
    Transaction tx;
    std::vector<kafka::Message> msgs;
    batch_.Start(tx, msgs, t0_);
    ASSERT_TRUE(batch_.active());
  }

  FakeLink link_;
  FakeOwner owner_;
  InflightBatch batch_{link_, owner_};
  std::chrono::steady_clock::time_point t0_{std::chrono::seconds(42)};
};

TEST_F(InflightBatchTest, NothingInFlightSettlesAtOnce) {
  EXPECT_TRUE(batch_.Settle());
  EXPECT_TRUE(batch_.SettleBehind());
  batch_.Clear();
  EXPECT_TRUE(link_.calls.empty());
  EXPECT_TRUE(owner_.calls.empty());
}

TEST_F(InflightBatchTest, CommittedThenCleared) {
  StartOne();
  link_.execs.push_back({TxOutcome::kCommitted, ""});
  EXPECT_TRUE(batch_.Settle());
  EXPECT_FALSE(batch_.active());
  EXPECT_EQ(owner_.calls, (Calls{"Committed", "Cleared"}));
  EXPECT_EQ(owner_.committed_t0, t0_);
  EXPECT_TRUE(batch_.Settle());  // settled once only
  EXPECT_EQ(link_.calls, (Calls{"ReadExec"}));
}

TEST_F(InflightBatchTest, ExecFailureClearsThenHandsTheFailureOver) {
  StartOne();
  link_.execs.push_back({TxOutcome::kBroken, "reset by peer"});
  EXPECT_FALSE(batch_.Settle());
  EXPECT_FALSE(batch_.active());
  EXPECT_EQ(owner_.calls, (Calls{"Cleared", "Failed:reset by peer"}));
}

TEST_F(InflightBatchTest, FailureInsideARebalanceCallbackSaysSo) {
  StartOne();
  link_.execs.push_back({TxOutcome::kStaleEpoch, "epoch 3 < 5"});
  EXPECT_FALSE(batch_.Settle(/*in_callback=*/true));
  EXPECT_EQ(owner_.calls, (Calls{"Cleared", "Failed:callback:epoch 3 < 5"}));
}

TEST_F(InflightBatchTest, QueueRefusalsAreDroppedAndTheRestRunAgain) {
  StartOne();
  link_.execs.push_back({TxOutcome::kQueueRejected, "EXECABORT"});
  link_.reruns.push_back({TxOutcome::kQueueRejected, "EXECABORT"});
  link_.reruns.push_back({TxOutcome::kCommitted, ""});
  EXPECT_TRUE(batch_.Settle());
  EXPECT_EQ(link_.calls, (Calls{"ReadExec", "Rerun", "Rerun"}));
  EXPECT_EQ(owner_.calls, (Calls{"Committed", "Cleared"}));
}

TEST_F(InflightBatchTest, RerunFailureIsAFailure) {
  StartOne();
  link_.execs.push_back({TxOutcome::kQueueRejected, "EXECABORT"});
  link_.reruns.push_back({TxOutcome::kConflict, "position moved"});
  EXPECT_FALSE(batch_.Settle());
  EXPECT_EQ(owner_.calls, (Calls{"Cleared", "Failed:position moved"}));
}

TEST_F(InflightBatchTest, WithoutAConnectionTheOutcomeIsUnknown) {
  StartOne();
  link_.up = false;
  EXPECT_FALSE(batch_.Settle());
  EXPECT_FALSE(batch_.active());
  EXPECT_TRUE(link_.calls.empty());
  EXPECT_EQ(owner_.calls, (Calls{"Cleared"}));  // the positions are read again on reconnect
}

TEST_F(InflightBatchTest, BehindACommittedBatchTheNextGoesOn) {
  StartOne();
  link_.execs.push_back({TxOutcome::kCommitted, ""});
  EXPECT_TRUE(batch_.SettleBehind());
  EXPECT_EQ(link_.calls, (Calls{"ReadExec"}));
  EXPECT_EQ(owner_.calls, (Calls{"Committed", "Cleared"}));
}

TEST_F(InflightBatchTest, BehindAFailedBatchTheNextIsDiscardedFirst) {
  StartOne();
  link_.execs.push_back({TxOutcome::kConflict, "WATCH fired"});
  EXPECT_FALSE(batch_.SettleBehind());
  EXPECT_EQ(link_.calls, (Calls{"ReadExec", "Discard"}));
  EXPECT_EQ(owner_.calls, (Calls{"Cleared", "Failed:WATCH fired"}));
}

TEST_F(InflightBatchTest, DiscardFailureLosesTheConnection) {
  StartOne();
  link_.execs.push_back({TxOutcome::kConflict, "WATCH fired"});
  link_.discard = Error(Errc::kIo, "reset by peer");
  EXPECT_FALSE(batch_.SettleBehind());
  EXPECT_EQ(owner_.calls, (Calls{"Lost:discarding a transaction: reset by peer"}));
}

TEST_F(InflightBatchTest, CommittedOnRetryBehindADiscardedBatchResyncs) {
  // The discarded batch was planned from positions of a batch that committed after all, without
  // the records refused at queue time: the positions are read again.
  StartOne();
  link_.execs.push_back({TxOutcome::kQueueRejected, "EXECABORT"});
  link_.reruns.push_back({TxOutcome::kCommitted, ""});
  EXPECT_FALSE(batch_.SettleBehind());
  EXPECT_EQ(link_.calls, (Calls{"ReadExec", "Discard", "Rerun"}));
  EXPECT_EQ(owner_.calls, (Calls{"Committed", "Cleared", "Resync"}));

  StartOne();
  link_.execs.push_back({TxOutcome::kQueueRejected, "EXECABORT"});
  link_.reruns.push_back({TxOutcome::kCommitted, ""});
  owner_.resync_ok = false;
  owner_.calls.clear();
  EXPECT_FALSE(batch_.SettleBehind());
  EXPECT_EQ(owner_.calls, (Calls{"Committed", "Cleared", "Resync", "Lost:resync failed"}));
}

TEST_F(InflightBatchTest, StartSwapsTheBuffers) {
  Transaction tx;
  tx.set_prelude({{"SCRIPT", "LOAD", "return 1"}});
  std::vector<kafka::Message> msgs;
  batch_.Start(tx, msgs, t0_);
  EXPECT_EQ(batch_.tx().prelude().size(), 1u);
  EXPECT_TRUE(tx.prelude().empty());  // the spare transaction came back
}

}  // namespace
}  // namespace walrus::apply
