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
      fetch_out_of_range(r.Counter("walrus_mirror_fetch_out_of_range_total",
                                   "Source fetches whose position was not in the source log "
                                   "(never reset automatically)")
                             .Add({{"flow", flow}})),
      registry_(r),
      flow_(flow),
      held_(r.Gauge("walrus_mirror_partition_held",
                    "1 while a source partition is held: its stored position is outside the "
                    "source log; nothing of it is copied until an operator decides")),
      gap_(r.Gauge("walrus_mirror_gap_records",
                   "Held source partition: records deleted before they were mirrored, or the "
                   "distance beyond the source log end")),
      holds_total_(r.Counter("walrus_mirror_holds_total",
                             "Source partitions held (taken, or found stored at a flow start)")) {}

void MirrorProbe::SetHeld(const std::string& topic, int32_t partition, const std::string& reason,
                          int64_t count) {
  ClearHeld(topic, partition);
  std::lock_guard lock(mu_);
  const std::string p = std::to_string(partition);
  auto* held = &held_.Add({{"flow", flow_}, {"topic", topic}, {"partition", p}, {"reason", reason}});
  auto* gap = &gap_.Add({{"flow", flow_}, {"topic", topic}, {"partition", p}});
  held->Set(1);
  gap->Set(static_cast<double>(count));
  held_parts_[{topic, partition}] = {held, gap};
}

void MirrorProbe::ClearHeld(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  auto it = held_parts_.find({topic, partition});
  if (it == held_parts_.end()) return;
  held_.Remove(it->second.first);
  gap_.Remove(it->second.second);
  held_parts_.erase(it);
}

void MirrorProbe::CountHold(const std::string& reason) {
  holds_total_.Add({{"flow", flow_}, {"reason", reason}}).Increment();
}

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
