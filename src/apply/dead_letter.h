#pragma once

// DeadLetterSink: sends records the applier cannot apply to the dead-letter topic, with the
// reason and their original coordinates in headers, and waits until Kafka acknowledged them.
// Applier thread only (the producer's delivery callbacks run on its poll thread).
//
// Headers added to the original record's headers:
//   walrus-dlq-reason     human-readable reason (decoder or Redis error text)
//   walrus-dlq-category   decode | refused | rejected
//   walrus-src-topic / walrus-src-partition / walrus-src-offset / walrus-src-timestamp

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "apply/apply_probe.h"
#include "core/result.h"
#include "kafka/message.h"
#include "kafka/producer.h"

namespace walrus::apply {

class DeadLetterSink {
 public:
  using TopicFor = std::function<std::string(const std::string& source_topic)>;

  DeadLetterSink(std::shared_ptr<kafka::Producer> producer, TopicFor topic_for, ApplyProbe& probe);

  // Queues one record for the DLQ. `category` is a low-cardinality label.
  void Send(const kafka::Message& msg, const std::string& category, const std::string& reason);
  // Waits for every queued record to be acknowledged; on failure re-sends (the records are kept
  // until acknowledged) until it succeeds or `stop` is set. Returns false only when stopped.
  bool AwaitAll(const std::atomic<bool>& stop);
  size_t pending() const { return pending_.size(); }

 private:
  std::shared_ptr<kafka::Producer> producer_;
  TopicFor topic_for_;
  ApplyProbe& probe_;
  std::vector<kafka::OutRecord> pending_;
};

}  // namespace walrus::apply
