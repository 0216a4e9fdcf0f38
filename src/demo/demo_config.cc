#include "demo/demo_config.h"

#include <algorithm>

#include "http/host_port.h"

namespace walrus::demo {

Status Validate(const DemoConfig& c) {
  if (!c.scenario.empty() &&
      std::find(kScenarios.begin(), kScenarios.end(), c.scenario) == kScenarios.end()) {
    return Error(Errc::kInvalidArgument, "--scenario: unknown scenario '" + c.scenario +
                                             "' (failover, partition, replay, flash-sale)");
  }
  if (c.partitions < 1 || c.partitions > 64) {
    return Error(Errc::kInvalidArgument, "--partitions: must be 1..64");
  }
  auto http = http::ParseHostPort(c.http);
  if (!http) return Error(Errc::kInvalidArgument, "--http: " + http.error().message);
  if (c.settle_timeout.count() < 1) {
    return Error(Errc::kInvalidArgument, "--settle-timeout: must be at least 1 s");
  }
  if (c.scenario_fault && c.scenario.empty()) {
    return Error(Errc::kInvalidArgument, "--scenario-fault needs --scenario");
  }
  return Status::Ok();
}

}  // namespace walrus::demo
