#pragma once

// A region's keys as the gateway's API shows them (JSON). The keys themselves, their reading and
// their digest are the dataset library's (src/dataset: KeyValue, reader, canonical digest).
//
//   KeyValue kv{.key = "cart:alice", .type = "set", .items = {"sku1", "sku2"}};
//   nlohmann::json j = ValueJson(kv);          // ["sku1","sku2"]
//   KeyJson(kv).dump();                        // {"ttl_ms":-1,"type":"set","value":[...]}
//
// Pure functions, any thread.

#include <nlohmann/json.hpp>

#include "dataset/digest.h"
#include "dataset/key_value.h"

namespace walrus::gateway {

using dataset::IsUserKey;
using dataset::KeyValue;
using dataset::StreamEntry;

// The value as the API shows it: string -> string, hash -> object, set -> array, zset ->
// [[member, score], ...] (score a number; "inf"/"-inf" as strings), list -> array,
// stream -> [[id, {field: value}], ...], other types -> null. Invalid UTF-8 is replaced.
nlohmann::json ValueJson(const KeyValue& kv);

// {"type": ..., "value": ..., "ttl_ms": ...}
nlohmann::json KeyJson(const KeyValue& kv);

}  // namespace walrus::gateway
