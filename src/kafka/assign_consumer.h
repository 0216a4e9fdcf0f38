#pragma once

// AssignConsumer: a Kafka consumer without group membership. The caller assigns partitions at
// explicit offsets (positions it stores elsewhere, e.g. a mirror's positions in the target
// cluster), so there is no rebalance, no join delay and no session timeout after a crash.
//
//   auto c = kafka::AssignConsumer::Create({{"bootstrap.servers", b}});
//   (*c)->Assign({{"redis-writes", 0, 1234}, {"redis-writes", 1, kafka::kOffsetBeginning}});
//   while (running) {
//     for (kafka::Message& m : (*c)->PollBatch(10000, std::chrono::milliseconds(100))) { ... }
//   }
//
// Threading: one thread polls (PollBatch, Assign); Watermarks/QueryWatermarks may be called from
// that thread too. Ownership: owns the librdkafka client.
// Defaults (overridable through `props`): group.id=walrus-assign (never joined, never
// committed), enable.auto.commit=false, enable.auto.offset.store=false,
// isolation.level=read_committed, auto.offset.reset=earliest, enable.partition.eof=false.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kafka/message.h"
#include "kafka/types.h"

namespace walrus::kafka {

class AssignConsumer {
 public:
  static Result<std::unique_ptr<AssignConsumer>> Create(const Properties& props);
  ~AssignConsumer();
  AssignConsumer(const AssignConsumer&) = delete;
  AssignConsumer& operator=(const AssignConsumer&) = delete;

  // Replaces the assignment: fetching starts at each partition's offset (absolute or
  // kOffsetBeginning / kOffsetEnd).
  Status Assign(const std::vector<TopicPartition>& parts);
  // Up to `max` records: waits up to `timeout` for the first one, then takes whatever else is
  // already queued. Error events (Message::error() not ok) are returned in line.
  std::vector<Message> PollBatch(size_t max, std::chrono::milliseconds timeout);
  // Watermarks cached from fetches (no round trip); kNotFound before the first fetch.
  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition);
  // Watermarks asked of the partition leader.
  Result<std::pair<int64_t, int64_t>> QueryWatermarks(const std::string& topic, int32_t partition,
                                                      std::chrono::milliseconds timeout);
  // The first offset whose timestamp is >= `timestamp_ms` (ListOffsets by time); -1 (kOffsetEnd)
  // when there is none, or when the broker cannot look timestamps up (the librdkafka mock).
  Result<int64_t> OffsetForTime(const std::string& topic, int32_t partition, int64_t timestamp_ms,
                                std::chrono::milliseconds timeout);
  // Next offset this consumer will fetch for an assigned partition (moves past transaction
  // markers too); kOffsetInvalid before the first fetch.
  int64_t Position(const std::string& topic, int32_t partition);
  Status FatalError() const;

  struct Impl;

 private:
  explicit AssignConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace walrus::kafka
