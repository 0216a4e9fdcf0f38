#include "gateway/state_digest.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/keyspace.h"
#include "core/sha1.h"

namespace walrus::gateway {
namespace {

void Item(std::string_view s, std::string& out) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

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

bool IsUserKey(std::string_view key) { return !IsReservedKey(key); }

void Canonicalize(KeyValue& kv) {
  if (kv.type == "hash") std::sort(kv.pairs.begin(), kv.pairs.end());
  if (kv.type == "set") std::sort(kv.items.begin(), kv.items.end());
}

void AppendCanonical(const KeyValue& kv, std::string& out) {
  Item(kv.key, out);
  Item(kv.type, out);
  if (kv.type == "string") {
    Item(kv.str, out);
  } else if (kv.type == "hash" || kv.type == "zset") {
    out += std::to_string(kv.pairs.size()) + '#';
    for (const auto& [a, b] : kv.pairs) {
      Item(a, out);
      Item(b, out);
    }
  } else if (kv.type == "set" || kv.type == "list") {
    out += std::to_string(kv.items.size()) + '#';
    for (const auto& i : kv.items) Item(i, out);
  } else if (kv.type == "stream") {
    out += std::to_string(kv.entries.size()) + '#';
    for (const auto& e : kv.entries) {
      Item(e.id, out);
      out += std::to_string(e.fields.size()) + '#';
      for (const auto& [f, v] : e.fields) {
        Item(f, out);
        Item(v, out);
      }
    }
  }
  out += '\n';
}

std::string DigestOf(const std::vector<KeyValue>& sorted) {
  std::string text;
  for (const auto& kv : sorted) AppendCanonical(kv, text);
  return Sha1Hex(text);
}

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
