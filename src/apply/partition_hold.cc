#include "apply/partition_hold.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "kafka/log_bounds.h"

namespace walrus::apply {

std::string HoldKey(std::string_view topic, int32_t partition) {
  return fmt::format("walrus:hold:{}:{}", topic, partition);
}

std::string HoldKeyPrefix(std::string_view topic) { return fmt::format("walrus:hold:{}:", topic); }

std::string ClusterIdKey(std::string_view topic, int32_t partition) {
  return fmt::format("walrus:kafka-cluster-id:{}:{}", topic, partition);
}

Classification ClassifyPosition(int64_t position, int64_t low, int64_t high) {
  const kafka::LogPlacement p = kafka::PlacePosition(position, low, high);
  switch (p.where) {
    case kafka::LogPlacement::kBeyondEnd:
      return {Verdict::kBeyondEnd, p.count};
    case kafka::LogPlacement::kBeforeStart:
      return {Verdict::kRetentionGap, p.count};
    case kafka::LogPlacement::kInLog:
      break;
  }
  return {};
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kBeyondEnd:
      return "beyond_end";
    case Verdict::kRetentionGap:
      return "retention_gap";
    case Verdict::kClusterChanged:
      return "cluster_changed";
    case Verdict::kInRange:
      break;
  }
  return "in_range";
}

std::optional<Verdict> ParseVerdict(std::string_view name) {
  for (Verdict v : {Verdict::kInRange, Verdict::kBeyondEnd, Verdict::kRetentionGap,
                    Verdict::kClusterChanged}) {
    if (VerdictName(v) == name) return v;
  }
  return std::nullopt;
}

std::string PartitionHold::Describe() const {
  std::string out = DescribeReason();
  if (reason != Verdict::kClusterChanged && !stored_cluster.empty() && stored_cluster != cluster) {
    out += fmt::format("; Kafka cluster changed from '{}' to '{}'", stored_cluster, cluster);
  }
  return out;
}

std::string PartitionHold::DescribeReason() const {
  if (reason == Verdict::kClusterChanged) {
    return fmt::format(
        "{}[{}] held: Kafka cluster changed (positions stored for cluster '{}', consuming "
        "cluster '{}'): stored position {} refers to another log (log now [{}, {}])",
        topic, partition, stored_cluster, cluster, position, low, high);
  }
  if (reason == Verdict::kRetentionGap) {
    return fmt::format(
        "{}[{}] held: retention gap [{}, {}) of {} records deleted before they were applied "
        "(stored position {}, log [{}, {}])",
        topic, partition, position, low, count, position, low, high);
  }
  return fmt::format(
      "{}[{}] held: stored position {} beyond log end {} by {} (log replaced or truncated; "
      "log [{}, {}])",
      topic, partition, position, high, count, low, high);
}

std::string PartitionHold::ToJson() const {
  return nlohmann::json{{"topic", topic},        {"partition", partition},
                        {"reason", VerdictName(reason)}, {"position", position},
                        {"low", low},            {"high", high},
                        {"count", count},        {"since_ms", since_ms},
                        {"stored_cluster", stored_cluster}, {"cluster", cluster}}
      .dump();
}

Result<PartitionHold> PartitionHold::FromJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Errc::kInvalidArgument, "hold: not a JSON object");
  }
  try {
    PartitionHold h;
    h.topic = j.at("topic").get<std::string>();
    h.partition = j.at("partition").get<int32_t>();
    auto reason = ParseVerdict(j.at("reason").get<std::string>());
    if (!reason || *reason == Verdict::kInRange) {
      return Error(Errc::kInvalidArgument, "hold: unknown reason");
    }
    h.reason = *reason;
    h.position = j.at("position").get<int64_t>();
    h.low = j.at("low").get<int64_t>();
    h.high = j.at("high").get<int64_t>();
    h.count = j.at("count").get<int64_t>();
    h.since_ms = j.value("since_ms", int64_t{0});
    h.stored_cluster = j.value("stored_cluster", std::string());
    h.cluster = j.value("cluster", std::string());
    return h;
  } catch (const std::exception& e) {
    return Error(Errc::kInvalidArgument, std::string("hold: ") + e.what());
  }
}

PartitionHold MakeHold(std::string topic, int32_t partition, int64_t position, int64_t low,
                       int64_t high, int64_t now_ms) {
  const Classification c = ClassifyPosition(position, low, high);
  PartitionHold h;
  h.topic = std::move(topic);
  h.partition = partition;
  h.reason = c.verdict == Verdict::kInRange ? Verdict::kBeyondEnd : c.verdict;
  h.position = position;
  h.low = low;
  h.high = high;
  h.count = c.count;
  h.since_ms = now_ms;
  return h;
}

PartitionHold MakeClusterHold(std::string topic, int32_t partition, int64_t position, int64_t low,
                              int64_t high, std::string stored_cluster, std::string cluster,
                              int64_t now_ms) {
  PartitionHold h;
  h.topic = std::move(topic);
  h.partition = partition;
  h.reason = Verdict::kClusterChanged;
  h.position = position;
  h.low = low;
  h.high = high;
  h.since_ms = now_ms;
  h.stored_cluster = std::move(stored_cluster);
  h.cluster = std::move(cluster);
  return h;
}

}  // namespace walrus::apply
