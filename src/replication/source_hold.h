#pragma once

// SourceHold: why `walrus mirror` does not copy a source partition, and the numbers.
//
// The mirror never lets librdkafka move a source partition (auto.offset.reset=error); a stored
// source position outside the source log [low watermark, high watermark] holds the partition:
//
//   position > high  =>  kBeyondEnd:    the source log was replaced (new cluster, topic
//                                       recreated) or truncated; offsets below the position are
//                                       NEW records the target never got.
//   position < low   =>  kRetentionGap: records [position, low) were deleted from the source
//                                       (retention) before they were mirrored: lost to the target.
//   cluster id differs => kClusterChanged: the positions were stored for another source Kafka
//                                       cluster (ClusterIdKey); even a position inside the new
//                                       log means nothing there.
//
// A hold is persisted in the target's walrus-mirror.offsets (key HoldRecordKey, this JSON), so it
// survives mirror restarts, also once a replaced log has grown past the old position. Its state:
//   held      the mirror copies nothing of the partition;
//   decided   an operator chose a new position (`walrus mirror-position`); the mirror applies it
//             at its next run (a running mirror notices within ~2 s and restarts its flow);
//   released  the mirror applied the decision (wrote the new position, copies from there).
//
//   auto c = ClassifySourcePosition(5, 24, 85);     // c.reason == kRetentionGap, c.count == 19
//   SourceHold h = MakeSourceHold("dc", "redis-writes", 0, 5, 24, 85, now_ms);
//   log->error("{}", h.Describe());
//
// Value types, no I/O; thread-compatible.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/hold_record.h"
#include "core/result.h"

namespace walrus::replication {

// The reasons and their names are the stored record's (core/hold_record.h).
using walrus::HoldReason;
using walrus::HoldReasonName;

struct SourceClassification {
  std::optional<HoldReason> reason;  // nullopt: the position is in the log (or none is stored)
  int64_t count = 0;                 // gap: low - position; beyond end: position - high
};

// `position` (next source offset to copy; < 0: none stored) against the source log [low, high].
// position == high is normal (everything copied).
SourceClassification ClassifySourcePosition(int64_t position, int64_t low, int64_t high);

// Key of a partition's hold record: "<position key>/hold"; of a decision's audit record:
// "<position key>/decision/<at_ms>".
std::string HoldRecordKey(std::string_view position_key);
std::string DecisionRecordKey(std::string_view position_key, int64_t at_ms);
// Key of the source cluster id the flow's positions refer to: "<source-alias>/cluster-id".
std::string ClusterIdKey(std::string_view source_alias);

// The stored record (core/hold_record.h, HoldLayout::kMirror) plus what the mirror says of it.
struct SourceHold : HoldRecord {
  using State = HoldState;

  // One line naming the partition, the reason and every number (logs, /readyz, status).
  std::string Describe() const;
  std::string ToJson() const { return EncodeHold(*this, HoldLayout::kMirror); }
  static Result<SourceHold> FromJson(std::string_view json);
};

// The hold of a position classified out of the log (precondition: c.reason set).
SourceHold MakeSourceHold(std::string source_alias, std::string topic, int32_t partition,
                          int64_t position, int64_t low, int64_t high, int64_t now_ms);

}  // namespace walrus::replication
