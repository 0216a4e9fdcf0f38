#pragma once

// SourceHolds: the mirror never copies from, nor skips over, a source position that is not in the
// source log (docs/log-gaps.md, "walrus mirror"). At the start of every run of a Flow it
//
//  * reads each partition's hold record from the mirror state in the target (SourceHold JSON
//    under "<position key>/hold"): a stored hold stays held until an operator decided; a decision
//    (`walrus mirror-position`) gives the partition its new position (and the records that make
//    it durable: position, hold released);
//  * checks every other stored position against the source log's watermarks (asked of the
//    leaders) and holds a partition whose position is beyond the log end or below its start;
//  * compares the source Kafka cluster id with the one the positions were stored for
//    ("<alias>/cluster-id", recorded on first use): a replaced source cluster whose new log is
//    already longer than the positions cannot be told by offsets; every partition with a stored
//    position is then held (cluster_changed) and the new id recorded;
//  * holds = not copied at all (not even assigned: the other partitions flow unchanged), one
//    ERROR log line each, metrics (walrus_mirror_partition_held, walrus_mirror_gap_records),
//    /readyz 503 (Summary()), and the hold persisted in the target.
//
// While the flow runs, a source fetch out of the log (replication::Forwarder::out_of_range()) ends
// the run, whose restart comes back here with the stored positions; Decided() tells a watcher that
// an operator decided about a held partition, which also restarts the run.
//
//   SourceHolds holds(cfg, probe);                      // one per Flow, lives across runs
//   auto plan = holds.Check(std::move(routes), state, query_watermarks);
//   produce plan.records into walrus-mirror.offsets, copy plan.copy
//   ... every 2 s while holds.held() > 0: if (holds.Decided(ReadMirrorState(...))) restart
//
// Threading: Check and Decided run on the flow's threads, one at a time; Summary() and held()
// from any thread (/readyz).

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "mirror/flow_run.h"
#include "mirror/mirror_config.h"
#include "mirror/mirror_probe.h"
#include "replication/mirror_state.h"
#include "replication/source_hold.h"

namespace walrus::mirror {

class SourceHolds {
 public:
  using QueryWatermarks =
      std::function<Result<std::pair<int64_t, int64_t>>(const std::string& topic, int32_t partition)>;

  struct Plan {
    std::vector<RouteSpec> copy;  // routes to copy, each starting at its checked position
    // (key, value) records for the target's offsets topic, to be written before copying:
    // holds taken, and for decided partitions their new position and the released hold.
    std::vector<std::pair<std::string, std::string>> records;
    size_t held = 0;
  };

  SourceHolds(const FlowConfig& cfg, MirrorProbe& probe);

  // `routes` start at their stored positions (route.start; kOffsetBeginning when none), `state`
  // is the mirror state read from the target, `cluster` the source cluster id ("" unknown: not
  // compared). A watermark query that fails is logged; that partition is copied (a fetch out of
  // the log would still stop it and end the run).
  Plan Check(std::vector<RouteSpec> routes, const replication::MirrorState& state,
             const std::string& cluster, const QueryWatermarks& query);

  // True when the hold record of a partition held by the last Check changed in `state` (an
  // operator decided): the run should restart to apply it.
  bool Decided(const replication::MirrorState& state) const;

  size_t held() const { return held_count_.load(); }
  // "" when nothing is held, else "N partition(s) held, an operator must decide (...): <clauses>".
  std::string Summary() const;

 private:
  void Hold(const std::string& key, const replication::SourceHold& h, bool stored);

  const FlowConfig& cfg_;
  MirrorProbe& probe_;
  std::map<std::string, std::string> held_records_;  // key -> the hold record it was held with
  std::atomic<size_t> held_count_{0};
  mutable std::mutex mu_;
  std::map<std::string, std::string> summary_;  // guarded by mu_: key -> Describe()
};

}  // namespace walrus::mirror
