#pragma once

// PartitionGuard: makes sure the applier never applies from, nor skips over, a position that is
// not in the log (docs/log-gaps.md). The consumer runs with auto.offset.reset=error, so librdkafka
// never moves a partition by itself; the guard
//
//  * at every seek, compares the Kafka cluster id with the one the Redis positions were stored
//    for (walrus:kafka-cluster-id:<topic>:<partition>, set on first use): a replaced cluster whose new log is
//    already longer than the positions cannot be told by offsets;
//  * proactively, at every seek (assignment, resync after a Redis reconnect), reads the
//    partitions' persisted holds and checks their stored positions against the log's watermarks
//    asked of the leaders;
//  * reactively, takes the consumer's "fetch position out of range" events (retention deleting
//    records while the applier is behind, a log truncated or replaced while running);
//  * holds a partition whose position is beyond the log end or below the log start: one ERROR log
//    line, the hold persisted in Redis (walrus:hold:<topic>:<partition>), metrics
//    (walrus_apply_partition_held, walrus_apply_gap_records), /readyz 503 naming it, the consumer
//    paused, nothing applied or counted as duplicate;
//  * re-checks held partitions every Options::recheck and releases one only once an operator
//    removed its hold key (`walrus position`, which also sets the position), seeking it to the
//    position then stored, if that one is in the log.
//
// Threading: owned by the Applier; every method but HeldSummary runs on the applier thread (also
// inside rebalance callbacks). HeldSummary is safe from any thread (/readyz).

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "apply/apply_config.h"
#include "apply/apply_probe.h"
#include "apply/partition_state.h"
#include "core/result.h"
#include "kafka/consumer.h"
#include "kafka/message.h"
#include "redis/connection.h"

namespace walrus::apply {

class PartitionGuard {
 public:
  struct Options {
    StartFrom start_from = StartFrom::kEarliest;  // for a released partition with no position
    std::chrono::milliseconds recheck{2000};      // re-check of held partitions
    std::chrono::milliseconds query_timeout{5000};  // one watermark query
  };

  PartitionGuard(ApplyProbe& probe, Options o);

  // At a seek: the positions of `parts` (ps->next) were just read from `conn`, whose pipeline is
  // empty. Loads their persisted holds and holds those whose position is outside the log. The
  // caller seeks the others to ps->next and leaves held ones alone (Tick pauses them). A
  // watermark query that fails is logged and left to the reactive check. Error: Redis failed.
  Status CheckAtSeek(redis::Connection& conn, kafka::Consumer& consumer,
                     const std::vector<PartitionState*>& parts);

  // A consumer error event. True if it reports `ps`'s fetch position out of range (noted for
  // Tick), false if it is not the guard's business.
  bool OnConsumeError(const kafka::Message& msg, PartitionState* ps);

  // True when Tick has something to do now.
  bool Due() const;

  // Applier loop, nothing in flight on `conn`: classifies noted out-of-range events (positions
  // are the committed ones, ps->next), pauses held partitions, and re-checks holds when due,
  // releasing those an operator decided about. Error: Redis failed (caller drops it).
  Status Tick(redis::Connection& conn, kafka::Consumer& consumer,
              const std::vector<PartitionState*>& parts);

  // A partition is revoked: drops its metrics and summary.
  void Forget(const PartitionState& ps);

  // "" when nothing is held, else one clause per held partition. Any thread.
  std::string HeldSummary() const;

 private:
  using Key = std::pair<std::string, int32_t>;

  // Holds `ps` at `low`/`high`: persists, logs, counts. `stored` is the hold read from Redis
  // (then nothing is written). Error: the SET failed.
  Status Hold(redis::Connection& conn, PartitionState& ps, PartitionHold h, bool stored);
  void Release(PartitionState& ps);
  void Publish(const PartitionHold& h);
  void Unpublish(const std::string& topic, int32_t partition);
  Result<std::pair<int64_t, int64_t>> Query(kafka::Consumer& consumer, const PartitionState& ps);
  // The consumer's Kafka cluster id ("" while unknown); the last known one if the query fails.
  std::string CurrentCluster(kafka::Consumer& consumer);
  // `ps` is held here but its hold key is gone and `pos` was just read as its position. True if
  // that is no operator decision (same position, no decision in kDecisionsKey naming the hold:
  // e.g. a hold SET lost in a Redis failover): the hold was written again. False: decided.
  Result<bool> KeepLostHold(redis::Connection& conn, PartitionState& ps, int64_t pos);
  // Re-reads positions and hold keys of held partitions; releases those decided about.
  Status Recheck(redis::Connection& conn, kafka::Consumer& consumer,
                 const std::vector<PartitionState*>& held);

  ApplyProbe& probe_;
  Options opt_;
  bool work_ = false;   // a noted event or a hold not paused yet
  bool retry_ = false;  // a noted event waits for next_retry_ (a failed watermark query)
  size_t held_ = 0;    // summary_.size(), for Due() without the lock
  std::string cluster_;  // last known Kafka cluster id
  std::chrono::steady_clock::time_point next_recheck_{};
  std::chrono::steady_clock::time_point next_retry_{};  // of a failed watermark query

  mutable std::mutex mu_;               // guards summary_
  std::map<Key, std::string> summary_;  // held partitions' Describe()
};

}  // namespace walrus::apply
