#pragma once

// Kafka topic names walrus creates or derives, and the keys of the mirror's stored state in
// them: one definition. A wire contract (the mirror writes walrus-mirror.offsets, `walrus
// status` and `walrus mirror-position` read it; the applier names its DLQ, status hides it);
// topics_test.cc pins each string.
//
//   walrus-mirror.offsets  (in the target, compacted)
//     <alias>/<topic>/<partition>                 next source offset to copy (decimal)
//     <alias>/<topic>/<partition>/hold            hold record (JSON, core/hold_record.h)
//     <alias>/<topic>/<partition>/decision/<ms>   audit record of one operator decision
//     <alias>/cluster-id                          source Kafka cluster id of the positions
//   walrus-heartbeats      (in the target) key "<source>:<target>", value source wall ms
//   <topic>.dlq            the applier's default dead-letter topic of a source topic
//
//   fw.Produce(protocol::kMirrorOffsetsTopic, protocol::MirrorPositionKey("dc", "t", 3), "42");
//
// Pure functions; any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace walrus::protocol {

inline constexpr const char* kMirrorOffsetsTopic = "walrus-mirror.offsets";
inline constexpr const char* kMirrorHeartbeatsTopic = "walrus-heartbeats";

// Suffix of the default dead-letter topic: "<topic>.dlq".
inline constexpr std::string_view kDlqSuffix = ".dlq";
std::string DlqTopic(std::string_view topic);
// True for "<something>.dlq" (something non-empty).
bool IsDlqTopic(std::string_view topic);

// Keys in walrus-mirror.offsets.
inline constexpr const char* kMirrorHoldSuffix = "/hold";
inline constexpr const char* kMirrorDecisionInfix = "/decision/";
inline constexpr const char* kMirrorClusterIdSuffix = "/cluster-id";
// "<source-alias>/<topic>/<partition>"
std::string MirrorPositionKey(std::string_view source_alias, std::string_view topic,
                              int32_t partition);
// "<source-alias>/<topic>/": every position key of a topic begins with it.
std::string MirrorPositionKeyPrefix(std::string_view source_alias, std::string_view topic);
// "<position key>/hold"
std::string MirrorHoldKey(std::string_view position_key);
// "<position key>/decision/<at_ms>"
std::string MirrorDecisionKey(std::string_view position_key, int64_t at_ms);
// "<source-alias>/cluster-id"
std::string MirrorClusterIdKey(std::string_view source_alias);
// Key of a flow's heartbeats in walrus-heartbeats: "<source-alias>:<target-alias>".
std::string MirrorFlowName(std::string_view source_alias, std::string_view target_alias);
// transactional.id of a flow's producer (worker 0: no suffix): "walrus-mirror.<src>.<tgt>[.<w>]".
// Kept across releases so a restarted mirror fences the transactions of the one it replaces.
std::string MirrorTransactionalId(std::string_view source_alias, std::string_view target_alias,
                                  size_t worker);

}  // namespace walrus::protocol
