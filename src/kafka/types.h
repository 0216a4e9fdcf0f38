#pragma once

// Plain value types shared by the librdkafka wrappers (producer, consumer, admin, mock cluster).
// No librdkafka types leak out of src/kafka/: callers only see these.
//
//   walrus::kafka::Properties props = {{"bootstrap.servers", "127.0.0.1:9092"}};
//   walrus::kafka::TopicPartition tp{"redis-writes", 3, walrus::kafka::kOffsetBeginning};

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace walrus::kafka {

// librdkafka configuration properties, applied in order (a later entry overrides an earlier one).
using Properties = std::vector<std::pair<std::string, std::string>>;

// Logical offsets, identical to librdkafka's RD_KAFKA_OFFSET_* values.
inline constexpr int64_t kOffsetBeginning = -2;   // earliest available offset
inline constexpr int64_t kOffsetEnd = -1;         // next offset to be produced (high watermark)
inline constexpr int64_t kOffsetStored = -1000;   // the group's committed offset
inline constexpr int64_t kOffsetInvalid = -1001;  // unset: committed offset, else auto.offset.reset

// A record header. Kafka allows a header without a value (null), distinct from an empty value.
struct Header {
  std::string name;
  std::optional<std::string> value;

  bool operator==(const Header&) const = default;
};

// A partition of a topic plus an offset whose meaning depends on the call (start position,
// next offset to commit, ...). `error` is set by calls that report per-partition failures.
struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = kOffsetInvalid;

  bool operator==(const TopicPartition& o) const {
    return topic == o.topic && partition == o.partition && offset == o.offset;
  }
};

// A record to produce. partition -1 lets the partitioner choose by key (murmur2_random by
// default, the same hash as the Java client, so every client puts a key in the same partition).
struct OutRecord {
  std::string topic;
  int32_t partition = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
  int64_t timestamp_ms = 0;  // 0: now
};

// Outcome of one produced record, passed to the producer's callback.
struct DeliveryReport {
  Status status;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = kOffsetInvalid;
  int64_t timestamp_ms = -1;
};

// One topic as seen in cluster metadata.
struct TopicInfo {
  std::string name;
  int32_t partitions = 0;
};

}  // namespace walrus::kafka
