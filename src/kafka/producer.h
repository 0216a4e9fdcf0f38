#pragma once

// Producer: an asynchronous, thread-safe Kafka producer over librdkafka.
//
// Ownership: owns the librdkafka client and a background thread that polls delivery reports and
// runs the callbacks handed to Produce(). Any thread may call any method. Destruction flushes
// (bounded), then fails what is still queued (callbacks get an error status), then stops.
//
// Defaults (each overridable through `props`): enable.idempotence=true (no duplicates or
// reordering on retry), partitioner=murmur2_random (the Java client's key hash, so kcat, Java
// and walrus agree on a key's partition).
//
//   auto producer = kafka::Producer::Create({{"bootstrap.servers", brokers}});
//   if (!producer) return producer.error();
//   (*producer)->Produce({.topic = "redis-writes", .key = "k", .value = json},
//                        [](const kafka::DeliveryReport& r) { /* on the poll thread */ });
//   auto report = (*producer)->ProduceSync(std::move(rec), std::chrono::seconds(10));

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kafka/types.h"

namespace walrus::kafka {

class Consumer;

class Producer {
 public:
  using Callback = std::function<void(const DeliveryReport&)>;

  static Result<std::unique_ptr<Producer>> Create(const Properties& props);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues `rec`; `cb` (may be empty) runs once on the poll thread with the outcome. When the
  // local queue is full, waits for room for up to kQueueFullWait (immediately fails with
  // kUnavailable if called from a delivery callback, which would otherwise deadlock).
  // An error returned here means the callback will not run.
  Status Produce(OutRecord rec, Callback cb);
  // Produces and waits for the delivery report. kTimeout if none arrives within `timeout`
  // (the record may still be delivered later); the delivery error if delivery failed.
  Result<DeliveryReport> ProduceSync(OutRecord rec, std::chrono::milliseconds timeout);
  // Waits until every queued record has been delivered or failed. kTimeout otherwise.
  Status Flush(std::chrono::milliseconds timeout);
  // Number of partitions of `topic` from cluster metadata; kNotFound if it does not exist.
  // Asks for all topics, so it never triggers broker-side auto-creation.
  Result<int32_t> PartitionCount(const std::string& topic, std::chrono::milliseconds timeout);
  // Records (and requests) not yet delivered or failed.
  int OutQueueLength() const;
  // The client's fatal error (e.g. idempotence violated), or ok.
  Status FatalError() const;

  // Transactions: need a `transactional.id` property. Call InitTransactions once, then
  // Begin / Produce... / Commit (or Abort). Errors carry librdkafka's message; kConflict when
  // fenced by a newer instance.
  Status InitTransactions(std::chrono::milliseconds timeout);
  Status BeginTransaction();
  // Adds the consumer group's next-offsets to the open transaction (consume-transform-produce:
  // the offsets commit atomically with the produced records). `consumer` is the group member
  // whose records were transformed.
  Status SendOffsetsToTransaction(const std::vector<TopicPartition>& next_offsets,
                                  const Consumer& consumer, std::chrono::milliseconds timeout);
  Status CommitTransaction(std::chrono::milliseconds timeout);
  Status AbortTransaction(std::chrono::milliseconds timeout);

  static constexpr std::chrono::milliseconds kQueueFullWait{30000};

  struct Impl;

 private:
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace walrus::kafka
