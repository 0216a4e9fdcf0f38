#include "mirror/source_holds.h"

#include <fmt/format.h>

#include "core/clock.h"
#include "core/log.h"
#include "mirror/record_copy.h"
#include "replication/source_hold.h"

namespace walrus::mirror {

SourceHolds::SourceHolds(const FlowConfig& cfg, MirrorProbe& probe) : cfg_(cfg), probe_(probe) {}

void SourceHolds::Hold(const std::string& key, const replication::SourceHold& h, bool stored) {
  const std::string what = h.Describe();
  Logger("mirror")->error(
      "flow {}: {}{}; nothing of it is copied until an operator decides: `walrus mirror-position "
      "--source {} --target {} --source-alias {} --topic {} --partition {} (--accept-gap | "
      "--reset-to-log-start | --reset-to OFFSET) --reason TEXT` (docs/log-gaps.md)",
      cfg_.Name(), what, stored ? " (hold stored in the target)" : "", cfg_.source_bootstrap,
      cfg_.target_bootstrap, cfg_.source_alias, h.topic, h.partition);
  probe_.SetHeld(h.topic, h.partition, std::string(replication::HoldReasonName(h.reason)), h.count);
  probe_.CountHold(std::string(replication::HoldReasonName(h.reason)));
  std::lock_guard lock(mu_);
  summary_[key] = what;
}

SourceHolds::Plan SourceHolds::Check(std::vector<RouteSpec> routes,
                                     const replication::MirrorState& state,
                                     const std::string& cluster, const QueryWatermarks& query) {
  auto log = Logger("mirror");
  Plan plan;
  // Positions stored for another source cluster mean nothing here, even inside the new log.
  std::string changed_from;
  bool record_cluster = false;  // written after the holds it causes
  if (cluster.empty()) {
    log->warn("flow {}: the source Kafka cluster id is not known; positions are checked by "
              "offsets only", cfg_.Name());
  } else if (auto it = state.clusters.find(cfg_.source_alias);
             it == state.clusters.end() || it->second != cluster) {
    if (it != state.clusters.end()) changed_from = it->second;
    record_cluster = true;
    log->info("flow {}: positions of source {} refer to Kafka cluster '{}' ({}){}", cfg_.Name(),
              cfg_.source_alias, cluster, replication::ClusterIdKey(cfg_.source_alias),
              changed_from.empty() ? "" : fmt::format(", was '{}'", changed_from));
  }
  held_records_.clear();
  {
    std::lock_guard lock(mu_);
    summary_.clear();
  }
  bool query_failed = false;  // one unreachable leader must not delay every partition
  for (RouteSpec& r : routes) {
    const std::string& topic = r.route.topic;
    const int32_t part = r.route.partition;
    const std::string key = PositionKey(cfg_.source_alias, topic, part);
    probe_.ClearHeld(topic, part);
    std::optional<replication::SourceHold> decided;
    if (auto it = state.holds.find(key); it != state.holds.end()) {
      auto h = replication::SourceHold::FromJson(it->second);
      if (!h) {
        log->error("flow {}: {}[{}]: unreadable hold record in {} ({}): holding the partition "
                   "anyway",
                   cfg_.Name(), topic, part, kOffsetsTopic, h.error().message);
        replication::SourceHold any = replication::MakeSourceHold(cfg_.source_alias, topic, part,
                                                                  r.route.start, -1, -1, WallNowMs());
        Hold(key, any, /*stored=*/true);
        held_records_[key] = it->second;
        ++plan.held;
        continue;
      }
      if (h->state == replication::SourceHold::State::kHeld) {
        Hold(key, *h, /*stored=*/true);
        held_records_[key] = it->second;
        ++plan.held;
        continue;
      }
      if (h->state == replication::SourceHold::State::kDecided) {
        r.route.start = h->new_position;
        decided = std::move(*h);
      }
    }
    if (r.route.start >= 0) {
      auto wm = query_failed ? Result<std::pair<int64_t, int64_t>>(
                                   Error(Errc::kUnavailable, "an earlier query failed"))
                             : query(topic, part);
      if (!wm && !query_failed) {
        query_failed = true;
        log->warn("flow {}: {}[{}]: could not check position {} against the source log ({}); a "
                  "fetch out of the log will still stop it",
                  cfg_.Name(), topic, part, r.route.start, wm.error().message);
      }
      // The offsets' verdict first (it has the numbers); a changed cluster holds even a
      // position inside the new log, unless an operator decided against the new log.
      const bool out =
          wm && replication::ClassifySourcePosition(r.route.start, wm->first, wm->second).reason;
      if (out || (!changed_from.empty() && !decided)) {
        replication::SourceHold h =
            replication::MakeSourceHold(cfg_.source_alias, topic, part, r.route.start,
                                        wm ? wm->first : -1, wm ? wm->second : -1, WallNowMs());
        if (!out) {
          h.reason = replication::HoldReason::kClusterChanged;
          h.count = 0;
        }
        if (!changed_from.empty()) {
          h.stored_cluster = changed_from;
          h.cluster = cluster;
        }
        if (decided) plan.records.emplace_back(key, std::to_string(r.route.start));
        std::string json = h.ToJson();
        plan.records.emplace_back(replication::HoldRecordKey(key), json);
        Hold(key, h, /*stored=*/false);
        held_records_[key] = std::move(json);
        ++plan.held;
        continue;
      }
    }
    if (decided) {
      log->warn("flow {}: source partition {}[{}]: hold lifted by an operator decision ({} by {} "
                "on {}: {}): copying from position {} (held at {})",
                cfg_.Name(), topic, part, decided->action, decided->by, decided->host,
                decided->why, r.route.start, decided->position);
      decided->state = replication::SourceHold::State::kReleased;
      plan.records.emplace_back(key, std::to_string(r.route.start));
      plan.records.emplace_back(replication::HoldRecordKey(key), decided->ToJson());
      r.gauges->position->Set(static_cast<double>(r.route.start));
    }
    plan.copy.push_back(std::move(r));
  }
  if (record_cluster)
    plan.records.emplace_back(replication::ClusterIdKey(cfg_.source_alias), cluster);
  held_count_ = plan.held;
  return plan;
}

bool SourceHolds::Decided(const replication::MirrorState& state) const {
  for (const auto& [key, record] : held_records_) {
    auto it = state.holds.find(key);
    if (it == state.holds.end() || it->second != record) return true;
  }
  return false;
}

std::string SourceHolds::Summary() const {
  std::lock_guard lock(mu_);
  if (summary_.empty()) return "";
  std::string out = fmt::format(
      "{} partition(s) held, an operator must decide (docs/log-gaps.md):", summary_.size());
  bool first = true;
  for (const auto& [key, what] : summary_) {
    out += (first ? " " : "; ") + what;
    first = false;
  }
  return out;
}

}  // namespace walrus::mirror
