#include "gateway/key_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace walrus::gateway {
namespace {

nlohmann::json ScoreJson(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || s.empty() || !std::isfinite(d)) {
    return s;  // "inf", "-inf" or something unexpected: keep Redis' text
  }
  return d;
}

}  // namespace

nlohmann::json ValueJson(const KeyValue& kv) {
  using nlohmann::json;
  if (kv.type == "string") return kv.str;
  if (kv.type == "hash") {
    json o = json::object();
    for (const auto& [f, v] : kv.pairs) o[f] = v;
    return o;
  }
  if (kv.type == "set" || kv.type == "list") return kv.items;
  if (kv.type == "zset") {
    json a = json::array();
    for (const auto& [m, s] : kv.pairs) a.push_back(json::array({m, ScoreJson(s)}));
    return a;
  }
  if (kv.type == "stream") {
    json a = json::array();
    for (const auto& e : kv.entries) {
      json fields = json::object();
      for (const auto& [f, v] : e.fields) fields[f] = v;
      a.push_back(json::array({e.id, std::move(fields)}));
    }
    return a;
  }
  return nullptr;
}

nlohmann::json KeyJson(const KeyValue& kv) {
  return {{"type", kv.type}, {"value", ValueJson(kv)}, {"ttl_ms", kv.ttl_ms}};
}

}  // namespace walrus::gateway
