#pragma once

// The Redis keys walrus keeps beside the user's data: one definition of every name the applier,
// `walrus position`, `walrus elect`, `walrus produce`, `walrus status`, the gateway and verify
// must agree on. A wire contract: existing datasets must still be read, so these strings never
// change (redis_keys_test.cc pins each one).
//
//   walrus:pos:<topic>:<partition>              next offset to apply (the applier's position)
//   walrus:src:<alias>/<topic>/<partition>      highest mirrored source offset applied
//   walrus:epoch                                leader epoch fence (walrus elect writes it)
//   walrus:hlc                                  highest HLC stamp applied (active-active)
//   walrus:hold:<topic>:<partition>             a held partition (JSON, core/hold_record.h)
//   walrus:kafka-cluster-id:<topic>:<partition> Kafka cluster id the position refers to
//   walrus:decisions                            stream of operator decisions (walrus position)
//   walrus:outbox:<topic>:<partition>           dead letters not yet acknowledged by the DLQ
//   walrus:m:{tag}:<key> / walrus:c:{tag}:<key> crdt sidecar / contributions (src/crdt)
//
// None carries a hash tag today (except the crdt ones, which take the user key's); see README.md
// for which will need one under Redis Cluster.
//
//   conn.Command({"GET", protocol::PositionKey("redis-writes", 3)});  // walrus:pos:redis-writes:3
//
// Pure functions; any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace walrus::protocol {

// Every key walrus stores begins with this; no op may write one (core/keyspace.h).
inline constexpr std::string_view kReservedPrefix = "walrus:";

inline constexpr std::string_view kPositionKeyPrefix = "walrus:pos:";
inline constexpr std::string_view kSourceKeyPrefix = "walrus:src:";
inline constexpr std::string_view kHoldKeyPrefix = "walrus:hold:";
inline constexpr std::string_view kClusterIdKeyPrefix = "walrus:kafka-cluster-id:";
inline constexpr std::string_view kOutboxKeyPrefix = "walrus:outbox:";
inline constexpr std::string_view kEpochKey = "walrus:epoch";
inline constexpr std::string_view kHlcKey = "walrus:hlc";
inline constexpr std::string_view kDecisionsKey = "walrus:decisions";
// Active-active sidecars: prefix + "{" + hash tag of the user key + "}:" + user key
// (crdt::SidecarKey / ContribKey build them).
inline constexpr std::string_view kCrdtSidecarPrefix = "walrus:m:";
inline constexpr std::string_view kCrdtContribPrefix = "walrus:c:";

static_assert(kPositionKeyPrefix.starts_with(kReservedPrefix) &&
              kSourceKeyPrefix.starts_with(kReservedPrefix) &&
              kHoldKeyPrefix.starts_with(kReservedPrefix) &&
              kClusterIdKeyPrefix.starts_with(kReservedPrefix) &&
              kOutboxKeyPrefix.starts_with(kReservedPrefix) &&
              kEpochKey.starts_with(kReservedPrefix) && kHlcKey.starts_with(kReservedPrefix) &&
              kDecisionsKey.starts_with(kReservedPrefix) &&
              kCrdtSidecarPrefix.starts_with(kReservedPrefix) &&
              kCrdtContribPrefix.starts_with(kReservedPrefix));

// "walrus:pos:<topic>:<partition>"
std::string PositionKey(std::string_view topic, int32_t partition);
// "walrus:src:<stream>", stream = "<alias>/<topic>/<partition>" of a walrus-src header.
std::string SourceKey(std::string_view stream);
// "walrus:hold:<topic>:<partition>"
std::string HoldKey(std::string_view topic, int32_t partition);
// "walrus:hold:<topic>:" (SCAN MATCH <prefix>*).
std::string HoldKeyPrefix(std::string_view topic);
// "walrus:kafka-cluster-id:<topic>:<partition>"
std::string ClusterIdKey(std::string_view topic, int32_t partition);
// "walrus:outbox:<topic>:<partition>"
std::string OutboxKey(std::string_view topic, int32_t partition);

}  // namespace walrus::protocol
