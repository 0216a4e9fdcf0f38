#pragma once

// KeyValue: one Redis key as read by the dataset reader (reader.h) — its type, its value and its
// expiry — and the unit of the canonical digest (digest.h). Plain data, any thread.
//
//   KeyValue kv{.key = "cart:alice", .type = "set", .items = {"sku2", "sku1"}};
//
// Every string is binary-safe (std::string with its length; NUL bytes are data).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace walrus::dataset {

struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;  // in entry order
  bool operator==(const StreamEntry&) const = default;
};

// One key. Which member holds the value depends on `type` (Redis' TYPE name):
//   string: str; hash: pairs (field, value); zset: pairs (member, score as Redis prints it) in
//   rank order; set, list: items; stream: entries. Other types (modules): str holds the DUMP
//   payload when the reader was asked for it (ReadOptions::dump_other_types), else nothing.
//   "none": the key does not exist (or vanished while it was read).
struct KeyValue {
  std::string key;
  std::string type;
  std::string str;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::string> items;
  std::vector<StreamEntry> entries;
  int64_t ttl_ms = -1;        // PTTL (Expiry::kTtl): -1 no expiry
  int64_t expire_at_ms = -1;  // PEXPIRETIME (Expiry::kExpireTime): -1 no expiry
  bool operator==(const KeyValue&) const = default;
};

}  // namespace walrus::dataset
