#pragma once

// FlowMonitor: how far each mirror flow is behind, as the dashboard shows it. Every interval,
// for each origin topic F.events and each region's Kafka C, it sums the partitions' end
// offsets of F.events in C; lag(F -> T) = dataset::MirrorCopyLag(end in F's Kafka, end in T's
// Kafka): records not yet copied, by end offsets (src/dataset/lag.h; not the mirror's stored-
// position lag that `walrus status` shows, which needs the mirror's state). The result is
// published as an SSE `flows` event and kept for GET /api/flows. As a side effect it keeps each
// Region's Kafka reachability (Region::SetKafka) up to date for /readyz.
//
//   FlowMonitor flows(cfg, regions, hub, probe, stop_flag);
//   std::thread t([&] { flows.Run(); });
//   std::string json = flows.Json();   // {"flows":[{"from":"us","to":"eu","lag_records":0},...]}
//
// A flow whose numbers cannot be read (a cluster down, a topic not mirrored yet) has
// "lag_records": null and an "error". Uses one unassigned kafka::AssignConsumer per cluster
// for watermark queries (no group, nothing left behind).
//
// Threading: Run() on one thread; Json() from any thread.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/region_monitor.h"
#include "kafka/assign_consumer.h"

namespace walrus::gateway {

struct FlowLag {
  std::string from, to;
  std::optional<int64_t> lag_records;
  std::string error;  // why lag_records is unknown
};

// {"flows":[...]} (pure; exposed for tests).
std::string FlowsJson(const std::vector<FlowLag>& flows);

class FlowMonitor final : public RegionMonitor {
 public:
  FlowMonitor(const GatewayConfig& cfg, std::vector<Region*> regions, EventHub& hub,
              GatewayProbe& probe, const std::atomic<bool>& stop);

 private:
  // Sum of end offsets of `topic` in cluster `c`; partition counts cached per cluster.
  Result<int64_t> EndOffsets(size_t c, const std::string& topic);
  void Round() override;
  Duration Period(Duration) const override { return cfg_.flows_interval; }

  std::vector<std::unique_ptr<kafka::AssignConsumer>> clients_;  // per region, Run()'s thread
  std::vector<std::map<std::string, int32_t>> partitions_;       // per region: topic -> count
};

}  // namespace walrus::gateway
