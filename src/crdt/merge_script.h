#pragma once

// The active-active merge script (merge.lua, embedded at build time), its SHA1, and the naming
// of the per-key metadata sidecars it keeps. Pure data and functions; thread-safe.
//
//   const std::string& body = crdt::MergeScript();        // SCRIPT LOAD body
//   const std::string& sha = crdt::MergeScriptSha1();     // EVALSHA sha 2 key sidecar ...
//   std::string m = crdt::SidecarKey("stock:{sku1}");     // "walrus:m:{sku1}:stock:{sku1}"
//   std::string c = crdt::ContribKey("stock:{sku1}");     // "walrus:c:{sku1}:stock:{sku1}"
//   crdt::KeyOfSidecar("walrus:m:{sku1}:stock:{sku1}");    // "stock:{sku1}"
//
// Sidecar key = "walrus:m:{" + hash tag (or the whole key) + "}:" + key (a hash: LWW stamps,
// tombstones, expiry), contributions key = the same under "walrus:c:" (a zset of counter
// contributions), so a key and its sidecars always share a Redis Cluster slot. Everything
// under "walrus:" is walrus' own state (the reserved namespace of core/keyspace.h: no op may
// write it, so no op can forge or erase a sidecar).

#include <optional>
#include <string>
#include <string_view>

#include "core/keyspace.h"
#include "protocol/redis_keys.h"

namespace walrus::crdt {

inline constexpr std::string_view kSidecarPrefix = protocol::kCrdtSidecarPrefix;
inline constexpr std::string_view kContribPrefix = protocol::kCrdtContribPrefix;
inline constexpr std::string_view kInternalPrefix = kReservedPrefix;  // core/keyspace.h
static_assert(kSidecarPrefix.starts_with(kReservedPrefix) &&
              kContribPrefix.starts_with(kReservedPrefix));

const std::string& MergeScript();
// Lower-case hex SHA1 of MergeScript(), as Redis computes it for EVALSHA.
const std::string& MergeScriptSha1();
std::string SidecarKey(std::string_view key);
std::string ContribKey(std::string_view key);
// True for SidecarKey / ContribKey names.
bool IsSidecar(std::string_view name);
// The user key whose SidecarKey is `name` ("walrus:m:{tag}:key" -> "key"); nullopt if `name`
// is no sidecar name. Used by the GC sweep, which finds sidecars by SCAN.
std::optional<std::string_view> KeyOfSidecar(std::string_view name);

}  // namespace walrus::crdt
