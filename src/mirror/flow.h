#pragma once

// Flow: one source -> target replication flow of `walrus mirror`, run on its own thread.
//
// Each run: create the target producer (transactional unless disabled), resolve the source
// topics, check or create the target topics (same partition count or more; fewer is refused),
// read the flow's positions back from the target's `walrus-mirror.offsets`, check them against
// the source log (SourceHolds: a position outside it holds the partition, never reset), assign
// the other source partitions there, then copy records partition to partition, appending
// `walrus-src`. Positions are written to the target only for records the target acknowledged
// (at-least-once mode) or in the same transaction as the records, after they were acknowledged
// (transactional mode). Any runtime error (consumer fatal, delivery failure, transaction failure)
// ends the run; the flow starts over from the positions in the target after a backoff.
// Configuration errors (a missing target topic that cannot be created, too few target partitions)
// are fatal.
//
//   Flow flow(cfg, probe, stop_flag);
//   std::thread t([&] { flow.Run(); });   // returns once stop_flag is set, or on a fatal error
//
// The copying itself is a replication::Forwarder (no per-record allocation; delivery reports served
// on the flow's thread, so the per-partition bookkeeping needs no lock).
//
// Threading: Run() on one thread; Ready()/Fatal()/Detail() from any thread.
// Ownership: owns its clients for the duration of a run; borrows the probe and stop flag.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "mirror/mirror_config.h"
#include "mirror/mirror_probe.h"
#include "mirror/source_holds.h"

namespace walrus::mirror {

class Flow {
 public:
  Flow(FlowConfig cfg, MirrorProbe& probe, const std::atomic<bool>& stop);

  void Run();
  bool Ready() const { return ready_.load(); }
  bool Fatal() const { return fatal_.load(); }
  std::string Detail() const;
  // "" unless source partitions are held (then /readyz is 503 with this text). Any thread.
  std::string HeldSummary() const { return holds_.Summary(); }
  const FlowConfig& config() const { return cfg_; }

 private:
  Status RunOnce();
  void SetDetail(std::string d);

  const FlowConfig cfg_;
  MirrorProbe& probe_;
  const std::atomic<bool>& stop_;
  SourceHolds holds_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> fatal_{false};
  mutable std::mutex detail_mu_;
  std::string detail_ = "starting";
};

}  // namespace walrus::mirror
