#include "replication/source_hold.h"

#include <fmt/format.h>

#include "kafka/log_bounds.h"
#include "protocol/topics.h"

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

std::string ClusterIdKey(std::string_view source_alias) {
  return protocol::MirrorClusterIdKey(source_alias);
}

std::string HoldRecordKey(std::string_view position_key) {
  return protocol::MirrorHoldKey(position_key);
}

std::string DecisionRecordKey(std::string_view position_key, int64_t at_ms) {
  return protocol::MirrorDecisionKey(position_key, at_ms);
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

Result<SourceHold> SourceHold::FromJson(std::string_view json) {
  auto r = DecodeHold(json, HoldLayout::kMirror);
  if (!r.ok()) return r.error();
  SourceHold h;
  static_cast<HoldRecord&>(h) = std::move(*r);
  return h;
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
