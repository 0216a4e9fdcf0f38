#pragma once

// OutboxDrain: after a restart (or any resync) produces the dead letters a crash left in the
// outbox (outbox.h) and deletes the entries, so every dead letter reaches the DLQ exactly once:
//
//  1. reads the outbox hashes of the partitions (one HGETALL each, pipelined);
//  2. entries this process itself saw acknowledged (`acked`: their HDEL had not committed yet)
//     are only deleted, without looking for them;
//  3. re-reads the other entries' records from the source topic by offset (their timestamps
//     identify their DLQ copies);
//  4. for each source topic with such entries, scans its DLQ topic for records of this consumer
//     group (walrus-dlq-group) whose walrus-src-topic/-partition/-offset/-timestamp headers name
//     an entry (those were acknowledged before the crash and are not produced again; another
//     group sharing the DLQ, or an earlier incarnation of a recreated topic, does not count).
//     When the source record is gone its timestamp is unknown: the match is then on group and
//     coordinates only. The scan starts at the first DLQ offset whose timestamp is at least the
//     oldest entry's wall time minus kClockMargin (ListOffsets by time), or at the start of the
//     partition when the broker cannot look timestamps up (the librdkafka mock);
//  5. produces the others as DeadLetterSink would have (walrus-dlq-recovered: 1). A record the
//     source log no longer holds (retention) is produced with its coordinates, category and
//     reason only, and walrus-dlq-body-missing saying why;
//  6. waits for the acknowledgements, then HDELs every entry handled.
// A read that makes no progress for kNoProgress fails the drain (the applier retries it).
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

  // A read of the DLQ or source log that receives nothing new for this long fails the drain.
  static constexpr std::chrono::seconds kNoProgress{30};

  // (outbox key, offset) of entries whose DLQ copy this process saw acknowledged.
  using Acked = std::set<std::pair<std::string, int64_t>>;

  // `props`: bootstrap and security properties for the scanning consumers. `dlq` and
  // `producer` must outlive the drain. `group`: the consumer group (walrus-dlq-group).
  OutboxDrain(kafka::Properties props, std::shared_ptr<kafka::Producer> producer,
              DeadLetterSink& dlq, DeadLetterSink::TopicFor dlq_topic_for, ApplyProbe& probe,
              std::string group);

  // Drains the outboxes of `parts`. Error: Redis or Kafka failed, or `stop` was set; nothing is
  // lost (what was not deleted stays for the next call).
  Status Drain(redis::Connection& conn, const std::vector<PartitionState*>& parts,
               const Acked& acked, const std::atomic<bool>& stop);

 private:
  // What this group's DLQ copies name: (topic, partition, offset, source timestamp), and the
  // same without the timestamp (for entries whose source record is gone).
  struct DlqIndex {
    std::set<std::tuple<std::string, int32_t, int64_t, int64_t>> exact;
    std::set<std::tuple<std::string, int32_t, int64_t>> coords;
  };
  // The DLQ records of `dlq` timestamped since `since_ms` with walrus-dlq-group == group_.
  Result<DlqIndex> ScanDlq(const std::string& dlq, int64_t since_ms,
                           const std::atomic<bool>& stop);

  kafka::Properties props_;
  std::shared_ptr<kafka::Producer> producer_;
  DeadLetterSink& dlq_;
  DeadLetterSink::TopicFor dlq_topic_for_;
  ApplyProbe& probe_;
  std::string group_;
};

}  // namespace walrus::apply
