#pragma once

// Registry: the metrics of one service, over a prometheus-cpp registry, plus the standard process
// metrics (see process_collector.h), exported in the Prometheus text format 0.0.4.
//
// Components define a small "probe" struct holding references to their metrics, built once at
// start-up from the service's Registry:
//
//   struct ApplyProbe {
//     explicit ApplyProbe(walrus::metrics::Registry& r)
//         : applied(r.Counter("walrus_apply_ops_total", "Ops applied to Redis").Add({})),
//           batch_seconds(r.Histogram("walrus_apply_batch_seconds", "Batch latency")
//                             .Add({}, walrus::metrics::LatencyBucketsSeconds())) {}
//     prometheus::Counter& applied;
//     prometheus::Histogram& batch_seconds;
//   };
//   auto registry = std::make_shared<walrus::metrics::Registry>();
//   ApplyProbe probe(*registry);
//   probe.applied.Increment();
//   std::string text = registry->Serialize();   // what /metrics serves
//
// Registering the same name twice with the same help and constant labels returns the same family,
// so two probes may share a family; an invalid name or a clash of types throws
// std::invalid_argument (a start-up programming error).
//
// Ownership: shared (std::shared_ptr) between the service and its admin server. Thread-safe: all
// methods may be called from any thread; metric objects themselves are lock-free/atomic.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "metrics/process_collector.h"

namespace walrus::metrics {

// Latency buckets in seconds, 0.5 ms .. 10 s, roughly 1-2.5-5 per decade.
std::vector<double> LatencyBucketsSeconds();
// Size buckets (records per batch, bytes, ...), 1 .. 100000, 1-2-5 per decade (integers).
std::vector<double> SizeBuckets();

class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  prometheus::Family<prometheus::Counter>& Counter(const std::string& name, const std::string& help,
                                                   const prometheus::Labels& const_labels = {});
  prometheus::Family<prometheus::Gauge>& Gauge(const std::string& name, const std::string& help,
                                               const prometheus::Labels& const_labels = {});
  // Buckets are given per series: family.Add(labels, LatencyBucketsSeconds()).
  prometheus::Family<prometheus::Histogram>& Histogram(const std::string& name,
                                                       const std::string& help,
                                                       const prometheus::Labels& const_labels = {});

  // All metrics (the service's and the process metrics, refreshed now) in the text exposition
  // format 0.0.4. Safe to call concurrently with metric updates.
  std::string Serialize() const;

  // The underlying prometheus-cpp registry (without the process metrics, which are added at
  // Serialize time).
  std::shared_ptr<prometheus::Registry> raw() { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  ProcessCollector process_;
};

}  // namespace walrus::metrics
