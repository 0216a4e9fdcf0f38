#pragma once

// DeadLetterSink: sends records the applier cannot apply to the dead-letter topic, with the
// reason and their original coordinates in headers, and waits until Kafka acknowledged them.
// Applier thread only (the producer's delivery callbacks run on its poll thread).
//
// Only ever for records whose outbox entry (outbox.h) is committed in Redis: a dead letter is
// produced AFTER the transaction that consumed its record, and the entry is deleted only after
// the acknowledgement, so a crash in between leaves the entry for OutboxDrain.
//
// Headers added to the original record's headers:
//   walrus-dlq-reason     human-readable reason (decoder or Redis error text)
//   walrus-dlq-category   decode | refused | rejected
//   walrus-dlq-group      the applier's consumer group (several groups may share one DLQ)
//   walrus-src-topic / walrus-src-partition / walrus-src-offset / walrus-src-timestamp
//   walrus-dlq-recovered  "1" when produced by OutboxDrain after a restart
//   walrus-dlq-body-missing  why the original key/value/headers are absent (recovery only: the
//                         source record was gone, e.g. deleted by retention)

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

  // `group`: the consumer group, written as walrus-dlq-group on every dead letter (OutboxDrain
  // matches on it).
  DeadLetterSink(std::shared_ptr<kafka::Producer> producer, TopicFor topic_for, ApplyProbe& probe,
                 std::string group);

  // Queues one record of a committed transaction for the DLQ. `category` is a low-cardinality
  // label. (Named so that a call before the commit stands out: refusals go to
  // Transaction::Refuse, which writes the outbox entry.)
  void SendCommitted(const kafka::Message& msg, const std::string& category,
                     const std::string& reason);
  // Recovery (OutboxDrain): the entry of `topic`/`partition` whose original record is `original`,
  // or nullptr when it is gone (`missing` says why).
  void SendRecovered(const std::string& topic, int32_t partition, int64_t offset,
                     const std::string& category, const std::string& reason,
                     const kafka::Message* original, const std::string& missing);
  // Waits for every queued record to be acknowledged; on failure re-sends (the records are kept
  // until acknowledged) until it succeeds or `stop` is set. Returns false only when stopped.
  bool AwaitAll(const std::atomic<bool>& stop);
  size_t pending() const { return pending_.size(); }

 private:
  std::shared_ptr<kafka::Producer> producer_;
  TopicFor topic_for_;
  ApplyProbe& probe_;
  std::string group_;
  std::vector<kafka::OutRecord> pending_;
};

}  // namespace walrus::apply
