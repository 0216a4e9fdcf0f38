#pragma once

// Per assigned partition bookkeeping of the applier. Owned by Applier, applier thread only.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "apply/partition_hold.h"

namespace walrus::apply {

// Redis key holding the next offset to apply for a topic partition. Stored in the same MULTI/EXEC
// as the effects, so Redis itself always knows exactly how much of the log it contains.
std::string PositionKey(const std::string& topic, int32_t partition);

struct PartitionState {
  std::string topic;
  int32_t partition = 0;
  std::string pos_key;
  std::string outbox_key;  // OutboxKey(topic, partition) (apply/outbox.h), set on first use
  // Next offset to apply. Only meaningful while `synced`: it then equals the value in Redis.
  int64_t next = 0;
  // The position the batch in flight (EXEC sent, replies not read) stores if it commits; the
  // next batch is selected and fenced as if it had. kNoPending when none.
  static constexpr int64_t kNoPending = INT64_MIN;
  int64_t pending_next = kNoPending;
  int64_t effective_next() const { return pending_next != kNoPending ? pending_next : next; }
  // True once the position was read from the current Redis connection and the consumer was
  // positioned there. Records of unsynced partitions are discarded (they will be re-fetched).
  bool synced = false;
  bool paused = false;
  int64_t high_watermark = -1;  // last known log end offset, for lag
  // Kafka timestamp of the last record committed (-1: none yet); bounds the crdt GC horizon
  // while the partition is behind.
  int64_t applied_ts_ms = -1;
  // Highest applied source offset per walrus-src stream key (see source_coords.h), as stored in
  // Redis. A cache: loaded on first sight, cleared on every resync.
  std::map<std::string, int64_t, std::less<>> src_high;
  // Set while the partition is held by PartitionGuard: its stored position is outside the log
  // (beyond its end, or below its start after retention). Nothing of it is applied or counted;
  // the consumer is paused once assigned. Lifted only after an operator decision.
  std::optional<PartitionHold> hold;
  // Fetch position reported out of range by the consumer (auto.offset.reset=error), waiting for
  // PartitionGuard::Tick to classify it; kNoPending when none.
  int64_t out_of_range_at = kNoPending;
};

}  // namespace walrus::apply
