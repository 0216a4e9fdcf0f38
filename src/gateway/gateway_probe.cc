#include "gateway/gateway_probe.h"

namespace walrus::gateway {

GatewayProbe::GatewayProbe(metrics::Registry& r)
    : sse_clients(r.Gauge("walrus_gateway_sse_clients", "Connected /api/events clients").Add({})),
      sse_dropped(r.Counter("walrus_gateway_sse_dropped_total",
                            "SSE clients disconnected for falling too far behind")
                      .Add({})),
      sim_errors(r.Counter("walrus_gateway_sim_errors_total",
                           "Simulator ops refused or not acknowledged by Kafka")
                     .Add({})),
      converged(r.Gauge("walrus_gateway_converged",
                        "1 when every region is reachable and their digests are equal")
                    .Add({})),
      convergence_changes(r.Counter("walrus_gateway_convergence_changes_total",
                                    "Times the converged state changed")
                              .Add({})),
      registry_(r) {}

void GatewayProbe::Request(std::string_view route, int status) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(std::string(route), status);
  auto it = requests_.find(key);
  if (it == requests_.end()) {
    auto* c = &registry_.Counter("walrus_gateway_requests_total", "HTTP requests by route, status")
                   .Add({{"route", key.first}, {"status", std::to_string(status)}});
    it = requests_.emplace(key, c).first;
  }
  it->second->Increment();
}

prometheus::Histogram& GatewayProbe::ProduceSeconds(const std::string& region) {
  std::lock_guard lock(mu_);
  auto it = produce_.find(region);
  if (it == produce_.end()) {
    auto* h = &registry_.Histogram("walrus_gateway_produce_seconds",
                                   "POST /api/produce latency, request to Kafka acknowledgement")
                   .Add({{"region", region}}, metrics::LatencyBucketsSeconds());
    it = produce_.emplace(region, h).first;
  }
  return *it->second;
}

prometheus::Counter& GatewayProbe::Events(const std::string& region) {
  std::lock_guard lock(mu_);
  auto it = events_.find(region);
  if (it == events_.end()) {
    auto* c = &registry_.Counter("walrus_gateway_events_total",
                                 "Op records observed in a region's Kafka")
                   .Add({{"region", region}});
    it = events_.emplace(region, c).first;
  }
  return *it->second;
}

prometheus::Counter& GatewayProbe::SimOps(std::string_view kind) {
  std::lock_guard lock(mu_);
  auto it = sim_ops_.find(kind);
  if (it == sim_ops_.end()) {
    auto* c = &registry_.Counter("walrus_gateway_sim_ops_total",
                                 "Simulator ops acknowledged by Kafka, by step kind")
                   .Add({{"kind", std::string(kind)}});
    it = sim_ops_.emplace(std::string(kind), c).first;
  }
  return *it->second;
}

prometheus::Gauge& GatewayProbe::FlowLag(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(from, to);
  auto it = flow_lag_.find(key);
  if (it == flow_lag_.end()) {
    auto* g = &registry_.Gauge("walrus_gateway_flow_lag_records",
                               "End offsets of from.events in from's Kafka minus in to's Kafka")
                   .Add({{"from", from}, {"to", to}});
    it = flow_lag_.emplace(key, g).first;
  }
  return *it->second;
}

}  // namespace walrus::gateway
