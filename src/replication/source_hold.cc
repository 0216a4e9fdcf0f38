#include "replication/source_hold.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kafka/log_bounds.h"

namespace walrus::replication {

SourceClassification ClassifySourcePosition(int64_t position, int64_t low, int64_t high) {
  const kafka::LogPlacement p = kafka::PlacePosition(position, low, high);
  switch (p.where) {
    case kafka::LogPlacement::kBeyondEnd:
      return {HoldReason::kBeyondEnd, p.count};
    case kafka::LogPlacement::kBeforeStart:
      return {HoldReason::kRetentionGap, p.count};
    case kafka::LogPlacement::kInLog:
      break;
  }
  return {};
}

std::string_view HoldReasonName(HoldReason r) {
  switch (r) {
    case HoldReason::kRetentionGap:
      return "retention_gap";
    case HoldReason::kClusterChanged:
      return "cluster_changed";
    case HoldReason::kBeyondEnd:
      break;
  }
  return "beyond_end";
}

std::string ClusterIdKey(std::string_view source_alias) {
  return fmt::format("{}/cluster-id", source_alias);
}

std::string_view StateName(SourceHold::State s) {
  switch (s) {
    case SourceHold::State::kDecided:
      return "decided";
    case SourceHold::State::kReleased:
      return "released";
    case SourceHold::State::kHeld:
      break;
  }
  return "held";
}

std::string HoldRecordKey(std::string_view position_key) {
  return fmt::format("{}/hold", position_key);
}

std::string DecisionRecordKey(std::string_view position_key, int64_t at_ms) {
  return fmt::format("{}/decision/{}", position_key, at_ms);
}

std::string SourceHold::Describe() const {
  std::string out;
  if (reason == HoldReason::kClusterChanged) {
    out = fmt::format(
        "source partition {}[{}] held: source Kafka cluster changed (positions stored for "
        "cluster '{}', reading cluster '{}'): stored position {} refers to another log (source "
        "log now [{}, {}])",
        topic, partition, stored_cluster, cluster, position, low, high);
  } else if (reason == HoldReason::kRetentionGap) {
    out = fmt::format(
        "source partition {}[{}] held: retention gap [{}, {}) of {} records deleted from the "
        "source before they were mirrored (stored position {}, source log [{}, {}])",
        topic, partition, position, low, count, position, low, high);
  } else {
    out = fmt::format(
        "source partition {}[{}] held: stored position {} beyond source log end {} by {} "
        "(source log replaced or truncated; source log [{}, {}])",
        topic, partition, position, high, count, low, high);
  }
  if (state == State::kDecided) {
    out += fmt::format("; decided ({} -> {}), applied at the flow's next run", action,
                       new_position);
  }
  return out;
}

std::string SourceHold::ToJson() const {
  nlohmann::json j = {{"state", StateName(state)}, {"source", source_alias},
                      {"topic", topic},            {"partition", partition},
                      {"reason", HoldReasonName(reason)}, {"position", position},
                      {"low", low},                {"high", high},
                      {"count", count},            {"since_ms", since_ms}};
  if (reason == HoldReason::kClusterChanged) {
    j.update({{"stored_cluster", stored_cluster}, {"cluster", cluster}});
  }
  if (state != State::kHeld) {
    j.update({{"action", action}, {"new_position", new_position}, {"why", why}, {"by", by},
              {"host", host}, {"decided_ms", decided_ms}});
  }
  return j.dump();
}

Result<SourceHold> SourceHold::FromJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Error(Errc::kDecode, "hold record: not a JSON object");
  try {
    SourceHold h;
    const std::string state = j.at("state").get<std::string>();
    if (state == "held") {
      h.state = State::kHeld;
    } else if (state == "decided") {
      h.state = State::kDecided;
    } else if (state == "released") {
      h.state = State::kReleased;
    } else {
      return Error(Errc::kDecode, "hold record: unknown state '" + state + "'");
    }
    const std::string reason = j.at("reason").get<std::string>();
    if (reason == "retention_gap") {
      h.reason = HoldReason::kRetentionGap;
    } else if (reason == "cluster_changed") {
      h.reason = HoldReason::kClusterChanged;
    } else if (reason == "beyond_end") {
      h.reason = HoldReason::kBeyondEnd;
    } else {
      return Error(Errc::kDecode, "hold record: unknown reason '" + reason + "'");
    }
    h.stored_cluster = j.value("stored_cluster", std::string());
    h.cluster = j.value("cluster", std::string());
    h.source_alias = j.value("source", std::string());
    h.topic = j.at("topic").get<std::string>();
    h.partition = j.at("partition").get<int32_t>();
    h.position = j.at("position").get<int64_t>();
    h.low = j.value("low", int64_t{-1});
    h.high = j.value("high", int64_t{-1});
    h.count = j.value("count", int64_t{0});
    h.since_ms = j.value("since_ms", int64_t{0});
    h.action = j.value("action", std::string());
    h.new_position = j.value("new_position", int64_t{-1});
    h.why = j.value("why", std::string());
    h.by = j.value("by", std::string());
    h.host = j.value("host", std::string());
    h.decided_ms = j.value("decided_ms", int64_t{0});
    if (h.state == State::kDecided && h.new_position < 0) {
      return Error(Errc::kDecode, "hold record: a decision without new_position");
    }
    return h;
  } catch (const nlohmann::json::exception& e) {
    return Error(Errc::kDecode, std::string("hold record: ") + e.what());
  }
}

SourceHold MakeSourceHold(std::string source_alias, std::string topic, int32_t partition,
                          int64_t position, int64_t low, int64_t high, int64_t now_ms) {
  const auto c = ClassifySourcePosition(position, low, high);
  SourceHold h;
  h.source_alias = std::move(source_alias);
  h.topic = std::move(topic);
  h.partition = partition;
  h.reason = c.reason.value_or(HoldReason::kBeyondEnd);
  h.position = position;
  h.low = low;
  h.high = high;
  h.count = c.count;
  h.since_ms = now_ms;
  return h;
}

}  // namespace walrus::replication
