#include "gateway/api_request.h"

#include <fmt/format.h>

#include "core/json_codec.h"
#include "crdt/crdt_planner.h"
#include "gateway/gateway_config.h"

namespace walrus::gateway {
namespace {

// A stamp for validation only: CrdtPlanner needs one, its value does not matter.
constexpr const char* kProbeHlc = "000000000001-0000";

Error Bad(std::string msg) { return Error(Errc::kInvalidArgument, std::move(msg)); }

Result<nlohmann::json> ParseObject(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("body is not valid JSON");
  if (!j.is_object()) return Bad("body must be a JSON object");
  return j;
}

}  // namespace

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ErrorJson(std::string_view message) {
  return DumpJson(nlohmann::json{{"error", message}});
}

Status CheckCrdtMergeable(const Write& w, std::string_view region) {
  thread_local crdt::CrdtPlanner planner;
  Write stamped = w;
  stamped.origin = std::string(region);
  stamped.hlc = kProbeHlc;
  std::vector<Argv> cmds;
  if (auto st = planner.Plan(stamped, 0, cmds); !st) {
    return Bad("not supported in active-active (crdt) mode: " + st.error().message);
  }
  return Status::Ok();
}

Result<ProduceRequest> ParseProduceRequest(std::string_view body, bool crdt) {
  auto obj = ParseObject(body);
  if (!obj) return obj.error();
  nlohmann::json& j = *obj;
  auto region = j.find("region");
  if (region == j.end()) return Bad("field 'region' is required");
  if (!region->is_string()) return Bad("field 'region' must be a string");
  ProduceRequest req{.region = region->get<std::string>()};
  j.erase(region);
  for (const char* f : {"origin", "hlc"}) {
    if (j.contains(f)) {
      return Bad(fmt::format("field '{}' must not be given: the gateway stamps origin and hlc", f));
    }
  }
  thread_local JsonDecoder decoder;
  auto w = decoder.Decode(std::nullopt, DumpJson(j));
  if (!w) return Bad("invalid op: " + w.error().message);
  req.write = std::move(*w);
  if (crdt) {
    if (auto st = CheckCrdtMergeable(req.write, req.region); !st) return st.error();
  }
  return req;
}

Result<std::optional<int>> ParseRateBody(std::string_view body, bool required) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (required) return Bad("field 'rate' is required");
    return std::optional<int>();
  }
  auto obj = ParseObject(body);
  if (!obj) return obj.error();
  for (const auto& [k, v] : obj->items()) {
    if (k != "rate") return Bad("unknown field '" + k + "' (expected 'rate')");
  }
  auto it = obj->find("rate");
  if (it == obj->end()) {
    if (required) return Bad("field 'rate' is required");
    return std::optional<int>();
  }
  if (!it->is_number_integer()) return Bad("field 'rate' must be an integer");
  const auto rate = it->get<int64_t>();
  if (rate < kMinSimRate || rate > kMaxSimRate) {
    return Bad(fmt::format("field 'rate' must be in {}..{} ops/s, got {}", kMinSimRate, kMaxSimRate,
                           rate));
  }
  return std::optional<int>(static_cast<int>(rate));
}

}  // namespace walrus::gateway
