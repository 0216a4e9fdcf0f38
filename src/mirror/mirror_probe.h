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

  prometheus::Counter& records;
  prometheus::Counter& bytes;
  prometheus::Gauge& records_per_second;
  prometheus::Gauge& bytes_per_second;
  prometheus::Counter& skipped_loop;
  prometheus::Counter& restarts;
  prometheus::Counter& commits;

 private:
  metrics::Registry& registry_;
  const std::string flow_;
  std::mutex mu_;
  std::map<std::pair<std::string, int32_t>, PartitionGauges> parts_;
};

}  // namespace walrus::mirror
