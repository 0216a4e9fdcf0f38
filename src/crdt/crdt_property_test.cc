// Property test of active-active convergence: random ops from 3 origins (all families, hot keys
// with real conflicts, TTLs, multis) are fed through CrdtPlanner into 3 real redis-servers, each
// in its own random interleaving that keeps every origin's order, with random duplicate
// deliveries, in MULTI/EXEC batches like the applier. Then the verifier must find the three
// datasets identical (values, expiries and sidecars), counters must equal the exact model sums
// and registers the max-stamp write.
//
// WALRUS_CRDT_SEED=<n> reproduces a run; WALRUS_CRDT_OPS=<n> changes its size (default 100000).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>

#include "crdt/crdt_test_util.h"
#include "verify/verifier.h"

namespace walrus::crdt::test {
namespace {

constexpr int kOrigins = 3;
const char* const kOriginNames[kOrigins] = {"us", "eu", "ap"};

uint64_t EnvOr(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

// What the register and counter keys must hold, computed from the ops alone.
struct Model {
  struct Reg {
    std::string stamp;
    std::optional<std::string> value;
  };
  struct Counter {
    std::string cleared;  // stamp of the newest DEL
    std::vector<std::pair<std::string, int64_t>> deltas;
  };
  std::map<std::string, Reg> regs;
  std::map<std::string, Counter> counters;

  void Set(const std::string& k, const std::string& stamp, std::optional<std::string> v) {
    Reg& r = regs[k];
    if (r.stamp < stamp) r = Reg{stamp, std::move(v)};
  }
  std::optional<int64_t> Sum(const std::string& k) const {
    const Counter& c = counters.at(k);
    int64_t sum = 0;
    bool any = false;
    for (auto& [s, d] : c.deltas) {
      if (s > c.cleared) {
        sum += d;
        any = true;
      }
    }
    return any ? std::optional<int64_t>(sum) : std::nullopt;
  }
};

// Generates the records of all origins with HLC clocks over a simulated wall clock.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {
    // Real time, so that the TTLs (hours) do not expire during the test.
    now_ = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
    for (int o = 0; o < kOrigins; ++o) {
      skew_[o] = Uniform(-5, 5);
      clocks_.push_back(std::make_unique<HybridClock>(HybridClockOptions{
          .origin = kOriginNames[o], .max_drift_ms = 1'000'000, .now_ms = [this, o] {
            return now_ + skew_[o];
          }}));
      EXPECT_TRUE(clocks_.back()->Init());
    }
  }

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  // Hot keys: most ops hit the first few keys of a pool.
  std::string Key(const char* pool, int n) {
    const int i =
        Chance(0.7) ? static_cast<int>(Uniform(0, 2)) : static_cast<int>(Uniform(0, n - 1));
    return std::string(pool) + std::to_string(i);
  }
  std::string Member(int n) { return "m" + std::to_string(Uniform(0, n - 1)); }

  Op Next(int origin, size_t seq) {
    const std::string tag = std::string(kOriginNames[origin]) + std::to_string(seq);
    const int64_t f = Uniform(0, 99);
    Op op;
    if (f < 15) {  // register
      op.key = Key("reg", 12);
      if (Chance(0.1)) {
        op.cmd = "DEL";
      } else {
        op.cmd = "SET";
        op.args = {"v-" + tag};
        if (Chance(0.2)) op.ttl_ms = Uniform(3'600'000, 7'200'000);
      }
    } else if (f < 32) {  // counter
      op.key = Key("cnt", 10);
      const int64_t g = Uniform(0, 99);
      if (g < 2) {
        op.cmd = "DEL";
      } else if (g < 30) {
        op.cmd = "INCR";
      } else if (g < 40) {
        op.cmd = "DECR";
      } else if (g < 80) {
        op.cmd = "INCRBY";
        op.args = {std::to_string(Uniform(-1000, 1000))};
      } else {
        op.cmd = "DECRBY";
        op.args = {std::to_string(Uniform(-1000, 1000))};
      }
    } else if (f < 47) {  // set
      op.key = Key("set", 10);
      const int64_t g = Uniform(0, 99);
      if (g < 2) {
        op.cmd = "DEL";
      } else {
        op.cmd = g < 60 ? "SADD" : "SREM";
        for (int i = 0, n = static_cast<int>(Uniform(1, 3)); i < n; ++i) {
          op.args.push_back(Member(12));
        }
        if (op.cmd == "SADD" && Chance(0.05)) op.ttl_ms = Uniform(3'600'000, 7'200'000);
      }
    } else if (f < 62) {  // sorted set
      op.key = Key("zset", 10);
      const int64_t g = Uniform(0, 99);
      if (g < 2) {
        op.cmd = "DEL";
      } else if (g < 45) {
        op.cmd = "ZADD";
        op.args = {std::to_string(Uniform(-50, 50)) + ".25", Member(10)};
      } else if (g < 65) {
        op.cmd = "ZREM";
        op.args = {Member(10)};
      } else {
        op.cmd = "ZINCRBY";
        op.args = {Chance(0.5) ? "0.1" : std::to_string(Uniform(-5, 5)), Member(10)};
      }
    } else if (f < 80) {  // hash
      op.key = Key("hash", 10);
      const int64_t g = Uniform(0, 99);
      if (g < 2) {
        op.cmd = "DEL";
      } else if (g < 45) {
        op.cmd = "HSET";
        for (int i = 0, n = static_cast<int>(Uniform(1, 2)); i < n; ++i) {
          op.args.push_back("f" + std::to_string(Uniform(0, 7)));
          op.args.push_back(Chance(0.5) ? std::to_string(Uniform(0, 99)) : "s-" + tag);
        }
      } else if (g < 65) {
        op.cmd = "HDEL";
        op.args = {"f" + std::to_string(Uniform(0, 7))};
      } else {
        op.cmd = "HINCRBY";
        op.args = {"f" + std::to_string(Uniform(0, 7)), std::to_string(Uniform(-9, 9))};
      }
    } else if (f < 92) {  // stream
      op.key = Key("strm", 6);
      if (Chance(0.01)) {
        op.cmd = "DEL";
      } else {
        op.cmd = "XADD";
        op.args = {"*", "by", tag};
      }
    } else {  // expiry on any key
      static const char* const kPools[] = {"reg", "set", "zset", "hash", "cnt", "strm"};
      op.key = Key(kPools[Uniform(0, 5)], 6);
      if (Chance(0.4)) {
        op.cmd = "PERSIST";
      } else {
        op.cmd = "PEXPIRE";
        op.args = {std::to_string(Uniform(3'600'000, 7'200'000))};
      }
    }
    return op;
  }

  // The next record of `origin`; sometimes a multi of two ops on keys sharing a hash tag.
  Write Record(int origin, size_t seq, Model& model) {
    now_ += Uniform(0, 1);
    // Producers sometimes observe another region's newest stamp (causality across regions).
    if (Chance(0.3)) {
      const int other = static_cast<int>(Uniform(0, kOrigins - 1));
      EXPECT_TRUE(clocks_[origin]->ObserveHlc(clocks_[other]->Last()));
    }
    std::vector<Op> ops;
    if (Chance(0.03)) {
      const std::string t = "{t" + std::to_string(Uniform(0, 3)) + "}";
      ops.push_back(Op{.cmd = "SET", .key = t + "reg", .args = {"mv" + std::to_string(seq)}});
      ops.push_back(Op{.cmd = "INCRBY", .key = t + "cnt", .args = {"7"}});
    } else {
      ops.push_back(Next(origin, seq));
    }
    auto h = clocks_[origin]->TickHlc();
    EXPECT_TRUE(h);
    for (size_t i = 0; i < ops.size(); ++i) Record(ops[i], *h, i, kOriginNames[origin], model);
    return MakeWrite(kOriginNames[origin], *h, std::move(ops));
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  static void Record(const Op& op, const Hlc& h, size_t i, const char* origin, Model& m) {
    const std::string s = CrdtPlanner::Stamp(h, i, origin);
    const bool reg = op.key.find("reg") != std::string::npos;
    const bool cnt = op.key.find("cnt") != std::string::npos;
    if (reg && op.cmd == "SET") m.Set(op.key, s, op.args[0]);
    if (reg && op.cmd == "DEL") m.Set(op.key, s, std::nullopt);
    if (cnt) {
      auto& c = m.counters[op.key];
      if (op.cmd == "DEL") c.cleared = std::max(c.cleared, s);
      int64_t d = 0;
      if (op.cmd == "INCR") d = 1;
      if (op.cmd == "DECR") d = -1;
      if (op.cmd == "INCRBY") d = std::stoll(op.args[0]);
      if (op.cmd == "DECRBY") d = -std::stoll(op.args[0]);
      if (op.cmd != "DEL" && op.cmd != "PERSIST" && op.cmd != "PEXPIRE") c.deltas.push_back({s, d});
    }
  }

  std::mt19937_64 rng_;
  int64_t now_;
  int64_t skew_[kOrigins];
  std::vector<std::unique_ptr<HybridClock>> clocks_;
};

TEST(CrdtPropertyTest, ThreeRegionsConvergeWhateverTheDeliveryOrder) {
  const uint64_t seed = EnvOr("WALRUS_CRDT_SEED", std::random_device{}());
  const size_t total = EnvOr("WALRUS_CRDT_OPS", 100000);
  SCOPED_TRACE("reproduce with WALRUS_CRDT_SEED=" + std::to_string(seed));
  std::cerr << "crdt property test: seed " << seed << ", " << total << " records\n";

  Generator gen(seed);
  Model model;
  std::vector<Write> log[kOrigins];
  for (size_t n = 0; n < total; ++n) {
    const int o = static_cast<int>(gen.Uniform(0, kOrigins - 1));
    log[o].push_back(gen.Record(o, log[o].size(), model));
  }

  std::vector<std::unique_ptr<Region>> regions;
  for (int r = 0; r < 3; ++r) {
    regions.push_back(Region::Start());
    ASSERT_TRUE(regions.back());
  }
  size_t dups = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto lap = [&](const char* what) {
    auto t = std::chrono::steady_clock::now();
    std::cerr << "crdt property test: " << what << " in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count() << " ms\n";
    t0 = t;
  };
  for (auto& region : regions) {
    size_t next[kOrigins] = {0, 0, 0};
    std::vector<const Write*> delivered;
    std::vector<Write> batch;
    size_t batch_size = static_cast<size_t>(gen.Uniform(1, 256));
    size_t errors = 0;
    std::string first_error;
    auto flush = [&] {
      for (auto& e : region->Apply(batch)) {
        if (errors++ == 0) first_error = e;
      }
      batch.clear();
      batch_size = static_cast<size_t>(gen.Uniform(1, 256));
    };
    for (size_t left = total; left > 0;) {
      // Origins progress at different, varying speeds: pick one that has records left.
      int o;
      do {
        o = static_cast<int>(gen.Uniform(0, kOrigins - 1));
      } while (next[o] == log[o].size());
      const int burst = static_cast<int>(gen.Uniform(1, 40));
      for (int b = 0; b < burst && next[o] < log[o].size(); ++b, --left) {
        const Write* w = &log[o][next[o]++];
        batch.push_back(*w);
        delivered.push_back(w);
        if (gen.Chance(0.02)) {  // a mirror redelivers something it already sent
          batch.push_back(*delivered[static_cast<size_t>(
              gen.Uniform(0, static_cast<int64_t>(delivered.size()) - 1))]);
          ++dups;
        }
        if (batch.size() >= batch_size) flush();
      }
    }
    if (!batch.empty()) flush();
    EXPECT_EQ(errors, 0u) << first_error;
    lap("region applied");
  }
  std::cerr << "crdt property test: " << dups << " duplicate deliveries\n";

  verify::VerifyOptions vo;
  for (auto& r : regions) vo.urls.push_back(r->server->url());
  vo.ttl_tolerance_ms = 0;
  auto rep = verify::Verify(vo);
  ASSERT_TRUE(rep) << rep.error().message;
  lap("verified");
  std::string diffs;
  for (auto& d : rep->diffs) diffs += "\n  " + d;
  EXPECT_EQ(rep->differing, 0u) << diffs;
  EXPECT_GT(rep->keys, 100u);
  EXPECT_GT(rep->sidecars, 50u);

  auto& r0 = *regions[0];
  for (auto& [k, c] : model.counters) {
    auto want = model.Sum(k);
    EXPECT_EQ(r0.Cmd({"GET", k}), want ? "\"" + std::to_string(*want) + "\"" : "(nil)") << k;
  }
  for (auto& [k, reg] : model.regs) {
    EXPECT_EQ(r0.Cmd({"GET", k}), reg.value ? "\"" + *reg.value + "\"" : "(nil)") << k;
  }
  if (HasFailure()) std::cerr << "crdt property test FAILED with WALRUS_CRDT_SEED=" << seed << "\n";
}

}  // namespace
}  // namespace walrus::crdt::test
