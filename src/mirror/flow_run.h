#pragma once

// One run of a mirror Flow, split in workers. ResolveRoutes() turns the flow's topic selection
// into the source partitions to copy (checking or creating the target topics); each FlowRun
// worker copies its share of them with its own replication::Forwarder (source consumer + target
// producer, transactional.id `walrus-mirror.<src>.<dst>` for worker 0, `...<dst>.<i>` for
// worker i), commits their positions, and (worker 0 only) writes the flow's heartbeats.
//
//   auto routes = ResolveRoutes(cfg, probe, fatal);
//   FlowRun w(cfg, probe, stop, halt, 0, 1);
//   w.Open();                                  // fences a previous instance first
//   ... starts from replication::ReadMirrorPositions() ...
//   w.Start(std::move(*routes), warm);         // assign, metadata warm-up, first commit
//   Status s = w.Copy();                       // until stop or halt, or an error
//
// Threading: each FlowRun runs on one thread (Open, Start, Copy); `halt` is shared by the run's
// workers: any of them sets it when it stops (error or stop flag), the others then stop too.
// Ownership: owns its forwarder; borrows config, probe and flags.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "mirror/mirror_config.h"
#include "mirror/mirror_probe.h"
#include "replication/forwarder.h"

namespace walrus::mirror {

// A source partition to copy, where to, and its gauges.
struct RouteSpec {
  replication::Forwarder::Route route;
  PartitionGauges* gauges = nullptr;
};

// Every partition of the selected source topics, the target topics checked (same partition
// count or more) or created. `fatal` is set for configuration errors, which are not retried.
Result<std::vector<RouteSpec>> ResolveRoutes(const FlowConfig& cfg, MirrorProbe& probe,
                                             bool& fatal);

class FlowRun {
 public:
  FlowRun(const FlowConfig& cfg, MirrorProbe& probe, const std::atomic<bool>& stop,
          std::atomic<bool>& halt, size_t worker, size_t workers);

  // Creates the clients; a transactional producer fences (aborts) the previous instance's open
  // transaction, which must happen before the positions are read.
  Status Open();
  // Assigns `routes` (their start offsets set), learns the metadata of `warm` topics, and
  // commits once (worker 0: a heartbeat and a "<src>:<dst>/started" marker; `state`: records
  // for the offsets topic, SourceHolds::Plan::records) before copying.
  Status Start(std::vector<RouteSpec> routes, const std::vector<std::string>& warm,
               const std::vector<std::pair<std::string, std::string>>& state = {});
  // The source cluster's id (Open first).
  Result<std::string> SourceClusterId() const;
  // Copies until stopped (then commits what was taken) or an error; sets `halt` on return. A
  // source fetch out of the log ends the copy too (after committing what was taken): the run
  // restarts and SourceHolds checks the stored positions.
  Status Copy();

 private:
  Status Commit(bool final);
  // The error ending the copy for the fetches out of the log reported by the forwarder.
  Status OutOfRange();
  void UpdateStats(std::chrono::steady_clock::time_point now);
  bool Halted() const { return stop_.load() || halt_.load(); }

  const FlowConfig& cfg_;
  MirrorProbe& probe_;
  const std::atomic<bool>& stop_;
  std::atomic<bool>& halt_;
  const size_t worker_, workers_;
  const std::string name_;
  std::unique_ptr<replication::Forwarder> fw_;
  std::vector<RouteSpec> routes_;
  std::vector<int64_t> committed_;  // per route: position last written to the target
  std::chrono::steady_clock::time_point last_commit_, last_hb_, last_stats_;
  replication::Forwarder::Totals reported_;  // totals already added to the probe's counters
  double last_records_ = 0, last_bytes_ = 0;
};

}  // namespace walrus::mirror
