#pragma once

// HoldRecord: the stored record of a held partition, one codec for both writers.
//
// A partition whose stored position lies outside its log is held until an operator decides
// (docs/log-gaps.md). Two services persist such a hold, in two places, with one JSON record:
//
//   HoldLayout::kApplier  Redis key walrus:hold:<topic>:<partition> (protocol/redis_keys.h),
//                         written by `walrus apply`, lifted by `walrus position`, shown by
//                         `walrus status`. Fields: topic partition reason position low high
//                         count since_ms stored_cluster cluster (the last two always written).
//   HoldLayout::kMirror   key "<position key>/hold" in the target's walrus-mirror.offsets
//                         (protocol/topics.h), written by `walrus mirror` and `walrus
//                         mirror-position`. Adds state and source; stored_cluster/cluster only
//                         for cluster_changed; the decision (action new_position why by host
//                         decided_ms) unless the state is held.
//
// The bytes are a contract: records written by earlier releases must still be read, and the
// encoder writes them byte for byte as before (nlohmann's dump: keys sorted, no spaces).
// hold_record_test.cc pins both layouts.
//
//   HoldRecord h{.topic = "t", .partition = 3, .reason = HoldReason::kRetentionGap, ...};
//   conn.Command({"SET", protocol::HoldKey("t", 3), EncodeHold(h, HoldLayout::kApplier)});
//   Result<HoldRecord> back = DecodeHold(json, HoldLayout::kApplier);
//
// Value types and pure functions; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace walrus {

enum class HoldReason { kBeyondEnd, kRetentionGap, kClusterChanged };
// "beyond_end" / "retention_gap" / "cluster_changed" (JSON value and metric label).
std::string_view HoldReasonName(HoldReason r);
std::optional<HoldReason> ParseHoldReason(std::string_view name);

// A mirror hold's life: held (nothing copied), decided (an operator chose a new position),
// released (the mirror applied the decision).
enum class HoldState { kHeld, kDecided, kReleased };
std::string_view HoldStateName(HoldState s);  // "held" / "decided" / "released"
std::optional<HoldState> ParseHoldState(std::string_view name);

enum class HoldLayout { kApplier, kMirror };

struct HoldRecord {
  HoldState state = HoldState::kHeld;  // kMirror only
  std::string source_alias;            // kMirror only ("source")
  std::string topic;
  int32_t partition = 0;
  HoldReason reason = HoldReason::kBeyondEnd;
  int64_t position = 0;  // the stored position when the hold was taken
  int64_t low = -1;      // log start (low watermark) then
  int64_t high = -1;     // log end (high watermark) then
  int64_t count = 0;     // offsets between position and the log
  int64_t since_ms = 0;  // unix ms when the hold was taken
  // The cluster the positions were stored for, and the one read when the hold was taken.
  std::string stored_cluster, cluster;
  // kMirror, state decided / released: the operator's decision.
  std::string action;  // accept-gap | reset-to-log-start | reset-to
  int64_t new_position = -1;
  std::string why, by, host;
  int64_t decided_ms = 0;
};

std::string EncodeHold(const HoldRecord& h, HoldLayout layout);

// kApplier needs topic partition reason position low high count (else Errc::kInvalidArgument,
// "hold: ..."); kMirror needs state reason topic partition position, and new_position when
// decided (else Errc::kDecode, "hold record: ..."). Absent optional fields take the defaults
// above.
Result<HoldRecord> DecodeHold(std::string_view json, HoldLayout layout);

}  // namespace walrus
