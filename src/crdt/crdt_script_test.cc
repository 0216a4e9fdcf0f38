// Edge cases of the merge script, driven through CrdtPlanner into a real redis-server.
// Most cases apply a small set of records in every order (keeping each origin's order) and
// check the outcome is the same and the expected one.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "crdt/crdt_test_util.h"
#include "crdt/merge_script.h"

namespace walrus::crdt::test {
namespace {

constexpr int64_t kT = 1'800'000'000'000;  // a physical time in the future of the test run

Op O(std::string cmd, std::string key, std::vector<std::string> args = {}) {
  return Op{.cmd = std::move(cmd), .key = std::move(key), .args = std::move(args)};
}
Write W(std::string origin, int64_t ms, Op op, uint32_t logical = 0) {
  return MakeWrite(std::move(origin), Hlc{ms, logical}, {std::move(op)});
}

class CrdtScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    region_ = Region::Start();
    ASSERT_TRUE(region_);
  }

  // Type-aware rendering of a key: value (sorted for unordered types) and whether it has a TTL.
  std::string State(std::string_view key) {
    auto& r = *region_;
    std::string type = r.Cmd({"TYPE", key});
    std::string v;
    if (type == "none") return "none";
    if (type == "string") v = r.Cmd({"GET", key});
    if (type == "set") v = r.Cmd({"SORT", key, "ALPHA"});
    if (type == "zset") v = r.Cmd({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    if (type == "stream") v = r.Cmd({"XRANGE", key, "-", "+"});
    if (type == "hash") {
      auto h = r.conn->Command({"HGETALL", key});
      std::map<std::string, std::string> m;
      for (size_t i = 0; h && i + 1 < h->size(); i += 2) {
        m[std::string(h->element(i).str())] = h->element(i + 1).str();
      }
      for (auto& [f, x] : m) v += f + "=" + x + ";";
    }
    auto ttl = r.conn->Command({"PEXPIRETIME", key});
    return type + ":" + v +
           (ttl && ttl->integer() > 0 ? " ttl@" + std::to_string(ttl->integer()) : "");
  }

  // Applies `writes` in every order (each record is its own origin slot, so all orders keep
  // per-origin order when the test gives each origin one record), checks every outcome is
  // `want` for `key`, and that no script error happened.
  void AllOrders(std::vector<Write> writes, std::string_view key, std::string_view want) {
    std::vector<size_t> idx(writes.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    do {
      ASSERT_EQ(region_->Cmd({"FLUSHALL"}), "OK");
      std::string order;
      for (size_t i : idx) {
        auto errs = region_->Apply(writes[i]);
        EXPECT_TRUE(errs.empty()) << errs[0];
        order += std::to_string(i) + " ";
      }
      EXPECT_EQ(State(key), want) << "order " << order;
    } while (std::next_permutation(idx.begin(), idx.end()));
  }

  std::unique_ptr<Region> region_;
};

TEST_F(CrdtScriptTest, RegisterLastWriterWinsAndEqualHlcTieBreaksByOrigin) {
  AllOrders({W("us", kT, O("SET", "k", {"us"})), W("eu", kT, O("SET", "k", {"eu"})),
             W("ap", kT - 1, O("SET", "k", {"ap"}))},
            "k", "string:\"us\"");
}

TEST_F(CrdtScriptTest, TombstoneBeatsLateOlderSetButNotANewerOne) {
  AllOrders({W("us", kT + 20, O("DEL", "k")), W("eu", kT + 10, O("SET", "k", {"old"}))}, "k",
            "none");
  AllOrders({W("us", kT + 20, O("DEL", "k")), W("eu", kT + 30, O("SET", "k", {"new"}))}, "k",
            "string:\"new\"");
}

TEST_F(CrdtScriptTest, DuplicateDeliveriesAreIgnored) {
  auto incr = W("us", kT, O("INCRBY", "c", {"5"}));
  auto sadd = W("us", kT + 1, O("SADD", "s", {"a"}));
  auto srem = W("eu", kT + 2, O("SREM", "s", {"a"}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(region_->Apply({incr, sadd, srem}).empty());
  }
  EXPECT_EQ(State("c"), "string:\"5\"");
  EXPECT_EQ(State("s"), "none");
}

TEST_F(CrdtScriptTest, CounterSumsOriginsAndDelResetsOnlyOlderIncrements) {
  AllOrders({W("us", kT + 1, O("INCRBY", "c", {"5"})), W("eu", kT + 2, O("DEL", "c")),
             W("ap", kT + 3, O("DECRBY", "c", {"2"})), W("ap2", kT + 4, O("INCR", "c"))},
            "c", "string:\"-1\"");
}

TEST_F(CrdtScriptTest, ExpiryIsLastWriterWinsAgainstPersist) {
  Op set = O("SET", "k", {"v"});
  set.ttl_ms = 3'600'000;
  AllOrders({W("us", kT, set), W("eu", kT + 5, O("PERSIST", "k"))}, "k", "string:\"v\"");
  AllOrders({W("us", kT + 5, set), W("eu", kT, O("PERSIST", "k"))}, "k",
            "string:\"v\" ttl@" + std::to_string(kT + 5 + 3'600'000));
  AllOrders({W("us", kT, set), W("eu", kT + 5, O("PERSIST", "k")),
             W("ap", kT + 9, O("PEXPIRE", "k", {"1000"}))},
            "k", "string:\"v\" ttl@" + std::to_string(kT + 9 + 1000));
}

TEST_F(CrdtScriptTest, ZincrbyAfterZremCountsOnlyNewerIncrements) {
  AllOrders({W("us", kT + 1, O("ZADD", "z", {"5", "m"})), W("eu", kT + 2, O("ZREM", "z", {"m"})),
             W("ap", kT + 3, O("ZINCRBY", "z", {"3", "m"})),
             W("ap2", kT + 1, O("ZINCRBY", "z", {"100", "m"}), 1)},
            "z", "zset:[\"m\", \"3\"]");
  AllOrders({W("us", kT + 1, O("ZADD", "z", {"1.5", "m"})),
             W("eu", kT + 2, O("ZINCRBY", "z", {"0.1", "m"})),
             W("ap", kT + 3, O("ZINCRBY", "z", {"0.2", "m"}))},
            "z", "zset:[\"m\", \"1.8\"]");
}

TEST_F(CrdtScriptTest, SetIsPerMemberLastWriterWins) {
  AllOrders({W("us", kT + 1, O("SADD", "s", {"a", "b"})), W("eu", kT + 2, O("SREM", "s", {"a"})),
             W("ap", kT + 3, O("SADD", "s", {"c"})), W("ap2", kT, O("SADD", "s", {"a"}))},
            "s", "set:[\"b\", \"c\"]");
}

TEST_F(CrdtScriptTest, HashFieldsLwwAndHincrbyCounter) {
  AllOrders({W("us", kT + 1, O("HSET", "h", {"a", "1", "b", "x"})),
             W("eu", kT + 2, O("HINCRBY", "h", {"a", "10"})),
             W("ap", kT + 3, O("HDEL", "h", {"b"})), W("ap2", kT, O("HINCRBY", "h", {"a", "7"}))},
            "h", "hash:a=11;");
  AllOrders({W("us", kT + 1, O("HSET", "h", {"a", "1"})), W("eu", kT + 2, O("DEL", "h")),
             W("ap", kT + 3, O("HINCRBY", "h", {"a", "4"}))},
            "h", "hash:a=4;");
}

TEST_F(CrdtScriptTest, StreamEntriesLandInStampOrderWhateverTheArrivalOrder) {
  const std::string id1 = CrdtPlanner::StreamId({kT + 1, 0}, 0, "us");
  const std::string id2 = CrdtPlanner::StreamId({kT + 2, 0}, 0, "eu");
  const std::string id3 = CrdtPlanner::StreamId({kT + 3, 0}, 0, "ap");
  AllOrders({W("us", kT + 1, O("XADD", "x", {"*", "f", "1"})),
             W("eu", kT + 2, O("XADD", "x", {"*", "f", "2"})),
             W("ap", kT + 3, O("XADD", "x", {"*", "f", "3"}))},
            "x",
            "stream:[[\"" + id1 + "\", [\"f\", \"1\"]], [\"" + id2 + "\", [\"f\", \"2\"]], [\"" +
                id3 + "\", [\"f\", \"3\"]]]");
  AllOrders({W("us", kT + 1, O("XADD", "x", {"*", "f", "1"})), W("eu", kT + 2, O("DEL", "x")),
             W("ap", kT + 3, O("XADD", "x", {"*", "f", "3"}))},
            "x", "stream:[[\"" + id3 + "\", [\"f\", \"3\"]]]");
}

TEST_F(CrdtScriptTest, MixingFamiliesOnOneKeyIsRejected) {
  EXPECT_TRUE(region_->Apply(W("us", kT, O("SET", "k", {"v"}))).empty());
  auto errs = region_->Apply(W("us", kT + 1, O("SADD", "k", {"m"})));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("WALRUS-CRDT"), std::string::npos) << errs[0];
  EXPECT_EQ(State("k"), "string:\"v\"");
}

TEST_F(CrdtScriptTest, ReplayFromZeroAfterFlushallGivesTheSameState) {
  std::vector<Write> log = {W("us", kT + 1, O("SET", "r", {"a"})),
                            W("eu", kT + 2, O("INCRBY", "c", {"3"})),
                            W("ap", kT + 3, O("SADD", "s", {"x", "y"})),
                            W("us", kT + 4, O("SREM", "s", {"x"})),
                            W("eu", kT + 5, O("HSET", "h", {"f", "1"})),
                            W("ap", kT + 6, O("ZADD", "z", {"2", "m"})),
                            W("us", kT + 7, O("XADD", "x", {"*", "a", "b"})),
                            W("eu", kT + 8, O("DEL", "r"))};
  auto snapshot = [&] {
    std::string s;
    for (auto k : {"r", "c", "s", "h", "z", "x"}) {
      s += State(k) + "|" + State(SidecarKey(k)) + "|" + State(ContribKey(k)) + "\n";
    }
    return s;
  };
  EXPECT_TRUE(region_->Apply(log).empty());
  const std::string first = snapshot();
  ASSERT_EQ(region_->Cmd({"FLUSHALL"}), "OK");
  for (const auto& w : log) EXPECT_TRUE(region_->Apply(w).empty());
  EXPECT_EQ(snapshot(), first);
}

TEST_F(CrdtScriptTest, GcForgetsTombstonesAndKeepsValues) {
  EXPECT_TRUE(region_
                  ->Apply({W("us", kT + 1, O("SADD", "s", {"a", "b"})),
                           W("eu", kT + 2, O("SREM", "s", {"a"})),
                           W("us", kT + 3, O("ZINCRBY", "z", {"0.1", "m"})),
                           W("eu", kT + 4, O("ZINCRBY", "z", {"0.2", "m"}))})
                  .empty());
  const std::string zbefore = State("z");
  const std::string horizon = CrdtPlanner::Stamp({kT + 10, 0}, 0, "");
  EXPECT_TRUE(
      region_->Run({CrdtPlanner::GcCommand("s", horizon), CrdtPlanner::GcCommand("z", horizon)})
          .empty());
  EXPECT_EQ(region_->Cmd({"HEXISTS", SidecarKey("s"), "m:a"}), "(integer) 0");
  EXPECT_EQ(State("s"), "set:[\"b\"]");
  // Older ops are ignored from now on; newer ones still merge on top of the folded state.
  EXPECT_TRUE(region_
                  ->Apply({W("ap", kT + 5, O("SADD", "s", {"a"})),
                           W("ap", kT + 11, O("ZINCRBY", "z", {"1", "m"}))})
                  .empty());
  EXPECT_EQ(State("s"), "set:[\"b\"]");
  EXPECT_EQ(zbefore, "zset:[\"m\", \"0.30000000000000004\"]");
  EXPECT_EQ(State("z"), "zset:[\"m\", \"1.3\"]");
}

TEST_F(CrdtScriptTest, GcRemovesTheSidecarsOfDeadKeysOnly) {
  // Physical times in the past, so expiries fire in Redis.
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     3 * 3600 * 1000;
  Op short_ttl = O("SET", "ex", {"v"});
  short_ttl.ttl_ms = 1000;  // expired at t0 + 1 s
  Op far = O("EXPIRE", "ghost", {"1"});
  far.args = {"100000"};  // an expiry ahead (t0 + 100000 s) on a key that does not exist
  EXPECT_TRUE(region_
                  ->Apply({W("us", t0, O("SET", "d", {"v"})), W("eu", t0 + 1, O("DEL", "d")),
                           W("us", t0, O("INCR", "cnt")), W("eu", t0 + 1, O("DEL", "cnt")),
                           W("us", t0, short_ttl), W("us", t0, far),
                           W("us", t0, O("SET", "live", {"v"})),
                           W("us", t0 + 20 * 60 * 1000, O("DEL", "young"))})
                  .empty());
  const std::string horizon = CrdtPlanner::Stamp({t0 + 10 * 60 * 1000, 0}, 0, "");
  auto gc = [&](std::string_view key) {
    auto r = region_->conn->Command(CrdtPlanner::GcCommand(key, horizon));
    EXPECT_TRUE(r);
    return r->DebugString();
  };
  EXPECT_EQ(gc("d"), "(integer) 5");  // x, xi, t, e, es
  EXPECT_EQ(gc("d"), "(integer) 0");  // idempotent; nothing is recreated
  EXPECT_EQ(region_->Cmd({"EXISTS", SidecarKey("d")}), "(integer) 0");
  gc("cnt");
  EXPECT_EQ(region_->Cmd({"EXISTS", SidecarKey("cnt"), ContribKey("cnt")}), "(integer) 0");
  gc("ex");  // expired before the horizon
  EXPECT_EQ(region_->Cmd({"EXISTS", SidecarKey("ex")}), "(integer) 0");
  gc("ghost");  // its expiry is still ahead: it decides later element writes, kept
  EXPECT_EQ(region_->Cmd({"HEXISTS", SidecarKey("ghost"), "e"}), "(integer) 1");
  gc("live");  // the key exists
  EXPECT_EQ(region_->Cmd({"HEXISTS", SidecarKey("live"), "m:"}), "(integer) 1");
  gc("young");  // its tombstone is newer than the horizon
  EXPECT_EQ(region_->Cmd({"HEXISTS", SidecarKey("young"), "x"}), "(integer) 1");
  // A late SET older than the collected DEL of d applies as new (the horizon is the contract);
  // live keeps its floor and ignores an op older than the horizon.
  EXPECT_TRUE(region_->Apply({W("ap", t0 + 2, O("SET", "d", {"late"})),
                              W("ap", t0 + 2, O("SET", "live", {"late"}))})
                  .empty());
  EXPECT_EQ(State("d"), "string:\"late\"");
  EXPECT_EQ(State("live"), "string:\"v\"");
}

TEST(CrdtPlannerTest, RefusesRecordsWithoutStampsAndOpsWithoutMergeRule) {
  CrdtPlanner p{{.now_ms = [] { return kT; }}};
  std::vector<Argv> out;
  Write w = W("us", kT, O("SET", "k", {"v"}));
  w.hlc.clear();
  auto st = p.Plan(w, 0, out);
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().Is(Errc::kRefused));
  EXPECT_NE(st.error().message.find("hlc"), std::string::npos);
  for (const Op& op :
       {O("APPEND", "k", {"x"}), O("SET", "k", {"v", "NX"}), O("XADD", "k", {"1-1", "f", "v"}),
        O("LPUSH", "k", {"x"}), O("INCRBYFLOAT", "k", {"1.5"}), O("ZADD", "k", {"GT", "1", "m"}),
        O("EXPIRE", "k", {"10", "NX"})}) {
    auto r = p.Plan(W("us", kT, op), 0, out);
    EXPECT_FALSE(r) << op.cmd;
    if (!r) {
      EXPECT_TRUE(r.error().Is(Errc::kRefused)) << r.error().message;
    }
  }
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.Plan(W("us", kT, O("INCR", "k")), 0, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][0], "EVALSHA");
  EXPECT_EQ(out[0][1], MergeScriptSha1());
  EXPECT_EQ(out[0][4], "walrus:m:{k}:k");
  EXPECT_EQ(out[0][5], "walrus:c:{k}:k");
}

}  // namespace
}  // namespace walrus::crdt::test
