// Component tests of RunTransaction against a real redis-server: the position fence, queue-time
// and exec-time rejections mapped back to records, WATCH fencing of a second writer, and the
// leader epoch fence (walrus:epoch).

#include "apply/tx_runner.h"

#include <gtest/gtest.h>

#include "apply/partition_state.h"
#include "core/write_planner.h"
#include "testing/redis_server.h"

namespace walrus::apply {
namespace {

class TxRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto srv = test::RedisServer::Start();
    ASSERT_TRUE(srv) << srv.error().message;
    server_ = std::move(*srv);
    auto c = server_->Connect();
    ASSERT_TRUE(c) << c.error().message;
    conn_ = std::move(*c);
    part_.topic = "t";
    part_.partition = 3;
    part_.pos_key = PositionKey("t", 3);
  }

  // Adds a record at `offset` with the given commands.
  void AddRecord(int64_t expected, int64_t offset, std::vector<Argv> cmds) {
    tx_.Touch(&part_, expected, offset);
    tx_.BeginRecord(&part_, static_cast<size_t>(offset), offset);
    for (auto& c : cmds) tx_.commands().push_back(std::move(c));
    tx_.EndRecord();
  }

  std::string Get(const std::string& key) {
    auto r = conn_->Command({"GET", key});
    EXPECT_TRUE(r);
    return r->IsNil() ? "<nil>" : std::string(r->str());
  }

  std::unique_ptr<test::RedisServer> server_;
  std::unique_ptr<redis::Connection> conn_;
  PartitionState part_;
  Transaction tx_;
  EpochFence epoch_;
};

TEST_F(TxRunnerTest, CommitsEffectsAndPositionTogether) {
  AddRecord(-1, 0, {{"SET", "a", "1"}});
  AddRecord(-1, 1, {{"INCRBY", "c", "5"}, {"INCRBY", "c", "2"}});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("c"), "7");
  EXPECT_EQ(Get("walrus:pos:t:3"), "2");
}

TEST_F(TxRunnerTest, PositionMismatchIsAConflictAndAppliesNothing) {
  ASSERT_TRUE(conn_->Command({"SET", "walrus:pos:t:3", "10"}));
  AddRecord(5, 5, {{"INCR", "c"}});  // we believe the position is 5; Redis says 10
  auto r = RunTransaction(*conn_, tx_, epoch_);
  EXPECT_EQ(r.outcome, TxOutcome::kConflict);
  EXPECT_NE(r.detail.find("expected 5"), std::string::npos) << r.detail;
  EXPECT_EQ(Get("c"), "<nil>");
  EXPECT_EQ(Get("walrus:pos:t:3"), "10");
}

TEST_F(TxRunnerTest, ExecTimeErrorMarksOnlyThatRecord) {
  ASSERT_TRUE(conn_->Command({"HSET", "h", "f", "v"}));
  AddRecord(-1, 0, {{"INCR", "h"}});  // WRONGTYPE at exec time
  AddRecord(-1, 1, {{"SET", "ok", "yes"}});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  ASSERT_EQ(tx_.records().size(), 2u);
  EXPECT_TRUE(tx_.records()[0].failed);
  EXPECT_NE(tx_.records()[0].error.find("WRONGTYPE"), std::string::npos);
  EXPECT_FALSE(tx_.records()[1].failed);
  EXPECT_EQ(Get("ok"), "yes");
  EXPECT_EQ(Get("walrus:pos:t:3"), "2");
}

TEST_F(TxRunnerTest, QueueTimeErrorAbortsThenRetryWithoutTheRecordCommits) {
  AddRecord(-1, 0, {{"SET", "x", "1"}});
  AddRecord(-1, 1, {{"SET"}});  // wrong number of arguments: rejected when queued
  AddRecord(-1, 2, {{"SET", "y", "2"}});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kQueueRejected) << r.detail;
  EXPECT_TRUE(tx_.records()[1].failed);
  EXPECT_EQ(Get("x"), "<nil>");  // EXECABORT: nothing applied
  tx_.DropFailedCommands();
  r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("x"), "1");
  EXPECT_EQ(Get("y"), "2");
  EXPECT_EQ(Get("walrus:pos:t:3"), "3");
}

TEST_F(TxRunnerTest, SecondWriterWithSameExpectationIsFenced) {
  // Two appliers both believe they own partition 3 at position -1 (nothing stored).
  auto other = server_->Connect();
  ASSERT_TRUE(other);
  Transaction tx2;
  PartitionState part2 = part_;
  tx2.Touch(&part2, -1, 0);
  tx2.BeginRecord(&part2, 0, 0);
  tx2.commands().push_back({"INCR", "counter"});
  tx2.EndRecord();
  AddRecord(-1, 0, {{"INCR", "counter"}});
  ASSERT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kCommitted);
  EXPECT_EQ(RunTransaction(**other, tx2, epoch_).outcome, TxOutcome::kConflict);
  EXPECT_EQ(Get("counter"), "1");
}

TEST_F(TxRunnerTest, MultiRecordIsAllOrNothing) {
  PlainPlanner planner;
  std::vector<Argv> prelude;
  for (auto& body : planner.Scripts()) prelude.push_back({"SCRIPT", "LOAD", body});
  tx_.set_prelude(prelude);
  ASSERT_TRUE(conn_->Command({"HSET", "orders:{s1}", "f", "v"}));  // wrong type for RPUSH
  ASSERT_TRUE(conn_->Command({"SET", "stock:{s1}", "10"}));
  ASSERT_TRUE(conn_->Command({"PEXPIREAT", "stock:{s1}", "4102444800000"}));
  Write bad;
  bad.multi = true;
  bad.ops.push_back({"DECRBY", "stock:{s1}", {"1"}, {}, {}});
  bad.ops.push_back({"RPUSH", "orders:{s1}", {"o-1"}, {}, {}});
  Write good;
  good.multi = true;
  good.ops.push_back({"DECRBY", "stock:{s1}", {"2"}, {}, {}});
  good.ops.push_back({"SET", "last:{s1}", {"o-2"}, 60000, {}});
  tx_.Touch(&part_, -1, 0);
  tx_.BeginRecord(&part_, 0, 0);
  ASSERT_TRUE(planner.Plan(bad, 1000, tx_.commands()));
  tx_.EndRecord();
  tx_.Touch(&part_, -1, 1);
  tx_.BeginRecord(&part_, 1, 1);
  ASSERT_TRUE(planner.Plan(good, 4102444700000, tx_.commands()));
  tx_.EndRecord();
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_TRUE(tx_.records()[0].failed);
  EXPECT_NE(tx_.records()[0].error.find("rolled back"), std::string::npos) << tx_.records()[0].error;
  EXPECT_FALSE(tx_.records()[1].failed) << tx_.records()[1].error;
  EXPECT_EQ(Get("stock:{s1}"), "8");  // only the good record's DECRBY 2
  EXPECT_EQ(Get("last:{s1}"), "o-2");
  auto at = conn_->Command({"PEXPIRETIME", "stock:{s1}"});
  ASSERT_TRUE(at);
  EXPECT_EQ(at->integer(), 4102444800000);  // the rollback kept the absolute expiry
  auto at2 = conn_->Command({"PEXPIRETIME", "last:{s1}"});
  EXPECT_EQ(at2->integer(), 4102444760000);  // ttl_ms: absolute from the record timestamp
  EXPECT_EQ(Get("walrus:pos:t:3"), "2");
}

TEST_F(TxRunnerTest, ReadOnlyReplicaIsTransient) {
  test::RedisServerOptions opts;
  opts.args = {"--replicaof", "127.0.0.1", std::to_string(server_->port())};
  auto replica = test::RedisServer::Start(opts);
  ASSERT_TRUE(replica) << replica.error().message;
  auto c = (*replica)->Connect();
  ASSERT_TRUE(c);
  AddRecord(-1, 0, {{"SET", "a", "1"}});
  auto r = RunTransaction(**c, tx_, epoch_);
  EXPECT_EQ(r.outcome, TxOutcome::kRetry) << r.detail;
}

TEST_F(TxRunnerTest, DeadConnectionIsBroken) {
  AddRecord(-1, 0, {{"SET", "a", "1"}});
  server_->Kill9();
  auto r = RunTransaction(*conn_, tx_, epoch_);
  EXPECT_EQ(r.outcome, TxOutcome::kBroken);
}

TEST_F(TxRunnerTest, OlderOrMissingEpochIsRefusedAndWritesNothing) {
  ASSERT_TRUE(conn_->Command({"SET", "walrus:epoch", "5"}));
  AddRecord(-1, 0, {{"SET", "a", "1"}});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(epoch_.newest(), 5);

  // The same applier meets a Redis of an older election: refused, nothing written.
  ASSERT_TRUE(conn_->Command({"SET", "walrus:epoch", "3"}));
  tx_.Clear();
  AddRecord(1, 1, {{"SET", "b", "1"}});
  r = RunTransaction(*conn_, tx_, epoch_);
  EXPECT_EQ(r.outcome, TxOutcome::kStaleEpoch);
  EXPECT_NE(r.detail.find("older than epoch 5"), std::string::npos) << r.detail;
  EXPECT_EQ(Get("b"), "<nil>");
  EXPECT_EQ(Get("walrus:pos:t:3"), "1");
  EXPECT_EQ(epoch_.newest(), 5);

  ASSERT_TRUE(conn_->Command({"DEL", "walrus:epoch"}));
  r = RunTransaction(*conn_, tx_, epoch_);
  EXPECT_EQ(r.outcome, TxOutcome::kStaleEpoch);
  EXPECT_NE(r.detail.find("missing"), std::string::npos) << r.detail;
  ASSERT_TRUE(conn_->Command({"SET", "walrus:epoch", "x5"}));
  EXPECT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kStaleEpoch);
  EXPECT_EQ(Get("b"), "<nil>");

  // A newer election: accepted and remembered.
  ASSERT_TRUE(conn_->Command({"SET", "walrus:epoch", "6"}));
  r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("b"), "1");
  EXPECT_EQ(epoch_.newest(), 6);
}

TEST_F(TxRunnerTest, NoEpochIsFineWhileNoneWasEverSeen) {
  AddRecord(-1, 0, {{"SET", "a", "1"}});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(epoch_.newest(), -1);
}

TEST_F(TxRunnerTest, EpochChangeBetweenFenceAndExecAbortsTheExec) {
  ASSERT_TRUE(conn_->Command({"SET", "walrus:epoch", "5"}));
  AddRecord(-1, 0, {{"INCR", "c"}});
  auto r = Fence(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  auto other = server_->Connect();
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->Command({"SET", "walrus:epoch", "7"}));  // an election meanwhile
  BeginMulti(*conn_, tx_);
  AppendCommands(*conn_, tx_, 0);
  r = FinishMulti(*conn_, tx_);
  EXPECT_EQ(r.outcome, TxOutcome::kConflict) << r.detail;
  EXPECT_EQ(Get("c"), "<nil>");
  EXPECT_EQ(Get("walrus:pos:t:3"), "<nil>");
}

TEST_F(TxRunnerTest, HighestStampIsMaxSetWithTheBatch) {
  AddRecord(-1, 0, {{"SET", "a", "1"}});
  ASSERT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kCommitted);
  EXPECT_EQ(Get("walrus:hlc"), "<nil>");  // no stamps noted (plain mode): nothing written

  tx_.Clear();
  AddRecord(1, 1, {{"SET", "a", "2"}});
  tx_.NoteStamp("018bcfe56800-0003");
  tx_.NoteStamp("018bcfe56800-0001");
  ASSERT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kCommitted);
  EXPECT_EQ(Get("walrus:hlc"), "018bcfe56800-0003");

  // A second applier sharing this Redis commits an older stamp later: the max stays.
  auto other = server_->Connect();
  ASSERT_TRUE(other);
  PartitionState part2;
  part2.topic = "u";
  part2.pos_key = PositionKey("u", 0);
  Transaction tx2;
  tx2.Touch(&part2, -1, 0);
  tx2.BeginRecord(&part2, 0, 0);
  tx2.commands().push_back({"SET", "b", "1"});
  tx2.EndRecord();
  tx2.NoteStamp("018bcfe567ff-ffff");
  ASSERT_EQ(RunTransaction(**other, tx2, epoch_).outcome, TxOutcome::kCommitted);
  EXPECT_EQ(Get("b"), "1");
  EXPECT_EQ(Get("walrus:hlc"), "018bcfe56800-0003");

  tx_.Clear();
  AddRecord(2, 2, {{"SET", "a", "3"}});
  tx_.NoteStamp("018bcfe56801-0000");
  ASSERT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kCommitted);
  EXPECT_EQ(Get("walrus:hlc"), "018bcfe56801-0000");

  // The max-set is part of the transaction: a fenced transaction does not move it.
  tx_.Clear();
  AddRecord(2, 2, {{"SET", "a", "4"}});  // stale expectation: Redis holds 3
  tx_.NoteStamp("0fffffffffff-0000");
  EXPECT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kConflict);
  EXPECT_EQ(Get("walrus:hlc"), "018bcfe56801-0000");
}

TEST(EpochFenceTest, RemembersTheNewestAndRefusesOlder) {
  EpochFence f;
  EXPECT_TRUE(f.Check(std::nullopt));
  EXPECT_TRUE(f.Check(std::string_view("12")));
  EXPECT_EQ(f.newest(), 12);
  EXPECT_TRUE(f.Check(std::string_view("12")));
  auto st = f.Check(std::string_view("9"));
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kConflict));
  EXPECT_FALSE(f.Check(std::string_view("-1")));
  EXPECT_FALSE(f.Check(std::string_view("")));
  EXPECT_FALSE(f.Check(std::nullopt));
  EXPECT_TRUE(f.Check(std::string_view("13")));
  EXPECT_EQ(f.newest(), 13);
}

}  // namespace
}  // namespace walrus::apply
