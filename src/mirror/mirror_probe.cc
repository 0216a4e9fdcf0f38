#include "mirror/mirror_probe.h"

namespace walrus::mirror {

MirrorProbe::MirrorProbe(metrics::Registry& r, const std::string& flow)
    : records(r.Counter("walrus_mirror_records_total", "Records copied and acknowledged by the target")
                  .Add({{"flow", flow}})),
      bytes(r.Counter("walrus_mirror_bytes_total", "Key+value bytes sent to the target").Add({{"flow", flow}})),
      records_per_second(r.Gauge("walrus_mirror_records_per_second",
                                 "Records copied over the last second")
                             .Add({{"flow", flow}})),
      bytes_per_second(
          r.Gauge("walrus_mirror_bytes_per_second", "Bytes copied over the last second")
              .Add({{"flow", flow}})),
      skipped_loop(r.Counter("walrus_mirror_skipped_total",
                             "Records not copied (loop guard: they came from the target)")
                       .Add({{"flow", flow}, {"reason", "loop"}})),
      restarts(r.Counter("walrus_mirror_restarts_total", "Flow restarts after an error")
                   .Add({{"flow", flow}})),
      commits(r.Counter("walrus_mirror_commits_total", "Position commits to the target")
                  .Add({{"flow", flow}})),
      registry_(r),
      flow_(flow) {}

PartitionGauges& MirrorProbe::Partition(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(topic, partition);
  auto it = parts_.find(key);
  if (it != parts_.end()) return it->second;
  const prometheus::Labels l = {{"flow", flow_}, {"topic", topic},
                                {"partition", std::to_string(partition)}};
  PartitionGauges g{
      &registry_.Gauge("walrus_mirror_lag_records", "Source end offset - next offset to copy").Add(l),
      &registry_.Gauge("walrus_mirror_lag_ms", "While behind: age (ms) of the last record taken from the source; 0 when caught up").Add(l),
      &registry_.Gauge("walrus_mirror_position", "Next source offset committed to the target")
           .Add(l)};
  return parts_.emplace(key, g).first->second;
}

}  // namespace walrus::mirror
