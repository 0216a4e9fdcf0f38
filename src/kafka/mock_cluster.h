#pragma once

// MockCluster: librdkafka's in-memory Kafka cluster (rdkafka_mock.h). Its brokers listen on
// 127.0.0.1 ephemeral ports and speak the real Kafka protocol, so any client (walrus, kcat,
// Python) can use it. For development and tests only: data lives in memory, each partition
// keeps only ~5 MiB (older data is silently dropped) and transactions are not honoured.
// See src/kafka/README.md for measured behaviour (auto-creation, Admin API, failover).
//
// Thread-safe (librdkafka posts each call to the mock's own thread). Owns the mock and the
// librdkafka handle hosting it; destroying it closes every broker.
//
//   auto cluster = kafka::MockCluster::Create(3);
//   (*cluster)->CreateTopic("redis-writes", 12);
//   Properties props = {{"bootstrap.servers", (*cluster)->bootstraps()}};

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace walrus::kafka {

class MockCluster {
 public:
  static Result<std::unique_ptr<MockCluster>> Create(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..." (broker ids are 1..brokers, in this order).
  const std::string& bootstraps() const { return bootstraps_; }
  int broker_count() const { return brokers_; }

  // kConflict (TOPIC_ALREADY_EXISTS) if it exists. replication_factor is capped at the broker
  // count.
  Status CreateTopic(const std::string& name, int partitions, int replication_factor = 1);
  // A down broker closes its connections and refuses new ones. It does NOT move partition
  // leadership: partitions it leads stall until SetPartitionLeader moves them.
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);
  Status SetPartitionLeader(const std::string& topic, int32_t partition, int32_t broker_id);
  // Adds a round-trip delay to every response of a broker (0 removes it).
  Status SetBrokerRtt(int32_t broker_id, int rtt_ms);
  // The next `count` Fetch requests (any client, any broker) fail with Kafka error code
  // `error` for every partition they ask for, e.g. 1 (OFFSET_OUT_OF_RANGE).
  void FailNextFetches(size_t count, int error);

  struct Impl;

 private:
  MockCluster(std::unique_ptr<Impl> impl, int brokers, std::string bootstraps);
  std::unique_ptr<Impl> impl_;
  int brokers_;
  std::string bootstraps_;
};

}  // namespace walrus::kafka
