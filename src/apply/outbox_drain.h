#pragma once

// OutboxDrain: after a restart (or any resync) produces the dead letters a crash left in the
// outbox (outbox.h) and deletes the entries, so every dead letter reaches the DLQ exactly once:
//
//  1. reads the outbox hashes of the partitions (one HGETALL each, pipelined);
//  2. for each source topic with entries, scans its DLQ topic for records whose walrus-src-topic/
//     -partition/-offset headers name an entry (those were acknowledged before the crash and
//     are not produced again). The scan starts at the first DLQ offset whose timestamp is at
//     least the oldest entry's wall time minus kClockMargin (ListOffsets by time), or at the
//     start of the partition when the broker cannot look timestamps up (the librdkafka mock);
//  3. re-reads the other entries' records from the source topic by offset and produces them as
//     DeadLetterSink would have (walrus-dlq-recovered: 1). A record the source log no longer
//     holds (retention) is produced with its coordinates, category and reason only, and
//     walrus-dlq-body-missing saying why;
//  4. waits for the acknowledgements, then HDELs every entry handled.
//
// Threading: applier thread only (it owns the Redis connection); creates short-lived
// group-less consumers for the scans. A failure leaves the entries in place for the next call.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "apply/dead_letter.h"
#include "apply/partition_state.h"
#include "core/result.h"
#include "kafka/producer.h"
#include "kafka/types.h"
#include "redis/connection.h"

namespace walrus::apply {

class OutboxDrain {
 public:
  // The DLQ copy of an entry is produced after the entry is written, by the same host's clock;
  // the margin covers clock steps and LogAppendTime brokers.
  static constexpr std::chrono::milliseconds kClockMargin{10 * 60 * 1000};

  // `props`: bootstrap and security properties for the scanning consumers. `dlq` and
  // `producer` must outlive the drain.
  OutboxDrain(kafka::Properties props, std::shared_ptr<kafka::Producer> producer,
              DeadLetterSink& dlq, DeadLetterSink::TopicFor dlq_topic_for, ApplyProbe& probe);

  // Drains the outboxes of `parts`. Error: Redis or Kafka failed, or `stop` was set; nothing is
  // lost (what was not deleted stays for the next call).
  Status Drain(redis::Connection& conn, const std::vector<PartitionState*>& parts,
               const std::atomic<bool>& stop);

 private:
  using Coords = std::tuple<std::string, int32_t, int64_t>;
  // Coordinates named by the DLQ records of `dlq` timestamped since `since_ms`.
  Result<std::set<Coords>> ScanDlq(const std::string& dlq, int64_t since_ms,
                                   const std::atomic<bool>& stop);

  kafka::Properties props_;
  std::shared_ptr<kafka::Producer> producer_;
  DeadLetterSink& dlq_;
  DeadLetterSink::TopicFor dlq_topic_for_;
  ApplyProbe& probe_;
};

}  // namespace walrus::apply
