#pragma once

// Simulator: the dashboard's traffic generator. While running it sends the shopping mix
// (sim_mix.h) at `rate` ops/s over all regions, each op through its region's producer (so it
// is stamped and produced exactly like a POST /api/produce), without waiting for acks (at most
// kMaxInFlight unacknowledged; beyond that it skips ops, counted as `skipped`). The first start in a
// process stocks every sku first. State changes are published as SSE `sim` events, and the
// state again every 2 s.
//
//   Simulator sim(cfg, regions, hub, probe, stop_flag);
//   std::thread t([&] { sim.Run(); });
//   sim.Start(200);      // -> {"running":true,"rate":200,"sent":0,...}
//   sim.SetRate(50);
//   sim.Stop();
//
// Threading: Run() on its own thread paces and sends; Start/Stop/SetRate/Json from any thread
// (HTTP workers). Delivery callbacks (Kafka threads) only touch shared atomic counters, which
// outlive the Simulator.

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/event_hub.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_probe.h"
#include "gateway/region.h"
#include "gateway/sim_mix.h"

namespace walrus::gateway {

class Simulator {
 public:
  Simulator(const GatewayConfig& cfg, std::vector<Region*> regions, EventHub& hub,
            GatewayProbe& probe, const std::atomic<bool>& stop);

  void Run();
  // Each returns the state JSON after the change. `rate` must be within kMinSimRate..kMaxSimRate.
  std::string Start(std::optional<int> rate);
  std::string Stop();
  std::string SetRate(int rate);
  // {"running","rate","sent","errors","in_flight","skipped","mix":{"purchase":n,...}}
  // sent: ops acknowledged by Kafka; errors: refused or not acknowledged; mix: sent per kind.
  std::string Json() const;

  static constexpr int64_t kMaxInFlight = 20000;

 private:
  // Counters shared with delivery callbacks (which may run after the Simulator is gone).
  struct Counters {
    std::atomic<int64_t> sent{0}, errors{0}, in_flight{0}, skipped{0};
    std::array<std::atomic<int64_t>, kSimKinds> mix{};
  };
  void SendStep(const SimStep& step);
  void PublishState();

  const GatewayConfig& cfg_;
  const std::vector<Region*> regions_;
  EventHub& hub_;
  GatewayProbe& probe_;
  const std::atomic<bool>& stop_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  std::atomic<bool> running_{false};
  std::atomic<int> rate_;
  std::atomic<bool> changed_{false};  // publish the state at the next tick
  bool stocked_ = false;              // Run()'s thread
  std::unique_ptr<SimMix> mix_;       // Run()'s thread
};

}  // namespace walrus::gateway
