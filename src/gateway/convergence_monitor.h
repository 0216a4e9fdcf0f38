#pragma once

// ConvergenceMonitor: are the regions' datasets equal right now, and since when? Every
// interval (~500 ms; at least 4x the time one round took, so a large dataset is compared less
// often rather than eating a core) it reads every region's digest (StateReader::Read, nothing
// listed) and compares them. Converged = every region readable and all digests equal. `since_ms` is when the
// current state (converged or not) began. Published as an SSE `convergence` event when the
// state changes and every 2 s, kept for GET /api/convergence and the
// walrus_gateway_converged gauge.
//
//   ConvergenceMonitor conv(cfg, regions, hub, probe, stop_flag);
//   std::thread t([&] { conv.Run(); });
//   conv.Json();  // {"converged":true,"since_ms":...,"digests":{"us":"..."},"keys":{"us":12},
//                 //  "checked_ms":...,"round_ms":...}
//
// Threading: Run() on one thread; Json() from any thread.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/region_monitor.h"

namespace walrus::gateway {

// One round's readings, per region in configuration order.
struct DigestReading {
  std::string region;
  std::optional<std::string> digest;  // nullopt: unreadable (error says why)
  size_t keys = 0;
  std::string error;
};

// True when every reading has a digest and they are all equal (pure; exposed for tests).
bool Converged(const std::vector<DigestReading>& readings);

class ConvergenceMonitor final : public RegionMonitor {
 public:
  ConvergenceMonitor(const GatewayConfig& cfg, std::vector<Region*> regions, EventHub& hub,
                     GatewayProbe& probe, const std::atomic<bool>& stop);

  static constexpr std::chrono::milliseconds kRepublish{2000};

 private:
  void Round() override;
  // Reading every region's whole dataset costs in proportion to its size: never spend more
  // than ~1/4 of the time on it (a big dataset is compared less often, not more expensively).
  Duration Period(Duration took) const override {
    return std::max<Duration>(cfg_.convergence_interval, 4 * took);
  }

  std::optional<bool> converged_;  // Run()'s thread
  int64_t since_ms_ = 0;
  std::chrono::steady_clock::time_point last_publish_{};
};

}  // namespace walrus::gateway
