#pragma once

// SimMix: the simulator's shopping traffic as ops — which writes a step of each kind makes, on
// which keys, from which region. Pure (seeded RNG, no I/O); simulator.h paces and sends them.
//
//   SimMix mix({.regions = {"us", "eu", "ap"}, .seed = 42});
//   for (auto& step : mix.InitialStock()) send(step);   // stock:{skuNN} INCRBY 100 each
//   SimStep s = mix.Next();                              // a weighted random kind
//   for (auto& op : s.ops) producer(op.region).Send(topic(op.region), op.write, ...);
//
// Kinds and their ops (one op family per key, so `walrus apply --mode crdt` merges every op and
// never dead-letters one for mixing families):
//   purchase        multi{DECRBY stock:{sku} q, INCRBY sold:{sku} q, SADD buyers:{sku} user}
//                   + SET last-order:<user> <order id>                       (counter/set/register)
//   cart add        SADD cart:<user> sku                                       (set)
//   cart drop       SREM cart:<user> sku (a sku the sim put there; else a cart add)
//   VIP join        ZADD vip <points> user + HSET profile:<user> tier vip since <ms>  (zset/hash)
//   restock         INCRBY stock:{sku} 10..50                                  (counter)
//   inventory race  DECRBY stock:{sku} 1 from every region for one sku, sent back to back
//
// Threading: not thread-safe; the simulator's thread owns it.

#include <array>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/op.h"

namespace walrus::gateway {

enum class SimKind { kPurchase, kCartAdd, kCartDrop, kVipJoin, kRestock, kInventoryRace };
inline constexpr size_t kSimKinds = 6;

// "purchase", "cart_add", "cart_drop", "vip_join", "restock", "inventory_race".
std::string_view SimKindName(SimKind k);
// Relative weight of each kind in Next() (percent; they sum to 100).
int SimKindWeight(SimKind k);

struct SimOp {
  std::string region;
  Write write;  // no origin/hlc: the region's producer stamps them
};

struct SimStep {
  SimKind kind;
  std::vector<SimOp> ops;
};

class SimMix {
 public:
  struct Options {
    std::vector<std::string> regions;  // at least one
    uint64_t seed = 1;
    int skus = 12;
    int users = 40;
    int64_t initial_stock = 100;
  };

  explicit SimMix(Options opts);

  // A step of a kind drawn by SimKindWeight.
  SimStep Next();
  // A step of the given kind.
  SimStep Make(SimKind kind);
  // One restock of initial_stock per sku (sent once, when the simulator first starts).
  std::vector<SimStep> InitialStock();

 private:
  std::string Sku(int i) const;
  std::string User(int i) const;
  const std::string& RandomRegion();
  int Uniform(int lo, int hi);  // inclusive
  SimOp One(std::string region, std::string cmd, std::string key, std::vector<std::string> args);

  Options opts_;
  std::mt19937_64 rng_;
  std::vector<std::set<int>> carts_;  // per user: skus the sim added and has not dropped
  uint64_t orders_ = 0;
};

}  // namespace walrus::gateway
