#include "apply/partition_hold.h"

#include <fmt/format.h>

#include "core/hold_record.h"
#include "kafka/log_bounds.h"
#include "protocol/redis_keys.h"

namespace walrus::apply {

std::string HoldKey(std::string_view topic, int32_t partition) {
  return protocol::HoldKey(topic, partition);
}

std::string HoldKeyPrefix(std::string_view topic) { return protocol::HoldKeyPrefix(topic); }

std::string ClusterIdKey(std::string_view topic, int32_t partition) {
  return protocol::ClusterIdKey(topic, partition);
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

namespace {
// A hold's reason is never kInRange (MakeHold, MakeClusterHold); the stored record cannot say it.
HoldReason ToHoldReason(Verdict v) {
  switch (v) {
    case Verdict::kRetentionGap:
      return HoldReason::kRetentionGap;
    case Verdict::kClusterChanged:
      return HoldReason::kClusterChanged;
    case Verdict::kBeyondEnd:
    case Verdict::kInRange:
      break;
  }
  return HoldReason::kBeyondEnd;
}

Verdict ToVerdict(HoldReason r) {
  switch (r) {
    case HoldReason::kRetentionGap:
      return Verdict::kRetentionGap;
    case HoldReason::kClusterChanged:
      return Verdict::kClusterChanged;
    case HoldReason::kBeyondEnd:
      break;
  }
  return Verdict::kBeyondEnd;
}
}  // namespace

// The reasons' names are the stored record's (core/hold_record.h); only "in_range" is ours.
std::string_view VerdictName(Verdict v) {
  return v == Verdict::kInRange ? "in_range" : HoldReasonName(ToHoldReason(v));
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
  return EncodeHold({.topic = topic,
                     .partition = partition,
                     .reason = ToHoldReason(reason),
                     .position = position,
                     .low = low,
                     .high = high,
                     .count = count,
                     .since_ms = since_ms,
                     .stored_cluster = stored_cluster,
                     .cluster = cluster},
                    HoldLayout::kApplier);
}

Result<PartitionHold> PartitionHold::FromJson(std::string_view json) {
  auto r = DecodeHold(json, HoldLayout::kApplier);
  if (!r.ok()) return r.error();
  PartitionHold h;
  h.topic = std::move(r->topic);
  h.partition = r->partition;
  h.reason = ToVerdict(r->reason);
  h.position = r->position;
  h.low = r->low;
  h.high = r->high;
  h.count = r->count;
  h.since_ms = r->since_ms;
  h.stored_cluster = std::move(r->stored_cluster);
  h.cluster = std::move(r->cluster);
  return h;
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
