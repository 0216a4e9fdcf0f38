// Component tests of the dead-letter outbox (outbox.h) against a real redis-server: records
// Redis rejects at EXEC time and records refused before Redis get their outbox entries in the
// SAME transaction as the effects and positions (plain mode: the apply script; crdt mode: the
// merge script), nothing when the transaction is fenced, and entries are deleted with a later
// transaction. Today's code wrote no outbox at all: a rejection was known only from the EXEC
// reply, and a crash before the DLQ ack lost it.

#include <gtest/gtest.h>

#include <map>

#include "apply/outbox.h"
#include "apply/partition_state.h"
#include "apply/tx_runner.h"
#include "core/hlc.h"
#include "core/sha1.h"
#include "core/write_planner.h"
#include "crdt/crdt_planner.h"
#include "testing/redis_server.h"

namespace walrus::apply {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto srv = test::RedisServer::Start();
    ASSERT_TRUE(srv) << srv.error().message;
    server_ = std::move(*srv);
    auto c = server_->Connect();
    ASSERT_TRUE(c) << c.error().message;
    conn_ = std::move(*c);
    for (int i = 0; i < 2; ++i) {
      parts_[i].topic = "t";
      parts_[i].partition = i;
      parts_[i].pos_key = PositionKey("t", i);
    }
    std::vector<Argv> prelude;
    for (auto& body : planner_.Scripts()) prelude.push_back({"SCRIPT", "LOAD", body});
    prelude.push_back({"SCRIPT", "LOAD", ApplyScript()});
    tx_.set_prelude(prelude);
    tx_.set_guard(Transaction::Guard::kApplyScript, Sha1Hex(planner_.Scripts().front()));
  }

  void Add(int part, int64_t offset, std::vector<Op> ops) {
    PartitionState* ps = &parts_[part];
    tx_.Touch(ps, expected_[part], offset);
    tx_.BeginRecord(ps, static_cast<size_t>(offset), offset);
    Write w;
    w.multi = ops.size() > 1;
    w.ops = std::move(ops);
    ASSERT_TRUE(planner_.Plan(w, 1000, tx_.commands()));
    tx_.EndRecord();
  }

  std::string Get(const std::string& key) {
    auto r = conn_->Command({"GET", key});
    EXPECT_TRUE(r);
    return r->IsNil() ? "<nil>" : std::string(r->str());
  }

  // field -> value of an outbox hash
  std::map<std::string, std::string> Outbox(int part) {
    std::map<std::string, std::string> out;
    auto r = conn_->Command({"HGETALL", OutboxKey("t", part)});
    EXPECT_TRUE(r);
    for (size_t i = 0; i + 1 < r->size(); i += 2) {
      out.emplace(std::string(r->element(i).str()), std::string(r->element(i + 1).str()));
    }
    return out;
  }

  std::unique_ptr<test::RedisServer> server_;
  std::unique_ptr<redis::Connection> conn_;
  PlainPlanner planner_;
  PartitionState parts_[2];
  int64_t expected_[2] = {-1, -1};
  Transaction tx_;
  EpochFence epoch_;
};

Op MakeOp(std::string cmd, std::string key, std::vector<std::string> args = {}) {
  return Op{std::move(cmd), std::move(key), std::move(args), {}, {}};
}

TEST_F(OutboxTest, ExecTimeRejectionsAndRefusalsAreWrittenWithTheEffects) {
  ASSERT_TRUE(conn_->Command({"HSET", "h", "f", "v"}));
  ASSERT_TRUE(conn_->Command({"SET", "s", "abc"}));
  Add(0, 0, {MakeOp("INCRBY", "c", {"1"})});
  Add(0, 1, {MakeOp("INCR", "h")});                      // WRONGTYPE at exec time
  Add(1, 0, {MakeOp("SET", "plain", {"x"})});             // native: cannot fail
  Add(0, 2, {MakeOp("INCRBY", "c", {"2"})});
  Add(1, 1, {MakeOp("INCR", "s")});                      // not an integer
  Add(0, 3, {MakeOp("HSET", "h", {"g", "w"})});          // another command shape, succeeds
  Add(0, 4, {MakeOp("INCRBY", "c", {"4"}), MakeOp("RPUSH", "h", {"x"})});  // multi, 2nd fails
  tx_.Touch(&parts_[0], -1, 5);
  tx_.Refuse(&parts_[0], 5, 5, "decode", "not JSON");
  Add(0, 6, {MakeOp("INCRBY", "c", {"8"})});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;

  EXPECT_EQ(Get("c"), "11");  // 1 + 2 + 8: the multi's INCRBY 4 was rolled back
  EXPECT_EQ(Get("plain"), "x");
  EXPECT_EQ(Get("walrus:pos:t:0"), "7");
  EXPECT_EQ(Get("walrus:pos:t:1"), "2");
  std::map<int64_t, std::string> failed;
  for (const auto& rec : tx_.records()) {
    if (rec.failed) {
      EXPECT_TRUE(rec.outboxed) << rec.offset;
      failed[rec.part->partition * 100 + rec.offset] = rec.error;
    }
  }
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_NE(failed[1].find("WRONGTYPE"), std::string::npos) << failed[1];
  EXPECT_NE(failed[101].find("not an integer"), std::string::npos) << failed[101];
  EXPECT_NE(failed[4].find("rolled back"), std::string::npos) << failed[4];

  auto ob0 = Outbox(0);
  ASSERT_EQ(ob0.size(), 3u);
  for (const char* f : {"1", "4", "5"}) {
    ASSERT_TRUE(ob0.count(f)) << f;
    auto e = DecodeOutboxEntry(f, ob0[f]);
    ASSERT_TRUE(e) << ob0[f];
    EXPECT_EQ(e->wall_ms, tx_.wall_ms());
  }
  EXPECT_EQ(DecodeOutboxEntry("1", ob0["1"])->category, "rejected");
  EXPECT_NE(DecodeOutboxEntry("1", ob0["1"])->reason.find("WRONGTYPE"), std::string::npos);
  EXPECT_EQ(DecodeOutboxEntry("5", ob0["5"])->category, "decode");
  EXPECT_EQ(DecodeOutboxEntry("5", ob0["5"])->reason, "not JSON");
  auto ob1 = Outbox(1);
  ASSERT_EQ(ob1.size(), 1u);
  EXPECT_NE(ob1["1"].find("not an integer"), std::string::npos);

  // The next transaction deletes the entries once their dead letters are acknowledged.
  tx_.Clear();
  expected_[0] = 7;
  Add(0, 7, {MakeOp("INCRBY", "c", {"16"})});
  for (const char* f : {"1", "4", "5"}) tx_.ClearOutbox(OutboxKey("t", 0), std::stoll(f));
  tx_.ClearOutbox(OutboxKey("t", 1), 1);
  r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("c"), "27");
  EXPECT_TRUE(Outbox(0).empty());
  EXPECT_TRUE(Outbox(1).empty());
}

TEST_F(OutboxTest, AFencedTransactionWritesNoOutbox) {
  ASSERT_TRUE(conn_->Command({"HSET", "h", "f", "v"}));
  ASSERT_TRUE(conn_->Command({"SET", "walrus:pos:t:0", "10"}));
  expected_[0] = 5;  // Redis says 10
  Add(0, 5, {MakeOp("INCR", "h")});
  tx_.Touch(&parts_[0], 5, 6);
  tx_.Refuse(&parts_[0], 6, 6, "refused", "FLUSHALL is not allowed");
  EXPECT_EQ(RunTransaction(*conn_, tx_, epoch_).outcome, TxOutcome::kConflict);
  EXPECT_TRUE(Outbox(0).empty());
}

TEST_F(OutboxTest, ErrorsRedisWouldRaiseAtQueueTimeAreDeadLettersOfTheScript) {
  Add(0, 0, {MakeOp("INCRBY", "c", {"1"})});
  tx_.Touch(&parts_[0], -1, 1);
  tx_.BeginRecord(&parts_[0], 1, 1);
  tx_.commands().push_back({"DEL"});  // no key: wrong number of arguments
  tx_.EndRecord();
  tx_.Touch(&parts_[0], -1, 2);
  tx_.BeginRecord(&parts_[0], 2, 2);
  tx_.commands().push_back({"SET", "k", "v", "EX"});  // syntax error
  tx_.EndRecord();
  Add(0, 3, {MakeOp("INCRBY", "c", {"2"})});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;  // no EXECABORT: one round
  EXPECT_EQ(Get("c"), "3");
  EXPECT_EQ(Get("k"), "<nil>");
  auto ob = Outbox(0);
  EXPECT_EQ(ob.size(), 2u);
  EXPECT_TRUE(ob.count("1"));
  EXPECT_TRUE(ob.count("2"));
}

TEST_F(OutboxTest, UnguardedQueueRejectionRetriesWithTheRefusalInTheOutbox) {
  tx_.set_guard(Transaction::Guard::kNone);
  tx_.Touch(&parts_[0], -1, 0);
  tx_.BeginRecord(&parts_[0], 0, 0);
  tx_.commands().push_back({"SET", "x", "1"});
  tx_.EndRecord();
  tx_.Touch(&parts_[0], -1, 1);
  tx_.BeginRecord(&parts_[0], 1, 1);
  tx_.commands().push_back({"SET"});  // wrong number of arguments: rejected when queued
  tx_.EndRecord();
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kQueueRejected) << r.detail;
  tx_.DropFailedCommands();
  ASSERT_EQ(tx_.refusals().size(), 1u);
  r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("x"), "1");
  auto ob = Outbox(0);
  ASSERT_EQ(ob.size(), 1u);
  EXPECT_EQ(DecodeOutboxEntry("1", ob["1"])->category, "rejected");
}

TEST_F(OutboxTest, CrdtMergeScriptWritesItsOwnOutboxEntry) {
  crdt::CrdtPlanner planner;
  std::vector<Argv> prelude;
  for (auto& body : planner.Scripts()) prelude.push_back({"SCRIPT", "LOAD", body});
  Transaction tx;
  tx.set_prelude(prelude);
  tx.set_guard(Transaction::Guard::kMergeScript);
  auto add = [&](int64_t offset, Op op) {
    Write w;
    w.ops.push_back(std::move(op));
    w.origin = "us";
    w.hlc = EncodeHlc(Hlc{1700000000000 + offset, 0});
    tx.Touch(&parts_[0], -1, offset);
    tx.BeginRecord(&parts_[0], static_cast<size_t>(offset), offset);
    ASSERT_TRUE(planner.Plan(w, 1700000000000, tx.commands()));
    tx.EndRecord();
  };
  ASSERT_TRUE(conn_->Command({"HSET", "outside", "f", "v"}));  // written outside walrus
  add(0, MakeOp("SET", "k", {"v"}));
  add(1, MakeOp("INCRBY", "k", {"1"}));        // family conflict: k is a register
  add(2, MakeOp("INCRBY", "n", {"5"}));
  add(3, MakeOp("SADD", "outside", {"m"}));    // WRONGTYPE raised inside the merge script
  auto r = RunTransaction(*conn_, tx, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("k"), "v");
  EXPECT_EQ(Get("n"), "5");
  EXPECT_FALSE(tx.records()[0].failed);
  EXPECT_TRUE(tx.records()[1].failed);
  EXPECT_TRUE(tx.records()[3].failed);
  auto ob = Outbox(0);
  ASSERT_EQ(ob.size(), 2u) << (ob.empty() ? "" : ob.begin()->second);
  auto e1 = DecodeOutboxEntry("1", ob["1"]);
  ASSERT_TRUE(e1) << ob["1"];
  EXPECT_EQ(e1->category, "rejected");
  EXPECT_NE(e1->reason.find("WALRUS-CRDT"), std::string::npos) << e1->reason;
  EXPECT_EQ(e1->reason, tx.records()[1].error);
  auto e3 = DecodeOutboxEntry("3", ob["3"]);
  ASSERT_TRUE(e3) << ob["3"];
  EXPECT_NE(e3->reason.find("WRONGTYPE"), std::string::npos) << e3->reason;
}

// The apply script itself fails part way inside a committed EXEC: here the outbox key was
// overwritten with a string, so the HSET of the rejected record's entry raises WRONGTYPE. Before,
// the EVALSHA answered an error and every record of the run became a dead letter without an
// outbox entry although record 0 was applied and record 2 never ran (double and loss). Now the
// script answers where it stopped: record 0 ran, records 1 and 2 are aborted (never failed, never
// dead letters), and the applier stops on them (Applier::Committed).
TEST_F(OutboxTest, ScriptFailingPartWayReportsWhereItStopped) {
  ASSERT_TRUE(conn_->Command({"SET", OutboxKey("t", 0), "not a hash"}));
  ASSERT_TRUE(conn_->Command({"SET", "s", "abc"}));
  Add(0, 0, {MakeOp("INCRBY", "c", {"1"})});
  Add(0, 1, {MakeOp("INCR", "s")});  // not an integer: its outbox HSET raises WRONGTYPE
  Add(0, 2, {MakeOp("INCRBY", "c", {"2"})});
  auto r = RunTransaction(*conn_, tx_, epoch_);
  ASSERT_EQ(r.outcome, TxOutcome::kCommitted) << r.detail;
  EXPECT_EQ(Get("c"), "1");  // record 2 never ran
  ASSERT_EQ(tx_.records().size(), 3u);
  const auto& recs = tx_.records();
  EXPECT_FALSE(recs[0].failed);
  EXPECT_FALSE(recs[0].aborted);
  for (size_t i : {1u, 2u}) {
    EXPECT_TRUE(recs[i].aborted) << i;
    EXPECT_FALSE(recs[i].failed) << i;  // never a dead letter
    EXPECT_FALSE(recs[i].outboxed) << i;
    EXPECT_NE(recs[i].error.find("apply script aborted"), std::string::npos) << recs[i].error;
    EXPECT_NE(recs[i].error.find("WRONGTYPE"), std::string::npos) << recs[i].error;
  }
}

TEST(OutboxEntryTest, EncodesAndDecodes) {
  auto e = DecodeOutboxEntry("42", EncodeOutboxValue(1700000000000, "decode", "bad | json"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->offset, 42);
  EXPECT_EQ(e->wall_ms, 1700000000000);
  EXPECT_EQ(e->category, "decode");
  EXPECT_EQ(e->reason, "bad | json");
  EXPECT_FALSE(DecodeOutboxEntry("x", "1|a|b"));
  EXPECT_FALSE(DecodeOutboxEntry("1", "1|a"));
  EXPECT_TRUE(CannotFailAtExec({"SET", "k", "v"}));
  EXPECT_TRUE(CannotFailAtExec({"SET", "k", "v", "PXAT", "1"}));
  EXPECT_FALSE(CannotFailAtExec({"SET", "k", "v", "PXAT", "0"}));
  EXPECT_FALSE(CannotFailAtExec({"SET", "k", "v", "GET"}));
  EXPECT_FALSE(CannotFailAtExec({"INCR", "k"}));
  EXPECT_TRUE(CannotFailAtExec({"DEL", "k"}));
}

}  // namespace
}  // namespace walrus::apply
