#pragma once

// OpProducer: the public C++ producer API of walrus — what `walrus produce`, the gateway and any
// C++ application use to write ops to the log.
//
// It validates each Write with the applier's own rules (allow-list, arity, key rules), stamps
// `origin` and a hybrid-logical-clock `hlc` when an origin is configured (active-active), keys and
// partitions the record by its routing key exactly as the applier and Java clients expect
// (core/routing.h), and reports Kafka's acknowledgement (topic, partition, offset, hlc).
//
//   auto producer = walrus::client::OpProducer::Create(
//       {.brokers = "127.0.0.1:9092", .origin = "us", .hlc_floor_file = "/var/lib/walrus/hlc-us"});
//   if (!producer) return producer.error();
//   walrus::Write w;
//   w.ops.push_back({.cmd = "INCRBY", .key = "sales:total", .args = {"5"}});
//   auto ack = (*producer)->SendSync("us.events", std::move(w), std::chrono::seconds(10));
//   if (ack) fmt::print("{}/{}@{} hlc={}\n", ack->topic, ack->partition, ack->offset, ack->hlc);
//
//   (*producer)->Observe(remote_hlc);  // a stamp applied/seen locally: later writes sort after it
//
// Threading: all methods are thread-safe. Callbacks handed to Send run on the Kafka delivery
// thread; they must be quick and must not call Send or SendSync. Owns its Kafka producer and its
// clock. Sends are stamped and enqueued under one lock, so within a partition the log order is
// the stamp order. Destruction flushes (bounded); callbacks still pending then get an error.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/op.h"
#include "core/result.h"
#include "kafka/types.h"

namespace walrus::client {

struct ProducerOptions {
  std::string brokers;           // bootstrap servers host:port[,...]
  std::string origin;            // region; empty: plain mode, no origin/hlc stamped
  std::string hlc_floor_file;    // persisted HLC floor (restart safety); empty: none
  kafka::Properties properties;  // extra librdkafka properties (security, -X); win over defaults
  std::chrono::milliseconds metadata_timeout{10000};  // partition-count lookups
  int64_t max_drift_ms = 60000;                       // HLC drift guard for Observe
  std::function<int64_t()> now_ms;  // wall clock in unix ms for the HLC; empty: system clock
  // How far ahead the floor file is written (one write per step). Each restart starts above the
  // floor, so a short-lived process (a CLI run in a loop) wants a small step, or its stamps run
  // ahead of the wall clock by a step per run; a long-lived one a large step (fewer writes).
  int64_t floor_step_ms = 10000;
};

// The outcome of one Send.
struct Ack {
  Status status;  // ok, or why the record was not acknowledged
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string origin;  // as stamped ("" in plain mode)
  std::string hlc;     // as stamped ("" in plain mode)
};

class OpProducer {
 public:
  using Callback = std::function<void(const Ack&)>;

  static Result<std::unique_ptr<OpProducer>> Create(ProducerOptions opts);
  ~OpProducer();
  OpProducer(const OpProducer&) = delete;
  OpProducer& operator=(const OpProducer&) = delete;

  // Validates and stamps `write` (an origin/hlc already present in it is an error when the
  // producer has an origin of its own and they differ), then enqueues it. An error returned here
  // (invalid op, unknown topic, queue full) means `done` will not run; otherwise `done` runs
  // exactly once with Kafka's outcome.
  Status Send(std::string_view topic, Write write, Callback done);
  // Send and wait for the acknowledgement. kTimeout if none within `timeout`.
  Result<Ack> SendSync(std::string_view topic, Write write, std::chrono::milliseconds timeout);
  // Merges a stamp seen elsewhere (e.g. applied in the local region) into the clock, so the next
  // local write sorts after it. Refuses stamps beyond the drift guard. No-op in plain mode.
  Status Observe(std::string_view hlc);
  // Waits until everything sent has been acknowledged or failed.
  Status Flush(std::chrono::milliseconds timeout);
  const std::string& origin() const;

 private:
  struct Impl;
  explicit OpProducer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace walrus::client
