#pragma once

// The state `walrus mirror` keeps in Kafka, readable by any tool (the mirror itself, `walrus
// status`). Positions are stored IN THE TARGET cluster: records in the compacted topic
// `walrus-mirror.offsets`, key "<source-alias>/<topic>/<partition>", value the next source
// offset to copy (decimal). The mirror writes them after (non-transactional) or in the same
// transaction as (transactional) the records they cover; ReadMirrorPositions reads the whole topic
// back up to its end (read_committed) and keeps the last value per key.
//
// The same topic holds the state of held source partitions (docs/log-gaps.md, "walrus mirror";
// src/replication/source_hold.h): key "<position key>/hold", value a JSON hold record (state held,
// decided or released; the last one counts), and one audit record per operator decision, key
// "<position key>/decision/<unix ms>" (unique, so compaction keeps every decision); and the
// source Kafka cluster id the positions of a source alias refer to, key "<alias>/cluster-id".
//
//   auto pos = ReadMirrorPositions(target_props, std::chrono::seconds(30));
//   int64_t next = pos->count("dc/redis-writes/3") ? pos->at("dc/redis-writes/3") : -2;
//
// Stateless; blocking; any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "core/result.h"
#include "kafka/types.h"
#include "protocol/topics.h"

namespace walrus::replication {

inline constexpr const char* kMirrorOffsetsTopic = protocol::kMirrorOffsetsTopic;
inline constexpr const char* kMirrorHeartbeatsTopic = protocol::kMirrorHeartbeatsTopic;

inline constexpr const char* kMirrorHoldSuffix = protocol::kMirrorHoldSuffix;
inline constexpr const char* kMirrorDecisionInfix = protocol::kMirrorDecisionInfix;
inline constexpr const char* kMirrorClusterIdSuffix = protocol::kMirrorClusterIdSuffix;

// Everything `walrus mirror` keeps in the target's offsets topic, last value per key.
struct MirrorState {
  std::map<std::string, int64_t> positions;  // position key -> next source offset
  std::map<std::string, std::string> holds;  // position key -> its last hold record (JSON)
  // source alias -> the source Kafka cluster id its positions refer to ("<alias>/cluster-id")
  std::map<std::string, std::string> clusters;
};

// The whole offsets topic of the target (empty when the topic does not exist); kTimeout when
// its end could not be reached in time.
Result<MirrorState> ReadMirrorState(const kafka::Properties& target_props,
                                    std::chrono::milliseconds timeout);

// Every position in the target's offsets topic (empty when the topic does not exist).
// kTimeout when the topic's end could not be reached in time.
Result<std::map<std::string, int64_t>> ReadMirrorPositions(const kafka::Properties& target_props,
                                                           std::chrono::milliseconds timeout);

// The newest heartbeat per "<source>:<target>" key in the target's heartbeats topic: the
// source's wall-clock ms when it was sent.
Result<std::map<std::string, int64_t>> ReadMirrorHeartbeats(const kafka::Properties& target_props,
                                                            std::chrono::milliseconds timeout);

}  // namespace walrus::replication
