#include "gateway/flow_monitor.h"

#include <chrono>

#include "core/log.h"
#include "dataset/lag.h"
#include "gateway/api_request.h"
#include "kafka/admin.h"

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kQueryTimeout = 1500ms;

}  // namespace

std::string FlowsJson(const std::vector<FlowLag>& flows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& f : flows) {
    nlohmann::json j = {{"from", f.from}, {"to", f.to}};
    if (f.lag_records) {
      j["lag_records"] = *f.lag_records;
    } else {
      j["lag_records"] = nullptr;
      j["error"] = f.error;
    }
    a.push_back(std::move(j));
  }
  return DumpJson(nlohmann::json{{"flows", std::move(a)}});
}

FlowMonitor::FlowMonitor(const GatewayConfig& cfg, std::vector<Region*> regions, EventHub& hub,
                         GatewayProbe& probe, const std::atomic<bool>& stop)
    : RegionMonitor(cfg, std::move(regions), hub, probe, stop, R"({"flows":[]})") {
  clients_.resize(regions_.size());
  partitions_.resize(regions_.size());
}

Result<int64_t> FlowMonitor::EndOffsets(size_t c, const std::string& topic) {
  auto& parts = partitions_[c];
  auto it = parts.find(topic);
  if (it == parts.end()) {
    auto props = RegionKafkaProperties(regions_[c]->config(), cfg_, "flows");
    auto topics = kafka::ListTopics(props, kQueryTimeout);
    if (!topics) return topics.error();
    for (const auto& t : *topics) parts[t.name] = t.partitions;
    it = parts.find(topic);
    if (it == parts.end()) return Error(Errc::kNotFound, topic + " does not exist (yet)");
  }
  if (!clients_[c]) {
    auto client = kafka::AssignConsumer::Create(
        RegionKafkaProperties(regions_[c]->config(), cfg_, "flows"));
    if (!client) return client.error();
    clients_[c] = std::move(*client);
  }
  int64_t sum = 0;
  for (int32_t p = 0; p < it->second; ++p) {
    auto wm = clients_[c]->QueryWatermarks(topic, p, kQueryTimeout);
    if (!wm) return wm.error();
    sum += wm->second;
  }
  return sum;
}

void FlowMonitor::Round() {
  const size_t n = regions_.size();
  // ends[c][f]: end offsets of origin f's topic in cluster c.
  std::vector<std::vector<std::optional<int64_t>>> ends(n, std::vector<std::optional<int64_t>>(n));
  std::vector<std::vector<std::string>> errors(n, std::vector<std::string>(n));
  for (size_t c = 0; c < n; ++c) {
    std::string down;
    for (size_t f = 0; f < n; ++f) {
      if (!down.empty()) {
        errors[c][f] = down;
        continue;
      }
      auto e = EndOffsets(c, regions_[f]->topic());
      if (e) {
        ends[c][f] = *e;
      } else {
        errors[c][f] = regions_[c]->name() + ": " + e.error().message;
        // Not found is a topic not mirrored yet; anything else: the cluster is unreachable.
        if (!e.error().Is(Errc::kNotFound)) down = errors[c][f];
        partitions_[c].erase(regions_[f]->topic());  // re-read the partition count next time
      }
    }
    const bool ok = ends[c][c].has_value();
    regions_[c]->SetKafka(ok, ok ? "reachable" : errors[c][c]);
  }
  std::vector<FlowLag> flows;
  for (size_t f = 0; f < n; ++f) {
    for (size_t t = 0; t < n; ++t) {
      if (t == f) continue;
      FlowLag fl{.from = regions_[f]->name(), .to = regions_[t]->name()};
      if (ends[f][f] && ends[t][f]) {
        fl.lag_records = dataset::MirrorCopyLag(*ends[f][f], *ends[t][f]);
      } else {
        fl.error = !ends[f][f] ? errors[f][f] : errors[t][f];
      }
      probe_.FlowLag(fl.from, fl.to).Set(fl.lag_records ? static_cast<double>(*fl.lag_records) : -1);
      flows.push_back(std::move(fl));
    }
  }
  std::string json = FlowsJson(flows);
  SetJson(json);
  hub_.Publish("flows", json);
}

}  // namespace walrus::gateway
