#pragma once

// PartitionHold: why a partition's stored position cannot be applied from, and the numbers.
//
// The applier never lets an automatic offset reset move a partition (auto.offset.reset=error);
// a stored position outside the log [low watermark, high watermark] holds the partition instead:
//
//   position > high  =>  kBeyondEnd:     the log was replaced (new cluster, topic recreated) or
//                                        truncated (unclean leader election); offsets below the
//                                        position are NEW records, not duplicates.
//   position < low   =>  kRetentionGap:  records [position, low) were deleted before they were
//                                        applied (retention); they are lost to this Redis.
//   cluster id differs => kClusterChanged: the positions were stored for another Kafka cluster
//                                        (ClusterIdKey, per partition); even a position inside the new log
//                                        means nothing there.
//
// A hold is persisted in Redis (HoldKey, JSON) so it survives applier restarts even once the new
// log has grown past the old position (offsets alone could not tell any more). Only an operator
// decision (`walrus position`, which deletes the hold key and appends to kDecisionsKey) lifts it.
//
//   auto v = ClassifyPosition(617, 0, 20);           // v.verdict == kBeyondEnd, v.count == 597
//   PartitionHold h = MakeHold("redis-writes", 3, 617, 0, 20, now_ms);
//   conn->Command({"SET", HoldKey("redis-writes", 3), h.ToJson()});
//   log->error("{}", h.Describe());
//
// Value types, no I/O; thread-compatible.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "protocol/redis_keys.h"

namespace walrus::apply {

// Redis key of a partition's hold (JSON of PartitionHold); absent when not held.
std::string HoldKey(std::string_view topic, int32_t partition);
// Prefix of every hold key of a topic ("walrus:hold:<topic>:"), for SCAN MATCH <prefix>*.
std::string HoldKeyPrefix(std::string_view topic);
// Redis stream of operator decisions about held partitions (`walrus position`), XADD per decision.
inline constexpr std::string_view kDecisionsKey = protocol::kDecisionsKey;
// Redis key naming the Kafka cluster (its cluster id) the stored position of `topic`[`partition`]
// refers to ("walrus:kafka-cluster-id:<topic>:<partition>"). Per partition: an operator decision
// about one partition re-bases only that partition's position on the cluster decided against,
// never its siblings' (whose stale positions may lie inside a longer new log). Set by the applier
// with SET NX on first use, overwritten only by `walrus position` for the partitions it decides.
std::string ClusterIdKey(std::string_view topic, int32_t partition);

enum class Verdict { kInRange, kBeyondEnd, kRetentionGap, kClusterChanged };

struct Classification {
  Verdict verdict = Verdict::kInRange;
  int64_t count = 0;  // gap: low - position; beyond end: position - high; else 0
};

// `position` (next offset to apply; < 0: none stored) against the log [low, high]. A position
// equal to high is normal (everything applied; on a real broker the last offsets may be
// transaction markers, so high may exceed the last record's offset + 1).
Classification ClassifyPosition(int64_t position, int64_t low, int64_t high);

// Metric label / JSON value of a verdict: "in_range", "beyond_end", "retention_gap",
// "cluster_changed".
std::string_view VerdictName(Verdict v);
std::optional<Verdict> ParseVerdict(std::string_view name);

struct PartitionHold {
  std::string topic;
  int32_t partition = 0;
  Verdict reason = Verdict::kBeyondEnd;
  int64_t position = 0;  // the stored position when the hold was taken
  int64_t low = -1;      // log start (low watermark) then
  int64_t high = -1;     // log end (high watermark) then
  int64_t count = 0;     // offsets between position and the log (see Classification)
  int64_t since_ms = 0;  // unix ms when the hold was taken
  // kClusterChanged: the cluster the positions were stored for, and the one consumed now.
  std::string stored_cluster, cluster;

  // One line naming the partition, the reason and every number, for logs and /readyz.
  std::string Describe() const;
  std::string ToJson() const;
  static Result<PartitionHold> FromJson(std::string_view json);

 private:
  std::string DescribeReason() const;
};

// The hold for a position classified out of range (precondition: not kInRange).
PartitionHold MakeHold(std::string topic, int32_t partition, int64_t position, int64_t low,
                       int64_t high, int64_t now_ms);

// The hold for positions stored for another Kafka cluster (kClusterChanged, count 0).
PartitionHold MakeClusterHold(std::string topic, int32_t partition, int64_t position, int64_t low,
                              int64_t high, std::string stored_cluster, std::string cluster,
                              int64_t now_ms);

}  // namespace walrus::apply
