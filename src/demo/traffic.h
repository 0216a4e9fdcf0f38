#pragma once

// Traffic: the writes a scenario makes, from chosen regions, and the exact value every counter
// it touched must end with.
//
//   ShopMix mix(seed);
//   Traffic traffic(sys);
//   RegionWrites w = {{"us", mix.Writes(200)}, {"ap", mix.Writes(200)}};
//   if (Status st = traffic.Write(w); !st) ...;    // regions concurrently, all acknowledged
//   traffic.counters().at("demo:increments");      // sum of the acknowledged deltas
//
// A write is one op or a multi in the op format, without origin/hlc: {"cmd","key","args"} or
// {"multi":[...]}. Path: with the gateway running, POST /api/produce (the gateway stamps the
// region's HLC; four keep-alive connections per region); without it, one `walrus produce --origin
// R` child per region reading JSON lines from DATA/traffic/<region>-<n>.jsonl (kept for
// inspection); it stamps origin and HLC, with its floor in DATA/hlc/produce-<region> so stamps
// keep increasing across invocations, after observing what R's applier applied.
//
// Threading: the main thread calls Traffic; on the gateway path Write runs helper threads (four
// per region) and joins them before returning.

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/result.h"
#include "demo/system.h"

namespace walrus::demo {

using RegionWrites = std::map<std::string, std::vector<nlohmann::json>>;

// The counter every scenario checks exactly: INCR'd from every region.
inline constexpr const char* kCounterKey = "demo:increments";

// Seeded generator of the demo's shop workload. Every key is under "demo:" and keeps one op
// family (counters, sets, registers, a sorted set, hashes), so the crdt rules apply cleanly:
// purchases (multi: DECRBY demo:stock:{sku} + INCRBY demo:sold:{sku}), cart add/drop (SADD/SREM
// demo:cart:<user> with a 1 h ttl_ms), last order (SET demo:last-order:<user>), VIP points
// (ZINCRBY demo:vip), profiles (HSET demo:user:<user>), restocks (INCRBY) and INCR
// demo:increments.
class ShopMix {
 public:
  explicit ShopMix(uint64_t seed) : rng_(seed) {}
  std::vector<nlohmann::json> Writes(size_t n);
  // n purchases of one hot item (flash sale): DECRBY `stock_key` 1 + SADD demo:buyers:{flash}.
  std::vector<nlohmann::json> FlashPurchases(size_t n, const std::string& stock_key);

 private:
  std::string Pick(const std::vector<std::string>& from);
  std::mt19937_64 rng_;
  uint64_t orders_ = 0;
};

class Traffic {
 public:
  explicit Traffic(DemoSystem& sys);

  // Writes every region's writes, regions concurrently, each acknowledged by its region's
  // Kafka (or the gateway's answer). An error names the region and the reason; the counters
  // count only fully acknowledged regions.
  Status Write(const RegionWrites& writes);
  // The same, with the outcome per region (regions without writes are absent).
  std::map<std::string, Status> WriteEach(const RegionWrites& writes);
  bool via_gateway() const { return sys_.gateway().enabled; }
  // Gateway simulator (via_gateway() only): start at `rate` ops/s; stop returns "sent".
  Status SimStart(int rate);
  Result<int64_t> SimStop();

  // Expected value of every counter key written so far.
  const std::map<std::string, int64_t>& counters() const { return counters_; }
  uint64_t writes() const { return writes_; }

 private:
  std::map<std::string, Status> WriteViaProduce(const RegionWrites& writes);
  std::map<std::string, Status> WriteViaGateway(const RegionWrites& writes);
  void Tally(const std::vector<nlohmann::json>& writes);

  DemoSystem& sys_;
  std::map<std::string, int64_t> counters_;
  uint64_t writes_ = 0;
  int batch_ = 0;
};

}  // namespace walrus::demo
