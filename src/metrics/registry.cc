#include "metrics/registry.h"

#include <prometheus/text_serializer.h>

#include <iterator>

namespace walrus::metrics {
// Literal tables rather than computed ones, so the `le` labels print exactly (0.0005, not
// 0.00050000000000000001).
std::vector<double> LatencyBucketsSeconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> SizeBuckets() {
  return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
}

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {}

prometheus::Family<prometheus::Counter>& Registry::Counter(const std::string& name,
                                                           const std::string& help,
                                                           const prometheus::Labels& const_labels) {
  return prometheus::BuildCounter().Name(name).Help(help).Labels(const_labels).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Registry::Gauge(const std::string& name,
                                                       const std::string& help,
                                                       const prometheus::Labels& const_labels) {
  return prometheus::BuildGauge().Name(name).Help(help).Labels(const_labels).Register(*registry_);
}

prometheus::Family<prometheus::Histogram>& Registry::Histogram(
    const std::string& name, const std::string& help, const prometheus::Labels& const_labels) {
  return prometheus::BuildHistogram()
      .Name(name)
      .Help(help)
      .Labels(const_labels)
      .Register(*registry_);
}

std::string Registry::Serialize() const {
  auto families = registry_->Collect();
  auto process = process_.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
                  std::make_move_iterator(process.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace walrus::metrics
