#pragma once

// Cluster administration helpers that need no long-lived client: each call creates a short-lived
// librdkafka client from `props` (at least bootstrap.servers), does its work, and destroys it.
// Thread-safe (no shared state). Blocking, bounded by `timeout`.
//
//   auto s = kafka::CreateTopics({{"bootstrap.servers", b}}, {{"redis-writes", 12}}, 10s);
//   auto topics = kafka::ListTopics({{"bootstrap.servers", b}}, 5s);
//   auto committed = kafka::CommittedOffsets({{"bootstrap.servers", b}, {"group.id", "g"}},
//                                            {{"redis-writes", 0}}, 5s);

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kafka/types.h"

namespace walrus::kafka {

// Creates topics (name, partitions) with the broker's default replication factor via the Admin
// API. A topic that already exists counts as success, whatever its partition count.
// Not supported by librdkafka 2.0's mock cluster (the request times out): create mock topics with
// MockCluster::CreateTopic / `walrus devkafka --topic`.
Status CreateTopics(const Properties& props, const std::vector<std::pair<std::string, int>>& topics,
                    std::chrono::milliseconds timeout);

// Every topic of the cluster with its partition count, sorted by name. Asks for all topics, so it
// never auto-creates one.
Result<std::vector<TopicInfo>> ListTopics(const Properties& props,
                                          std::chrono::milliseconds timeout);

// The id of the cluster `props` points at (from metadata).
Result<std::string> ClusterId(const Properties& props, std::chrono::milliseconds timeout);

// The committed next-offsets of the consumer group named by `group.id` in `props`, for `parts`
// (kOffsetInvalid where the group has none). Does not join the group.
Result<std::vector<TopicPartition>> CommittedOffsets(const Properties& props,
                                                     const std::vector<TopicPartition>& parts,
                                                     std::chrono::milliseconds timeout);

}  // namespace walrus::kafka
