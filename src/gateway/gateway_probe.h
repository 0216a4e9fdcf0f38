#pragma once

// GatewayProbe: the gateway's metrics, served on /metrics of its HTTP port.
//
//   walrus_gateway_requests_total{route,status}     HTTP requests by route pattern and status
//   walrus_gateway_produce_seconds{region}          POST /api/produce: request to Kafka ack
//   walrus_gateway_sse_clients                      connected /api/events clients
//   walrus_gateway_sse_dropped_total                SSE clients cut off for being too slow
//   walrus_gateway_events_total{region}             op records observed in each region's Kafka
//   walrus_gateway_sim_ops_total{kind}              simulator ops acknowledged, by step kind
//   walrus_gateway_sim_errors_total                 simulator ops refused or not acknowledged
//   walrus_gateway_converged                        1 when all regions' digests are equal
//   walrus_gateway_convergence_changes_total        times the converged state flipped
//   walrus_gateway_flow_lag_records{from,to}        records of from.events not yet in `to`
//
// Per-label children are created on first use (a lock; the metric updates themselves are
// atomic). Thread-safe.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "metrics/registry.h"

namespace walrus::gateway {

class GatewayProbe {
 public:
  explicit GatewayProbe(metrics::Registry& r);

  void Request(std::string_view route, int status);
  prometheus::Histogram& ProduceSeconds(const std::string& region);
  prometheus::Counter& Events(const std::string& region);
  prometheus::Counter& SimOps(std::string_view kind);
  prometheus::Gauge& FlowLag(const std::string& from, const std::string& to);

  prometheus::Gauge& sse_clients;
  prometheus::Counter& sse_dropped;
  prometheus::Counter& sim_errors;
  prometheus::Gauge& converged;
  prometheus::Counter& convergence_changes;

 private:
  metrics::Registry& registry_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, prometheus::Counter*> requests_;
  std::map<std::string, prometheus::Histogram*> produce_;
  std::map<std::string, prometheus::Counter*> events_;
  std::map<std::string, prometheus::Counter*, std::less<>> sim_ops_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> flow_lag_;
};

}  // namespace walrus::gateway
