#include "gateway/region_monitor.h"

#include <thread>

namespace walrus::gateway {

RegionMonitor::RegionMonitor(const GatewayConfig& cfg, std::vector<Region*> regions,
                             EventHub& hub, GatewayProbe& probe, const std::atomic<bool>& stop,
                             std::string initial_json)
    : cfg_(cfg),
      regions_(std::move(regions)),
      hub_(hub),
      probe_(probe),
      stop_(stop),
      json_(std::move(initial_json)) {}

std::string RegionMonitor::Json() const {
  std::lock_guard lock(mu_);
  return json_;
}

void RegionMonitor::SetJson(std::string json) {
  std::lock_guard lock(mu_);
  json_ = std::move(json);
}

void RegionMonitor::Run() {
  using namespace std::chrono_literals;
  while (!stop_.load()) {
    const auto start = std::chrono::steady_clock::now();
    Round();
    const auto period = Period(std::chrono::steady_clock::now() - start);
    while (!stop_.load() && std::chrono::steady_clock::now() - start < period) {
      std::this_thread::sleep_for(10ms);
    }
  }
}

}  // namespace walrus::gateway
