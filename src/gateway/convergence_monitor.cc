#include "gateway/convergence_monitor.h"

#include "core/clock.h"
#include "gateway/api_request.h"

namespace walrus::gateway {

bool Converged(const std::vector<DigestReading>& readings) {
  for (const auto& r : readings) {
    if (!r.digest || *r.digest != *readings.front().digest) return false;
  }
  return true;
}

ConvergenceMonitor::ConvergenceMonitor(const GatewayConfig& cfg, std::vector<Region*> regions,
                                       EventHub& hub, GatewayProbe& probe,
                                       const std::atomic<bool>& stop)
    : RegionMonitor(cfg, std::move(regions), hub, probe, stop,
                    DumpJson({{"converged", false},
                              {"since_ms", WallNowMs()},
                              {"digests", nlohmann::json::object()},
                              {"keys", nlohmann::json::object()},
                              {"checked_ms", nullptr}})) {}

void ConvergenceMonitor::Round() {
  const auto round_start = std::chrono::steady_clock::now();
  std::vector<DigestReading> readings;
  for (Region* r : regions_) {
    DigestReading d{.region = r->name()};
    auto snap = r->state().Read(0);
    if (snap) {
      d.digest = snap->digest;
      d.keys = snap->keys;
    } else {
      d.error = snap.error().message;
    }
    readings.push_back(std::move(d));
  }
  const bool now = Converged(readings);
  const bool changed = !converged_ || *converged_ != now;
  if (changed) {
    if (converged_) probe_.convergence_changes.Increment();
    converged_ = now;
    since_ms_ = WallNowMs();
  }
  probe_.converged.Set(now ? 1 : 0);
  nlohmann::json digests = nlohmann::json::object(), keys = nlohmann::json::object(),
                 errors = nlohmann::json::object();
  for (const auto& d : readings) {
    digests[d.region] = d.digest ? nlohmann::json(*d.digest) : nlohmann::json(nullptr);
    keys[d.region] = d.keys;
    if (!d.digest) errors[d.region] = d.error;
  }
  nlohmann::json j = {{"converged", now}, {"since_ms", since_ms_}, {"digests", std::move(digests)},
                      {"keys", std::move(keys)}, {"checked_ms", WallNowMs()},
                      {"round_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - round_start)
                                       .count()}};
  if (!errors.empty()) j["errors"] = std::move(errors);
  std::string json = DumpJson(j);
  SetJson(json);
  const auto t = std::chrono::steady_clock::now();
  if (changed || t - last_publish_ >= kRepublish) {
    last_publish_ = t;
    hub_.Publish("convergence", json);
  }
}

}  // namespace walrus::gateway
