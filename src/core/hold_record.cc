#include "core/hold_record.h"

#include <nlohmann/json.hpp>

namespace walrus {

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

std::optional<HoldReason> ParseHoldReason(std::string_view name) {
  for (HoldReason r :
       {HoldReason::kBeyondEnd, HoldReason::kRetentionGap, HoldReason::kClusterChanged}) {
    if (HoldReasonName(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view HoldStateName(HoldState s) {
  switch (s) {
    case HoldState::kDecided:
      return "decided";
    case HoldState::kReleased:
      return "released";
    case HoldState::kHeld:
      break;
  }
  return "held";
}

std::optional<HoldState> ParseHoldState(std::string_view name) {
  for (HoldState s : {HoldState::kHeld, HoldState::kDecided, HoldState::kReleased}) {
    if (HoldStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string EncodeHold(const HoldRecord& h, HoldLayout layout) {
  nlohmann::json j = {{"topic", h.topic},
                      {"partition", h.partition},
                      {"reason", HoldReasonName(h.reason)},
                      {"position", h.position},
                      {"low", h.low},
                      {"high", h.high},
                      {"count", h.count},
                      {"since_ms", h.since_ms}};
  const bool mirror = layout == HoldLayout::kMirror;
  if (!mirror || h.reason == HoldReason::kClusterChanged) {
    j["stored_cluster"] = h.stored_cluster;
    j["cluster"] = h.cluster;
  }
  if (mirror) {
    j["state"] = HoldStateName(h.state);
    j["source"] = h.source_alias;
  }
  if (mirror && h.state != HoldState::kHeld) {
    j.update({{"action", h.action},
              {"new_position", h.new_position},
              {"why", h.why},
              {"by", h.by},
              {"host", h.host},
              {"decided_ms", h.decided_ms}});
  }
  return j.dump();
}

Result<HoldRecord> DecodeHold(std::string_view json, HoldLayout layout) {
  const bool mirror = layout == HoldLayout::kMirror;
  // The applier's and the mirror's readers always reported errors differently; kept.
  const Errc code = mirror ? Errc::kDecode : Errc::kInvalidArgument;
  const std::string what = mirror ? "hold record: " : "hold: ";
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Error(code, what + "not a JSON object");
  try {
    HoldRecord h;
    if (mirror) {
      const std::string state = j.at("state").get<std::string>();
      auto s = ParseHoldState(state);
      if (!s) return Error(code, what + "unknown state '" + state + "'");
      h.state = *s;
      h.source_alias = j.value("source", std::string());
    }
    const std::string reason = j.at("reason").get<std::string>();
    auto r = ParseHoldReason(reason);
    if (!r) return Error(code, what + "unknown reason '" + reason + "'");
    h.reason = *r;
    h.topic = j.at("topic").get<std::string>();
    h.partition = j.at("partition").get<int32_t>();
    h.position = j.at("position").get<int64_t>();
    if (mirror) {
      h.low = j.value("low", int64_t{-1});
      h.high = j.value("high", int64_t{-1});
      h.count = j.value("count", int64_t{0});
    } else {
      h.low = j.at("low").get<int64_t>();
      h.high = j.at("high").get<int64_t>();
      h.count = j.at("count").get<int64_t>();
    }
    h.since_ms = j.value("since_ms", int64_t{0});
    h.stored_cluster = j.value("stored_cluster", std::string());
    h.cluster = j.value("cluster", std::string());
    h.action = j.value("action", std::string());
    h.new_position = j.value("new_position", int64_t{-1});
    h.why = j.value("why", std::string());
    h.by = j.value("by", std::string());
    h.host = j.value("host", std::string());
    h.decided_ms = j.value("decided_ms", int64_t{0});
    if (h.state == HoldState::kDecided && h.new_position < 0) {
      return Error(code, what + "a decision without new_position");
    }
    return h;
  } catch (const nlohmann::json::exception& e) {
    return Error(code, what + e.what());
  }
}

}  // namespace walrus
