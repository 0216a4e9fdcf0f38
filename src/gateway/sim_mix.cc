#include "gateway/sim_mix.h"

#include <fmt/format.h>

#include <chrono>
#include <iterator>
#include <stdexcept>

namespace walrus::gateway {
namespace {

constexpr std::array<SimKind, kSimKinds> kKinds = {
    SimKind::kPurchase, SimKind::kCartAdd, SimKind::kCartDrop,
    SimKind::kVipJoin,  SimKind::kRestock, SimKind::kInventoryRace};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view SimKindName(SimKind k) {
  switch (k) {
    case SimKind::kPurchase: return "purchase";
    case SimKind::kCartAdd: return "cart_add";
    case SimKind::kCartDrop: return "cart_drop";
    case SimKind::kVipJoin: return "vip_join";
    case SimKind::kRestock: return "restock";
    case SimKind::kInventoryRace: return "inventory_race";
  }
  return "?";
}

int SimKindWeight(SimKind k) {
  switch (k) {
    case SimKind::kPurchase: return 35;
    case SimKind::kCartAdd: return 25;
    case SimKind::kCartDrop: return 15;
    case SimKind::kVipJoin: return 5;
    case SimKind::kRestock: return 10;
    case SimKind::kInventoryRace: return 10;
  }
  return 0;
}

SimMix::SimMix(Options opts) : opts_(std::move(opts)), rng_(opts_.seed) {
  if (opts_.regions.empty()) throw std::invalid_argument("SimMix needs at least one region");
  if (opts_.skus < 1 || opts_.users < 1) throw std::invalid_argument("SimMix: skus, users >= 1");
  carts_.resize(static_cast<size_t>(opts_.users));
}

std::string SimMix::Sku(int i) const { return fmt::format("sku{:02d}", i); }
std::string SimMix::User(int i) const {
  static constexpr std::array<std::string_view, 10> kNames = {
      "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"};
  return fmt::format("{}{}", kNames[static_cast<size_t>(i) % kNames.size()], i / 10);
}

int SimMix::Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

const std::string& SimMix::RandomRegion() {
  return opts_.regions[static_cast<size_t>(Uniform(0, static_cast<int>(opts_.regions.size()) - 1))];
}

SimOp SimMix::One(std::string region, std::string cmd, std::string key,
                  std::vector<std::string> args) {
  SimOp op{.region = std::move(region)};
  op.write.ops.push_back(Op{.cmd = std::move(cmd), .key = std::move(key), .args = std::move(args)});
  return op;
}

SimStep SimMix::Next() {
  int pick = Uniform(0, 99);
  for (SimKind k : kKinds) {
    if (pick < SimKindWeight(k)) return Make(k);
    pick -= SimKindWeight(k);
  }
  return Make(SimKind::kPurchase);
}

SimStep SimMix::Make(SimKind kind) {
  SimStep step{.kind = kind};
  const int sku_i = Uniform(0, opts_.skus - 1);
  const int user_i = Uniform(0, opts_.users - 1);
  const std::string sku = Sku(sku_i);
  const std::string user = User(user_i);
  const std::string tag = "{" + sku + "}";
  switch (kind) {
    case SimKind::kPurchase: {
      const std::string& region = RandomRegion();
      const std::string qty = std::to_string(Uniform(1, 3));
      SimOp multi{.region = region};
      multi.write.multi = true;
      multi.write.ops.push_back(Op{.cmd = "DECRBY", .key = "stock:" + tag, .args = {qty}});
      multi.write.ops.push_back(Op{.cmd = "INCRBY", .key = "sold:" + tag, .args = {qty}});
      multi.write.ops.push_back(Op{.cmd = "SADD", .key = "buyers:" + tag, .args = {user}});
      step.ops.push_back(std::move(multi));
      step.ops.push_back(One(region, "SET", "last-order:" + user,
                             {fmt::format("o-{}-{}-{}", region, ++orders_, sku)}));
      carts_[static_cast<size_t>(user_i)].erase(sku_i);
      break;
    }
    case SimKind::kCartAdd:
      step.ops.push_back(One(RandomRegion(), "SADD", "cart:" + user, {sku}));
      carts_[static_cast<size_t>(user_i)].insert(sku_i);
      break;
    case SimKind::kCartDrop: {
      auto& cart = carts_[static_cast<size_t>(user_i)];
      if (cart.empty()) return Make(SimKind::kCartAdd);
      auto it = cart.begin();
      std::advance(it, Uniform(0, static_cast<int>(cart.size()) - 1));
      step.ops.push_back(One(RandomRegion(), "SREM", "cart:" + user, {Sku(*it)}));
      cart.erase(it);
      break;
    }
    case SimKind::kVipJoin: {
      const std::string& region = RandomRegion();
      step.ops.push_back(One(region, "ZADD", "vip", {std::to_string(Uniform(100, 999)), user}));
      step.ops.push_back(One(region, "HSET", "profile:" + user,
                             {"tier", "vip", "since", std::to_string(NowMs())}));
      break;
    }
    case SimKind::kRestock:
      step.ops.push_back(
          One(RandomRegion(), "INCRBY", "stock:" + tag, {std::to_string(Uniform(10, 50))}));
      break;
    case SimKind::kInventoryRace:
      for (const auto& region : opts_.regions) {
        step.ops.push_back(One(region, "DECRBY", "stock:" + tag, {"1"}));
      }
      break;
  }
  return step;
}

std::vector<SimStep> SimMix::InitialStock() {
  std::vector<SimStep> steps;
  for (int i = 0; i < opts_.skus; ++i) {
    SimStep s{.kind = SimKind::kRestock};
    s.ops.push_back(One(opts_.regions[static_cast<size_t>(i) % opts_.regions.size()], "INCRBY",
                        "stock:{" + Sku(i) + "}", {std::to_string(opts_.initial_stock)}));
    steps.push_back(std::move(s));
  }
  return steps;
}

}  // namespace walrus::gateway
