#pragma once

// RegionMonitor: the loop the gateway's monitors share (FlowMonitor, ConvergenceMonitor): every
// period it runs one Round() over the regions and keeps that round's result as JSON for the API
// (GET /api/flows, /api/convergence); a round publishes its own SSE events.
//
//   class MyMonitor : public RegionMonitor {
//     void Round() override { ...; SetJson(json); }
//     Duration Period(Duration took) const override { return cfg_.flows_interval; }
//   };
//   std::thread t([&] { monitor.Run(); });   // returns once `stop` is set
//
// Threading: Run() (and so Round()) on one thread; Json() from any thread.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/event_hub.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_probe.h"
#include "gateway/region.h"

namespace walrus::gateway {

class RegionMonitor {
 public:
  using Duration = std::chrono::steady_clock::duration;

  RegionMonitor(const GatewayConfig& cfg, std::vector<Region*> regions, EventHub& hub,
                GatewayProbe& probe, const std::atomic<bool>& stop, std::string initial_json);
  virtual ~RegionMonitor() = default;
  RegionMonitor(const RegionMonitor&) = delete;
  RegionMonitor& operator=(const RegionMonitor&) = delete;

  // Rounds until `stop`: Round(), then wait Period(time the round took) from its start.
  void Run();
  // The last round's result (the initial JSON before the first).
  std::string Json() const;

 protected:
  virtual void Round() = 0;
  virtual Duration Period(Duration took) const = 0;
  void SetJson(std::string json);

  const GatewayConfig& cfg_;
  const std::vector<Region*> regions_;
  EventHub& hub_;
  GatewayProbe& probe_;
  const std::atomic<bool>& stop_;

 private:
  mutable std::mutex mu_;
  std::string json_;
};

}  // namespace walrus::gateway
