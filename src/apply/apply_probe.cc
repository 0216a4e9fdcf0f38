#include "apply/apply_probe.h"

namespace walrus::apply {

ApplyProbe::ApplyProbe(metrics::Registry& reg)
    : applied(reg.Counter("walrus_apply_records_total", "Records processed by result")
                  .Add({{"result", "applied"}})),
      duplicates(reg.Counter("walrus_apply_records_total", "Records processed by result")
                     .Add({{"result", "duplicate"}})),
      discarded(reg.Counter("walrus_apply_records_total", "Records processed by result")
                    .Add({{"result", "resync_discarded"}})),
      dlq(reg.Counter("walrus_apply_dlq_total", "Records sent to the dead-letter topic by reason")),
      dlq_failures(reg.Counter("walrus_apply_dlq_produce_failures_total",
                               "Dead-letter produce attempts that failed (retried)")
                       .Add({})),
      outbox_recovered(reg.Counter("walrus_apply_outbox_recovered_total",
                                   "Dead-letter outbox entries left by a crash, by what the drain "
                                   "did: produced (of which body_missing: the source record was "
                                   "gone), already_in_dlq (acknowledged before the crash)")),
      outbox_unguarded(reg.Counter("walrus_apply_outbox_unguarded_total",
                                   "Exec-time rejections without an outbox entry (records of over "
                                   "7000 arguments, or a failed apply script): their dead letter "
                                   "is produced after the commit, a crash before the ack loses it")
                           .Add({})),
      outbox_drain_failures(reg.Counter("walrus_apply_outbox_drain_failures_total",
                                        "Dead-letter outbox drains that failed (retried with "
                                        "backoff; nothing is applied meanwhile)")
                                .Add({})),
      halted(reg.Gauge("walrus_apply_halted",
                       "1: the applier stopped because an apply script aborted part way in a "
                       "committed transaction (records named in the ERROR log were not applied)")
                 .Add({})),
      batch_ops(reg.Histogram("walrus_apply_batch_ops", "Records per Redis transaction")
                    .Add({}, metrics::SizeBuckets())),
      batch_seconds(reg.Histogram("walrus_apply_batch_seconds",
                                  "Time to run one Redis transaction (fence + MULTI/EXEC)")
                        .Add({}, metrics::LatencyBucketsSeconds())),
      transactions(reg.Counter("walrus_apply_transactions_total", "Committed Redis transactions")
                       .Add({})),
      conflicts(reg.Counter("walrus_apply_position_conflicts_total",
                            "Transactions dropped because Redis held another position")
                    .Add({})),
      retries(reg.Counter("walrus_apply_redis_retries_total",
                          "Transactions refused transiently by Redis (LOADING, READONLY, OOM...)")
                  .Add({})),
      epoch_refusals(reg.Counter("walrus_apply_epoch_refusals_total",
                                 "Writes refused because the Redis held an older leader epoch "
                                 "(walrus:epoch) than the newest seen")
                         .Add({})),
      epoch(reg.Gauge("walrus_apply_epoch", "Newest leader epoch (walrus:epoch) seen").Add({})),
      gc_sweeps(reg.Counter("walrus_apply_gc_sweeps_total", "crdt GC sweeps completed").Add({})),
      gc_keys(reg.Counter("walrus_apply_gc_keys_total", "crdt sidecars visited by GC sweeps")
                  .Add({})),
      gc_removed(reg.Counter("walrus_apply_gc_removed_total",
                             "crdt metadata entries (tombstones, contributions, sidecar fields of "
                             "dead keys) removed by GC")
                     .Add({})),
      redis_reconnects(
          reg.Counter("walrus_apply_redis_reconnects_total", "Connections made to Redis").Add({})),
      redis_up(reg.Gauge("walrus_apply_redis_up", "1 when connected to a Redis primary").Add({})),
      assigned_partitions(
          reg.Gauge("walrus_apply_assigned_partitions", "Partitions assigned to this applier")
              .Add({})),
      lag(reg.Gauge("walrus_apply_partition_lag",
                    "Records in the log not yet applied (log end - position)")),
      position(reg.Gauge("walrus_apply_partition_position", "Next offset to apply")),
      last_apply_timestamp(reg.Gauge("walrus_apply_last_commit_timestamp_seconds",
                                     "Unix time of the last committed transaction")
                               .Add({})),
      failovers(reg.Counter("walrus_apply_failovers_total",
                            "Primary changes seen: connected to a primary at a new address")
                    .Add({})),
      recovery_seconds(
          reg.Histogram("walrus_apply_primary_recovery_seconds",
                        "From losing the primary connection to the first transaction committed "
                        "after it (on the new primary after a failover)")
              .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5,
                                                               7.5, 10, 15, 30, 60})),
      last_recovery_seconds(reg.Gauge("walrus_apply_last_primary_recovery_seconds",
                                      "The most recent primary recovery time")
                                .Add({})),
      held(reg.Gauge("walrus_apply_partition_held",
                     "1 while a partition is held: its stored position is outside the log "
                     "(reason beyond_end: log replaced or truncated; retention_gap: records "
                     "deleted before they were applied); nothing of it is applied")),
      gap_records(reg.Gauge("walrus_apply_gap_records",
                            "Offsets between a held partition's stored position and the log "
                            "(retention gap size, or distance beyond the log end)")),
      holds(reg.Counter("walrus_apply_holds_total", "Partitions held, by reason")),
      hold_releases(reg.Counter("walrus_apply_hold_releases_total",
                                "Holds lifted after an operator decision (walrus position)")
                        .Add({})),
      fetch_out_of_range(reg.Counter("walrus_apply_fetch_out_of_range_total",
                                     "Fetches whose position was not in the log (never reset "
                                     "automatically)")
                             .Add({})),
      lost_holds(reg.Counter("walrus_apply_lost_holds_total",
                             "Hold keys found gone without an operator decision (position "
                             "unchanged, none in walrus:decisions; e.g. lost in a Redis "
                             "failover) and written again")
                     .Add({})) {}

void ApplyProbe::PrimaryLost() {
  if (!lost_at_) lost_at_ = std::chrono::steady_clock::now();
}

void ApplyProbe::PrimaryConnected(const std::string& address) {
  if (!primary_.empty() && address != primary_) failovers.Increment();
  primary_ = address;
}

void ApplyProbe::Committed() {
  if (!lost_at_) return;
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - *lost_at_).count();
  recovery_seconds.Observe(s);
  last_recovery_seconds.Set(s);
  lost_at_.reset();
}

}  // namespace walrus::apply
