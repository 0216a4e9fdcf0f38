#pragma once

// PeriodicTasks: when the applier's between-batches chores are due, on an injected Clock.
//
//   offset commits  every `commit_interval` while positions moved since the last commit (or at
//                   once when forced: revocation, shutdown)
//   health ping     every second while connected (an idle applier notices a dead or demoted
//                   primary, so /readyz tells the truth)
//   lag refresh     every second (watermarks and the lag/position gauges)
//
// Each Take*() answers "run it now?" and, when it says yes, counts the task as run from now.
// A task that never ran is due at once. The GC sweep and the partition guard keep their own
// schedules (GcSweeper::Due, PartitionGuard::Due); outbox drain retries use a Backoff.
//
//   PeriodicTasks tasks(clock, cfg.commit_interval);
//   tasks.OffsetsMoved();                       // a transaction committed
//   if (tasks.TakeCommit(false)) consumer.CommitAsync(...);
//
// Owned by the Applier; applier thread only.

#include <chrono>

#include "core/clock.h"

namespace walrus::apply {

class PeriodicTasks {
 public:
  static constexpr std::chrono::seconds kPingInterval{1};
  static constexpr std::chrono::seconds kLagInterval{1};

  PeriodicTasks(Clock& clock, std::chrono::milliseconds commit_interval)
      : clock_(clock), commit_interval_(commit_interval) {}

  // Positions moved (a transaction committed): the next TakeCommit may say yes.
  void OffsetsMoved() { offsets_dirty_ = true; }
  // True when the offsets are to be committed now: they moved since the last commit, and
  // `force` or commit_interval passed since then. A yes counts as the commit.
  bool TakeCommit(bool force) {
    if (!offsets_dirty_) return false;
    const auto now = clock_.Steady();
    if (!force && now - last_commit_ < commit_interval_) return false;
    last_commit_ = now;
    offsets_dirty_ = false;
    return true;
  }
  // True when the primary is to be pinged now (`connected`: there is a connection to ping).
  // Not connected: no, and the ping stays due.
  bool TakePing(bool connected) {
    const auto now = clock_.Steady();
    if (now - last_ping_ < kPingInterval || !connected) return false;
    last_ping_ = now;
    return true;
  }
  // True when the lag gauges are to be refreshed now.
  bool TakeLag() {
    const auto now = clock_.Steady();
    if (now - last_lag_ < kLagInterval) return false;
    last_lag_ = now;
    return true;
  }

 private:
  Clock& clock_;
  const std::chrono::milliseconds commit_interval_;
  bool offsets_dirty_ = false;
  std::chrono::steady_clock::time_point last_commit_{};
  std::chrono::steady_clock::time_point last_ping_{};
  std::chrono::steady_clock::time_point last_lag_{};
};

}  // namespace walrus::apply
