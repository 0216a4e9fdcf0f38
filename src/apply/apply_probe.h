#pragma once

// Metrics of `walrus apply`, exported on the admin port's /metrics. Created once by the applier;
// counters are updated from the applier thread, read by the HTTP thread (prometheus-cpp types
// are thread-safe).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "metrics/registry.h"

namespace walrus::apply {

struct ApplyProbe {
  explicit ApplyProbe(metrics::Registry& reg);

  prometheus::Counter& applied;       // records whose effects landed
  prometheus::Counter& duplicates;    // records skipped: already in Redis
  prometheus::Counter& discarded;     // records dropped while a partition was resyncing
  prometheus::Family<prometheus::Counter>& dlq;  // by reason: decode, refused, rejected
  prometheus::Counter& dlq_failures;  // DLQ produce failures (retried)
  // Dead-letter outbox (outbox.h): entries a crash left, by result of the drain
  // (produced, already_in_dlq, body_missing); exec-time rejections that had no outbox entry.
  prometheus::Family<prometheus::Counter>& outbox_recovered;
  prometheus::Counter& outbox_unguarded;
  prometheus::Counter& outbox_drain_failures;  // drains that failed (retried with backoff)
  // 1 once the applier stopped on records an apply script aborted in a committed transaction.
  prometheus::Gauge& halted;
  prometheus::Histogram& batch_ops;
  prometheus::Histogram& batch_seconds;
  prometheus::Counter& transactions;
  prometheus::Counter& conflicts;     // position fence fired: another writer or an older dataset
  prometheus::Counter& retries;       // transient Redis refusals
  prometheus::Counter& epoch_refusals;  // a Redis of an older election (walrus:epoch) refused
  prometheus::Gauge& epoch;             // newest walrus:epoch seen (0 while none)
  // crdt GC (GcSweeper).
  prometheus::Counter& gc_sweeps;   // sweeps completed
  prometheus::Counter& gc_keys;     // sidecars visited
  prometheus::Counter& gc_removed;  // entries removed (sidecar fields, contributions)
  prometheus::Counter& redis_reconnects;
  prometheus::Gauge& redis_up;
  prometheus::Gauge& assigned_partitions;
  prometheus::Family<prometheus::Gauge>& lag;       // {topic, partition}
  prometheus::Family<prometheus::Gauge>& position;  // {topic, partition}
  prometheus::Gauge& last_apply_timestamp;  // unix seconds of the last committed transaction

  // Failover (docs/ha.md): a new primary address after a loss counts as a failover; recovery is
  // the time from losing the primary connection to the first transaction committed after it.
  prometheus::Counter& failovers;
  prometheus::Histogram& recovery_seconds;
  prometheus::Gauge& last_recovery_seconds;

  // Log bounds (PartitionGuard, docs/log-gaps.md): partitions whose stored position is outside
  // the log (beyond its end, or below its start after retention) are held.
  prometheus::Family<prometheus::Gauge>& held;         // {topic, partition, reason}: 1 while held
  prometheus::Family<prometheus::Gauge>& gap_records;  // {topic, partition}: offsets outside
  prometheus::Family<prometheus::Counter>& holds;      // {reason}: holds taken (or loaded)
  prometheus::Counter& hold_releases;                  // holds lifted after an operator decision
  prometheus::Counter& fetch_out_of_range;             // consumer fetches out of range
  prometheus::Counter& lost_holds;  // hold keys gone without a decision, written again

  prometheus::Counter& Dlq(const std::string& reason) { return dlq.Add({{"reason", reason}}); }
  prometheus::Counter& Holds(const std::string& reason) { return holds.Add({{"reason", reason}}); }

  // Called by the applier thread only.
  void PrimaryLost();                                // a working primary connection was lost
  void PrimaryConnected(const std::string& address);  // connected (ROLE master) to host:port
  void Committed();                                  // a transaction committed

 private:
  std::optional<std::chrono::steady_clock::time_point> lost_at_;
  std::string primary_;  // host:port of the last primary connected
};

}  // namespace walrus::apply
