#pragma once

// Scenarios of `walrus demo --scenario NAME`: a fault and its repair, narrated one line per step
// on a running DemoSystem, then asserted with Convergence (fences, `walrus verify`, exact
// counters).
//
//   failover    eu's Kafka (broker down) and applier (SIGKILL) go away; us and ap keep writing;
//               eu comes back and catches up.
//   partition   ap is cut off (the mirror flows into and out of ap stop); both sides write, on the
//               same keys; verify shows the split; the flows come back; all converge.
//   replay      eu's applier stops and its Redis is FLUSHALL'd (data, sidecars, positions); the
//               applier restarts and rebuilds eu from offset 0 of the three topics.
//   flash-sale  one hot item; a burst of purchases from all regions at once (the gateway's
//               simulator at a high rate plus concurrent produces, or concurrent `walrus
//               produce` children); the stock counter must end exact everywhere.
//
// With `fault` (the hidden --scenario-fault test hook) the heal step is skipped (flash-sale:
// ap's mirror stays stopped through the burst), so the regions must NOT converge and the
// scenario must report it.
//
//   ScenarioEnv env{sys, traffic, console, mix, fault, settle};
//   int code = RunScenario("failover", env);   // 0 converged, 1 not, 2 setup error
//
// Threading: the main thread.

#include <chrono>
#include <string>

#include "demo/console.h"
#include "demo/system.h"
#include "demo/traffic.h"

namespace walrus::demo {

struct ScenarioEnv {
  DemoSystem& sys;
  Traffic& traffic;
  Console& console;
  ShopMix& mix;
  bool fault = false;
  std::chrono::seconds settle{45};
};

int RunScenario(const std::string& name, ScenarioEnv& env);

}  // namespace walrus::demo
