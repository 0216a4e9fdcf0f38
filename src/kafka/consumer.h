#pragma once

// Consumer: a Kafka group consumer over librdkafka, built for an applier that keeps its own
// positions (in Redis) and needs to seek, pause and resume partitions.
//
// Threading: one thread uses a Consumer: the caller of PollBatch, which also runs the
// RebalanceHandler callbacks (inside PollBatch and Close). HasReceivedAssignment() and
// Assignment() may be called from any thread (readiness probes).
// Ownership: owns the librdkafka client; the handler is borrowed and must outlive the Consumer.
//
// Defaults (each overridable through `props`): partition.assignment.strategy=cooperative-sticky,
// enable.auto.commit=false, enable.auto.offset.store=false, isolation.level=read_committed,
// auto.offset.reset=earliest, enable.partition.eof=false. `group.id` is required.
//
//   class Positions : public kafka::RebalanceHandler {
//     void OnAssigned(std::vector<kafka::TopicPartition>& parts) override {
//       for (auto& tp : parts) tp.offset = LoadNextOffsetFromRedis(tp);  // or kOffsetBeginning
//     }
//     void OnRevoked(const std::vector<kafka::TopicPartition>& parts) override { Drain(parts); }
//   } handler;
//   auto c = kafka::Consumer::Create({{"bootstrap.servers", b}, {"group.id", "g"}}, &handler);
//   (*c)->Subscribe({"redis-writes"});
//   while (running) {
//     for (kafka::Message& m : (*c)->PollBatch(10000, std::chrono::milliseconds(100))) { ... }
//   }
//   (*c)->Close();

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kafka/message.h"
#include "kafka/types.h"

struct rd_kafka_s;

namespace walrus::kafka {

class Consumer;
namespace internal {
// The librdkafka handle of a consumer, for other wrappers in src/kafka/ only (transactions).
rd_kafka_s* ConsumerHandle(const Consumer& consumer);
}  // namespace internal

// Implemented by the consumer's user; called on the thread that calls Consumer::PollBatch or
// Consumer::Close.
class RebalanceHandler {
 public:
  virtual ~RebalanceHandler() = default;
  // Newly assigned partitions, offsets kOffsetInvalid. Set each .offset to the start position
  // (an absolute offset, kOffsetBeginning, kOffsetEnd, or leave kOffsetInvalid / kOffsetStored
  // for the committed offset, else auto.offset.reset). Do not add or remove entries.
  // The consumer then assigns them at those offsets.
  virtual void OnAssigned(std::vector<TopicPartition>& parts) = 0;
  // Partitions about to be taken away (their records already returned stay valid).
  virtual void OnRevoked(const std::vector<TopicPartition>& parts) = 0;
  // Partitions already lost (session timeout, fenced): another member may own them now.
  virtual void OnLost(const std::vector<TopicPartition>& parts) { OnRevoked(parts); }
};

class Consumer {
 public:
  static Result<std::unique_ptr<Consumer>> Create(const Properties& props,
                                                  RebalanceHandler* handler);
  ~Consumer();  // Close()s
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Topic names or regexes (starting with '^'). Replaces the previous subscription.
  Status Subscribe(const std::vector<std::string>& topics);
  // Up to `max` records: waits up to `timeout` for the first one, then takes whatever else is
  // immediately available. Rebalance callbacks run inside this call. Never returns records of a
  // partition that is not assigned when the call returns, nor partition-EOF events. Error
  // events (Message::error() not ok) are returned in line.
  std::vector<Message> PollBatch(size_t max, std::chrono::milliseconds timeout);
  // Moves assigned partitions to the given offsets; records fetched before are discarded. A
  // partition whose fetching stopped on an error (Message::position_out_of_range) is assigned
  // again at the offset instead (cooperative-sticky assignor only; kUnavailable otherwise).
  Status Seek(const std::vector<TopicPartition>& positions);
  // Stops / restarts fetching; a resumed partition continues after the last returned record.
  Status Pause(const std::vector<TopicPartition>& parts);
  Status Resume(const std::vector<TopicPartition>& parts);
  // Commits next-offsets to the group, asynchronously (failures are logged). For lag visibility.
  Status CommitAsync(const std::vector<TopicPartition>& next_offsets);
  // The group's committed next-offsets for `parts` (kOffsetInvalid where none).
  Result<std::vector<TopicPartition>> Committed(const std::vector<TopicPartition>& parts,
                                                std::chrono::milliseconds timeout);
  // Current assignment (offsets unset). Any thread.
  std::vector<TopicPartition> Assignment() const;
  // True once the first assign callback ran, even with no partitions. Any thread.
  bool HasReceivedAssignment() const;
  // Low/high watermarks cached from fetches (no network round trip); the low one is only
  // refreshed with statistics.interval.ms set. kNotFound before the first fetch.
  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition);
  // Low/high watermarks asked of the partition leader.
  Result<std::pair<int64_t, int64_t>> QueryWatermarks(const std::string& topic, int32_t partition,
                                                      std::chrono::milliseconds timeout);
  // The id of the Kafka cluster the consumer is connected to (from metadata; may wait for it).
  Result<std::string> ClusterId(std::chrono::milliseconds timeout);
  // The client's fatal error, or ok.
  Status FatalError() const;
  // Leaves the group (revoke callbacks run on this thread). Idempotent.
  void Close();

  struct Impl;

 private:
  friend rd_kafka_s* internal::ConsumerHandle(const Consumer& consumer);
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace walrus::kafka
