#pragma once

// Lag: how far a consumer of a Kafka log is behind, in records — the one definition that
// `walrus status`, the gateway's flow monitor and the apply/mirror metrics report. Two different
// measures, named apart:
//
//   ApplierLag(position, low, high)       records in the log at or after the applier's next
//                                         offset: walrus_apply_partition_lag, status GROUP-LAG
//                                         (committed offset) and REDIS-LAG (walrus:pos).
//   MirrorPositionLag(next, low, high)    records of the source partition at or after the
//                                         mirror's next offset to copy: walrus_mirror_lag_records
//                                         (in-memory position) and status MIRROR-LAG (the
//                                         position stored in the target's walrus-mirror.offsets).
//   MirrorCopyLag(source_end, copy_end)   records the source's log has and its copy in the target
//                                         cluster does not (yet), by end offsets (summed over the
//                                         partitions by the caller): the gateway's flow lag. Needs
//                                         no access to the mirror's state, and counts what is not
//                                         copied, not what the mirror has not committed.
//
//   int64_t l = dataset::ApplierLag(/*position=*/7, /*low=*/0, /*high=*/10);   // 3
//   int64_t m = dataset::MirrorPositionLag(-1, 4, 10);  // 6: nothing stored, from the log start
//
// A position is the next offset to consume; < 0 means none (consume from the log start `low`).
// Precondition: the position is inside the log (kafka::PlacePosition says kInLog); outside it
// there is no lag to tell (status shows GAP / BEYOND-END, the metrics drop the gauge). Never
// negative. Pure functions, any thread.

#include <cstdint>

namespace walrus::dataset {

// Records in the log [low, high] from `next` (< 0: from low) to its end; never negative.
int64_t RecordsFrom(int64_t next, int64_t low, int64_t high);

// Records not yet applied: from the applier's position (stored or committed) to the log end.
int64_t ApplierLag(int64_t position, int64_t low, int64_t high);

// Records of the source partition not yet copied by the mirror, from its next offset to copy.
int64_t MirrorPositionLag(int64_t next, int64_t source_low, int64_t source_high);

// Records in the source's log but not in its copy, by end offsets; never negative.
int64_t MirrorCopyLag(int64_t source_end, int64_t copy_end);

}  // namespace walrus::dataset
