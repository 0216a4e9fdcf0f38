#pragma once

// Routing: which Kafka record key and partition a Write gets, so that all ops of a Redis key land
// in one partition (hence stay ordered).
//
// The routing key of a Redis key is its hash tag when it has a non-empty one ("stock:{sku1}" ->
// "sku1"), else the whole key — the rule Redis Cluster uses for slots. A multi's keys should share
// a hash tag; its routing key is that tag. Partition = Kafka's default partitioner (murmur2 of the
// routing key, positive, modulo partitions), the same as Java and librdkafka's murmur2 partitioner.
//
//   int32_t p = walrus::PartitionFor(walrus::RoutingKey(write), partitions);

#include <cstdint>
#include <string_view>

#include "core/op.h"

namespace walrus {

// The hash tag of `key` if it has a non-empty one, else `key`.
std::string_view HashTagOrKey(std::string_view key);
// The routing key of a write: the first op's HashTagOrKey.
std::string_view RoutingKey(const Write& w);
// The record key a producer should set: the op's key for a single op, the routing key for multi.
std::string_view RecordKey(const Write& w);
// Kafka's murmur2 (the Java client's Utils.murmur2).
uint32_t KafkaMurmur2(std::string_view data);
int32_t PartitionFor(std::string_view routing_key, int32_t partitions);

}  // namespace walrus
