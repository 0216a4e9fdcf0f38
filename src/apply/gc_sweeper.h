#pragma once

// GcSweeper: the periodic garbage collection of `walrus apply --mode crdt` (docs/active-active.md,
// "Garbage collection"). Every `interval` it walks the crdt sidecars (SCAN walrus:m:*) in small
// steps and calls the merge script's GC entry on each key with the horizon stamp of
// (now - horizon): tombstones and counter contributions older than the horizon are forgotten,
// and the sidecars of keys that are gone are removed.
//
// The applier calls Step() between batches; a step is one SCAN of `step_keys` plus one
// MULTI/EXEC of the GC calls, fenced by the leader epoch like every write (WATCH walrus:epoch),
// and steps are spaced so that at most `keys_per_second` keys are swept per second: the apply
// path is never held up for more than one small step.
//
//   GcSweeper gc({.horizon = std::chrono::hours(24)}, probe, clock);   // steps spaced by `clock`
//   ...between batches, with the applier's connection:
//   TxResult r = gc.Step(*conn, epoch, NowUnixMs(), cap_ms);   // kCommitted: fine
//   gc.Restart();                                               // after a (re)connect
//
// Owned by the Applier; applier thread only.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "apply/apply_config.h"
#include "apply/apply_probe.h"
#include "apply/epoch_fence.h"
#include "apply/tx_runner.h"
#include "core/clock.h"
#include "redis/connection.h"

namespace walrus::apply {

class GcSweeper {
 public:
  // `probe` and `clock` must outlive the sweeper.
  GcSweeper(GcOptions opts, ApplyProbe& probe, Clock& clock = SystemClock());

  // Runs one step if one is due, else returns at once. `now_unix_ms`: wall clock. `cap_ms`: a
  // physical time the horizon must not pass (the applier's own backlog: records not applied yet
  // must stay newer than the horizon). A sweep's horizon is min(now - horizon, cap_ms), fixed at
  // its start; a sweep whose horizon would be <= 0 is postponed by `retry`. Outcomes:
  // kCommitted (step done or nothing due; a WATCH that fired is retried at the next step),
  // kStaleEpoch (the Redis holds an older election: refuse it), kBroken / kRetry (transport or
  // transient failure: the caller drops the connection or backs off).
  TxResult Step(redis::Connection& conn, EpochFence& epoch, int64_t now_unix_ms, int64_t cap_ms);

  // Starts the current sweep over from the first key (a SCAN cursor is valid on one server only).
  void Restart();

  bool sweeping() const { return sweeping_; }
  // True when Step would do something now (the caller settles its connection first).
  bool Due() const {
    const auto now = clock_.Steady();
    return sweeping_ ? now >= next_step_ : now >= next_sweep_;
  }

 private:
  // Runs GC of `keys` in one fenced transaction; adds the entries removed to the probe.
  TxResult Collect(redis::Connection& conn, EpochFence& epoch,
                   const std::vector<std::string>& keys, bool* watch_fired);

  GcOptions opts_;
  ApplyProbe& probe_;
  Clock& clock_;
  bool sweeping_ = false;
  std::string cursor_ = "0";
  std::string horizon_;  // horizon stamp of the current sweep
  std::chrono::steady_clock::time_point sweep_started_{};
  std::chrono::steady_clock::time_point next_sweep_{};
  std::chrono::steady_clock::time_point next_step_{};
  uint64_t swept_keys_ = 0;  // current sweep
  uint64_t removed_ = 0;     // current sweep
};

}  // namespace walrus::apply
