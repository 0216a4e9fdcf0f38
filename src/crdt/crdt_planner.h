#pragma once

// CrdtPlanner: the WritePlanner of `walrus apply --mode crdt`. Every op becomes one EVALSHA of
// the merge script (merge_script.h) that merges it into the key's state with a convergent rule
// for its family (docs/active-active.md): registers and set/hash/zset members last-writer-wins
// by stamp, counters as exactly-once per-origin contributions, expiries as an absolute LWW
// attribute, stream entries at ids derived from the stamp. Applying the same records in any
// order that keeps each origin's order yields identical data everywhere.
//
//   crdt::CrdtPlanner planner;
//   std::vector<Argv> cmds;
//   Status st = planner.Plan(write, record_ts_ms, cmds);   // write.origin, write.hlc required
//   // cmds[0] == {"EVALSHA", sha, "3", key, "walrus:m:{key}:key", "walrus:c:{key}:key",
//   //               "SET", stamp, "P", "0", stream-id, value}
//
// Stamp of op i of a record: "<hlc>.<iiii>-<origin>" (hlc in core/hlc.h text form, i in 4 hex
// digits): byte order == (hlc, op index, origin). Relative expiries are anchored at the HLC's
// physical time, not at the Kafka timestamp, so a mirror that re-stamps records cannot move them.
//
// Refused (Errc::kRefused, the applier dead-letters them): records without a valid origin/hlc,
// records whose hlc is more than `max_clock_skew_ms` ahead of the applier's wall clock (else one
// producer with a fast clock, or a forged stamp, wins every future conflict of the keys it
// touches and drags every region's HLC along), commands with no convergent rule (APPEND, LPUSH, SPOP-like, *FLOAT increments, conditional
// NX/XX/GT/LT forms, XADD with explicit ids or trimming, ...).
//
// Threading: stateless apart from immutable strings; one applier thread calls Plan.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/hlc.h"
#include "core/write_planner.h"

namespace walrus::crdt {

// The producers' drift guard (HybridClockOptions::max_drift_ms): a stamp further ahead than this
// of a producer's clock is refused by its HybridClock::Observe, and of an applier's by Plan.
inline constexpr int64_t kDefaultMaxClockSkewMs = 60000;

struct CrdtPlannerOptions {
  // A record whose hlc physical time is more than this ahead of now_ms() is refused. <= 0: no
  // check (tests of merges with synthetic stamps, validation of a not-yet-stamped op only;
  // `walrus apply --max-clock-skew` always checks).
  int64_t max_clock_skew_ms = kDefaultMaxClockSkewMs;
  // The applier's wall clock in unix ms; empty: the system clock.
  std::function<int64_t()> now_ms;
};

class CrdtPlanner final : public WritePlanner {
 public:
  explicit CrdtPlanner(CrdtPlannerOptions opts = {});

  Status Plan(const Write& w, int64_t record_ts_ms, std::vector<Argv>& out) override;
  std::vector<std::string> Scripts() const override;

  // "<hlc>.<iiii>-<origin>".
  static std::string Stamp(const Hlc& h, size_t op_index, std::string_view origin);
  // The stream entry id of a stamp: "<physical ms>-<seq>", seq = logical << 48 |
  // op_index << 38 | (FNV-1a of origin) & (2^38-1). Unique per stamp up to hash collisions of
  // origin names (checked: none among the configured ones is the operator's job).
  static std::string StreamId(const Hlc& h, size_t op_index, std::string_view origin);
  // Argv of the GC sweep for one key: tombstones and contributions older than
  // `horizon_stamp` are forgotten, and ops older than it are ignored from then on.
  static Argv GcCommand(std::string_view key, std::string_view horizon_stamp);

 private:
  Status PlanOne(const Op& op, const Hlc& h, size_t index, std::string_view origin,
                 std::vector<Argv>& out) const;

  CrdtPlannerOptions opts_;
  std::string sha_;
};

}  // namespace walrus::crdt
