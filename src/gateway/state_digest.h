#pragma once

// A region's dataset as the gateway shows it, and its digest: the pure half of reading region
// state (state_reader.h does the Redis I/O).
//
//   KeyValue kv{.key = "cart:alice", .type = "set", .items = {"sku2", "sku1"}};
//   Canonicalize(kv);                          // items sorted: {"sku1", "sku2"}
//   nlohmann::json j = ValueJson(kv);          // ["sku1","sku2"]
//   std::string d = DigestOf({kv});            // sha1 hex of the canonical rendering
//
// The digest covers, per key in byte order of the key: the key, its type and its value (not
// its TTL: expiries are compared by `walrus verify`). Every item is length-prefixed, so no two
// different datasets render the same. Keys under `walrus:` (sidecars, positions) are not user
// data and never part of a dataset. Equal digests <=> equal user data.
//
// Pure functions, any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace walrus::gateway {

struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;  // in entry order
  bool operator==(const StreamEntry&) const = default;
};

// One key. Which member holds the value depends on `type` (Redis' TYPE name):
//   string: str; hash: pairs (field, value); zset: pairs (member, score as Redis prints it) in
//   rank order; set, list: items; stream: entries. Other types: no value (type only).
struct KeyValue {
  std::string key;
  std::string type;
  std::string str;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::string> items;
  std::vector<StreamEntry> entries;
  int64_t ttl_ms = -1;  // -1: no expiry
  bool operator==(const KeyValue&) const = default;
};

// True for keys that are user data (not in the reserved namespace "walrus:", core/keyspace.h).
bool IsUserKey(std::string_view key);

// Sorts what has no order of its own: hash fields and set members (bytewise).
void Canonicalize(KeyValue& kv);

// Appends kv's canonical rendering to `out`. Precondition: Canonicalize(kv) was applied.
void AppendCanonical(const KeyValue& kv, std::string& out);

// SHA1 hex over the canonical renderings of `sorted` (each canonicalized, sorted by key).
std::string DigestOf(const std::vector<KeyValue>& sorted);

// The value as the API shows it: string -> string, hash -> object, set -> array, zset ->
// [[member, score], ...] (score a number; "inf"/"-inf" as strings), list -> array,
// stream -> [[id, {field: value}], ...], other types -> null. Invalid UTF-8 is replaced.
nlohmann::json ValueJson(const KeyValue& kv);

// {"type": ..., "value": ..., "ttl_ms": ...}
nlohmann::json KeyJson(const KeyValue& kv);

}  // namespace walrus::gateway
