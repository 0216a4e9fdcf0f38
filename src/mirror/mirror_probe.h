#pragma once

// MirrorProbe: the metrics of one flow, labelled flow="<src>:<dst>"; per-partition gauges are
// added on first use (labels flow, topic = source topic, partition).
//
//   walrus_mirror_records_total                                  copied (acknowledged by the target)
//   walrus_mirror_bytes_total                                    key+value bytes sent to the target
//   walrus_mirror_records_per_second / walrus_mirror_bytes_per_second   over the last second
//   walrus_mirror_skipped_total{reason="loop"}                   never copied back to their origin
//   walrus_mirror_restarts_total                                 flow restarts after errors
//   walrus_mirror_commits_total                                  position commits
//   walrus_mirror_lag_records{topic,partition}                   source end - next offset to copy
//   walrus_mirror_lag_ms{topic,partition}                        while behind, age of the last record
//                                                                 taken from the source (0: caught up)
//   walrus_mirror_position{topic,partition}                      next source offset committed
//   walrus_mirror_partition_held{topic,partition,reason}         1 while a source partition is held
//                                                                 (reason beyond_end | retention_gap)
//   walrus_mirror_gap_records{topic,partition}                   while held: the gap's size, or the
//                                                                 distance beyond the source log end
//   walrus_mirror_holds_total{reason}                            holds taken (or found stored)
//   walrus_mirror_fetch_out_of_range_total                       source fetches out of the log
//                                                                 (never reset: the run re-checks)
//
// Thread-safe (prometheus-cpp metrics are atomic; Partition() takes a lock).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "metrics/registry.h"

namespace walrus::mirror {

struct PartitionGauges {
  prometheus::Gauge* lag_records;
  prometheus::Gauge* lag_ms;
  prometheus::Gauge* position;
};

class MirrorProbe {
 public:
  MirrorProbe(metrics::Registry& r, const std::string& flow);

  PartitionGauges& Partition(const std::string& topic, int32_t partition);
  // Publishes / removes the hold gauges of a source partition.
  void SetHeld(const std::string& topic, int32_t partition, const std::string& reason,
               int64_t count);
  void ClearHeld(const std::string& topic, int32_t partition);
  void CountHold(const std::string& reason);

  prometheus::Counter& records;
  prometheus::Counter& bytes;
  prometheus::Gauge& records_per_second;
  prometheus::Gauge& bytes_per_second;
  prometheus::Counter& skipped_loop;
  prometheus::Counter& restarts;
  prometheus::Counter& commits;
  prometheus::Counter& fetch_out_of_range;

 private:
  metrics::Registry& registry_;
  const std::string flow_;
  std::mutex mu_;
  std::map<std::pair<std::string, int32_t>, PartitionGauges> parts_;
  prometheus::Family<prometheus::Gauge>& held_;
  prometheus::Family<prometheus::Gauge>& gap_;
  prometheus::Family<prometheus::Counter>& holds_total_;
  std::map<std::pair<std::string, int32_t>, std::pair<prometheus::Gauge*, prometheus::Gauge*>>
      held_parts_;  // guarded by mu_
};

}  // namespace walrus::mirror
