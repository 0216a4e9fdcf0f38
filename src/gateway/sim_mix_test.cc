#include "gateway/sim_mix.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/hlc.h"
#include "core/routing.h"
#include "crdt/crdt_planner.h"

namespace walrus::gateway {
namespace {

const std::vector<std::string> kRegions = {"us", "eu", "ap"};

std::string Family(const std::string& cmd) {
  static const std::map<std::string, std::string> kFamily = {
      {"SET", "register"}, {"INCRBY", "counter"}, {"DECRBY", "counter"}, {"SADD", "set"},
      {"SREM", "set"},     {"ZADD", "zset"},      {"HSET", "hash"}};
  auto it = kFamily.find(cmd);
  return it == kFamily.end() ? "unexpected command " + cmd : it->second;
}

TEST(SimMix, WeightsSumTo100AndNamesAreDistinct) {
  int sum = 0;
  std::set<std::string_view> names;
  for (auto k : {SimKind::kPurchase, SimKind::kCartAdd, SimKind::kCartDrop, SimKind::kVipJoin,
                 SimKind::kRestock, SimKind::kInventoryRace}) {
    sum += SimKindWeight(k);
    names.insert(SimKindName(k));
  }
  EXPECT_EQ(sum, 100);
  EXPECT_EQ(names.size(), kSimKinds);
}

// The property that matters for active-active: no key ever sees two op families, and every op
// is one `walrus apply --mode crdt` merges (CrdtPlanner accepts it once stamped).
TEST(SimMix, NeverMixesFamiliesOnAKeyAndEveryOpIsCrdtMergeable) {
  SimMix mix({.regions = kRegions, .seed = 7});
  crdt::CrdtPlanner planner;
  HybridClock clock({.origin = "us"});
  ASSERT_TRUE(clock.Init());
  std::map<std::string, std::string> family_of;
  std::map<SimKind, int> kinds;
  std::vector<SimStep> steps = mix.InitialStock();
  for (int i = 0; i < 50000; ++i) steps.push_back(mix.Next());
  for (const auto& step : steps) {
    ++kinds[step.kind];
    ASSERT_FALSE(step.ops.empty());
    for (const auto& op : step.ops) {
      ASSERT_TRUE(std::count(kRegions.begin(), kRegions.end(), op.region)) << op.region;
      EXPECT_TRUE(op.write.origin.empty() && op.write.hlc.empty());
      std::set<std::string_view> tags;
      for (const auto& o : op.write.ops) {
        const std::string f = Family(o.cmd);
        auto [it, fresh] = family_of.emplace(o.key, f);
        ASSERT_EQ(it->second, f) << "key " << o.key << " takes " << it->second << " and " << f;
        tags.insert(HashTagOrKey(o.key));
      }
      if (op.write.multi) {
        EXPECT_EQ(tags.size(), 1u) << "a multi's keys must share a hash tag";
      }
      Write stamped = op.write;
      stamped.origin = op.region;
      auto hlc = clock.Tick();
      ASSERT_TRUE(hlc);
      stamped.hlc = *hlc;
      std::vector<Argv> cmds;
      Status st = planner.Plan(stamped, 0, cmds);
      ASSERT_TRUE(st) << st.error().message << " for " << op.write.ops[0].cmd << " "
                      << op.write.ops[0].key;
    }
  }
  // Every kind occurs, roughly by its weight.
  for (auto& [k, n] : kinds) {
    if (k == SimKind::kRestock) n -= 12;  // the initial stock
    EXPECT_NEAR(n / 500.0, SimKindWeight(k), SimKindWeight(k) * 0.2 + 1.0) << SimKindName(k);
  }
  EXPECT_TRUE(family_of.count("vip"));
  EXPECT_EQ(family_of["stock:{sku00}"], "counter");
  EXPECT_EQ(family_of["cart:alice0"], "set");
}

TEST(SimMix, InventoryRaceDecrementsOneStockFromEveryRegion) {
  SimMix mix({.regions = kRegions, .seed = 3});
  SimStep s = mix.Make(SimKind::kInventoryRace);
  ASSERT_EQ(s.ops.size(), 3u);
  std::set<std::string> regions;
  for (const auto& op : s.ops) {
    regions.insert(op.region);
    ASSERT_EQ(op.write.ops.size(), 1u);
    EXPECT_EQ(op.write.ops[0].cmd, "DECRBY");
    EXPECT_EQ(op.write.ops[0].key, s.ops[0].write.ops[0].key);
    EXPECT_EQ(op.write.ops[0].key.rfind("stock:{sku", 0), 0u);
  }
  EXPECT_EQ(regions.size(), 3u);
}

TEST(SimMix, CartDropRemovesWhatWasAdded) {
  SimMix mix({.regions = {"us"}, .seed = 11, .skus = 3, .users = 1});
  SimStep first = mix.Make(SimKind::kCartDrop);  // empty cart: becomes an add
  EXPECT_EQ(first.kind, SimKind::kCartAdd);
  const std::string added = first.ops[0].write.ops[0].args[0];
  SimStep drop = mix.Make(SimKind::kCartDrop);
  EXPECT_EQ(drop.kind, SimKind::kCartDrop);
  EXPECT_EQ(drop.ops[0].write.ops[0].cmd, "SREM");
  EXPECT_EQ(drop.ops[0].write.ops[0].args[0], added);
}

TEST(SimMix, SameSeedSameTraffic) {
  SimMix a({.regions = kRegions, .seed = 99});
  SimMix b({.regions = kRegions, .seed = 99});
  for (int i = 0; i < 200; ++i) {
    SimStep x = a.Next(), y = b.Next();
    ASSERT_EQ(x.kind, y.kind);
    ASSERT_EQ(x.ops.size(), y.ops.size());
    for (size_t j = 0; j < x.ops.size(); ++j) {
      if (x.kind == SimKind::kVipJoin) continue;  // profile:since carries the wall clock
      EXPECT_EQ(x.ops[j].write, y.ops[j].write);
    }
  }
}

}  // namespace
}  // namespace walrus::gateway
