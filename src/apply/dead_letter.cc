#include "apply/dead_letter.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "protocol/headers.h"

namespace walrus::apply {

DeadLetterSink::DeadLetterSink(std::shared_ptr<kafka::Producer> producer, TopicFor topic_for,
                               ApplyProbe& probe, std::string group)
    : producer_(std::move(producer)),
      topic_for_(std::move(topic_for)),
      probe_(probe),
      group_(std::move(group)) {}

void DeadLetterSink::SendCommitted(const kafka::Message& msg, const std::string& category,
                                   const std::string& reason) {
  kafka::OutRecord rec;
  rec.topic = topic_for_(std::string(msg.topic()));
  if (auto k = msg.key()) rec.key = std::string(*k);
  if (auto v = msg.value()) rec.value = std::string(*v);
  rec.headers = msg.headers();
  rec.headers.push_back({protocol::kDlqReasonHeader, reason});
  rec.headers.push_back({protocol::kDlqCategoryHeader, category});
  rec.headers.push_back({protocol::kDlqGroupHeader, group_});
  rec.headers.push_back({protocol::kSrcTopicHeader, std::string(msg.topic())});
  rec.headers.push_back({protocol::kSrcPartitionHeader, std::to_string(msg.partition())});
  rec.headers.push_back({protocol::kSrcOffsetHeader, std::to_string(msg.offset())});
  rec.headers.push_back({protocol::kSrcTimestampHeader, std::to_string(msg.timestamp_ms())});
  probe_.Dlq(category).Increment();
  WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 1000,
                      "dead-letter topic={} partition={} offset={} category={} reason={}",
                      msg.topic(), msg.partition(), msg.offset(), category, reason);
  pending_.push_back(std::move(rec));
}

void DeadLetterSink::SendRecovered(const std::string& topic, int32_t partition, int64_t offset,
                                   const std::string& category, const std::string& reason,
                                   const kafka::Message* original, const std::string& missing) {
  kafka::OutRecord rec;
  rec.topic = topic_for_(topic);
  int64_t ts = -1;
  if (original != nullptr) {
    if (auto k = original->key()) rec.key = std::string(*k);
    if (auto v = original->value()) rec.value = std::string(*v);
    rec.headers = original->headers();
    ts = original->timestamp_ms();
  }
  rec.headers.push_back({protocol::kDlqReasonHeader, reason});
  rec.headers.push_back({protocol::kDlqCategoryHeader, category});
  rec.headers.push_back({protocol::kDlqGroupHeader, group_});
  rec.headers.push_back({protocol::kSrcTopicHeader, topic});
  rec.headers.push_back({protocol::kSrcPartitionHeader, std::to_string(partition)});
  rec.headers.push_back({protocol::kSrcOffsetHeader, std::to_string(offset)});
  rec.headers.push_back({protocol::kSrcTimestampHeader, std::to_string(ts)});
  rec.headers.push_back({protocol::kDlqRecoveredHeader, "1"});
  if (original == nullptr) rec.headers.push_back({protocol::kDlqBodyMissingHeader, missing});
  probe_.Dlq(category).Increment();
  Logger("apply")->warn(
      "dead-letter from the outbox topic={} partition={} offset={} category={} reason={}{}", topic,
      partition, offset, category, reason,
      original == nullptr ? " (original record gone: " + missing + ")" : std::string());
  pending_.push_back(std::move(rec));
}

bool DeadLetterSink::AwaitAll(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  while (!pending_.empty()) {
    // Produce everything asynchronously, then wait for all delivery reports.
    struct Shared {
      std::mutex mu;
      std::condition_variable cv;
      size_t done = 0;
      std::vector<std::string> errors;  // "" = delivered
    };
    auto shared = std::make_shared<Shared>();
    shared->errors.resize(pending_.size());
    for (size_t i = 0; i < pending_.size(); ++i) {
      auto st = producer_->Produce(pending_[i], [shared, i](const kafka::DeliveryReport& r) {
        std::lock_guard lock(shared->mu);
        if (!r.status) shared->errors[i] = r.status.error().message;
        ++shared->done;
        shared->cv.notify_all();
      });
      if (!st) {
        std::lock_guard lock(shared->mu);
        shared->errors[i] = st.error().message;
        ++shared->done;
      }
    }
    {
      // librdkafka retries until message.timeout.ms, then reports failure: wait for that.
      std::unique_lock lock(shared->mu);
      while (!shared->cv.wait_for(lock, std::chrono::seconds(10),
                                  [&] { return shared->done == pending_.size(); })) {
        WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 10000,
                            "waiting for {} dead-letter acknowledgements",
                            pending_.size() - shared->done);
      }
    }
    std::vector<kafka::OutRecord> failed;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (shared->errors[i].empty()) continue;
      probe_.dlq_failures.Increment();
      auto& rec = pending_[i];
      if (rec.value && (shared->errors[i].find("MSG_SIZE_TOO_LARGE") != std::string::npos ||
                        shared->errors[i].find("too large") != std::string::npos)) {
        // The DLQ cannot take the original value: keep the coordinates and reason (the record
        // itself stays in the source topic) rather than stall the partition forever.
        rec.headers.push_back(
            {protocol::kDlqValueOmittedHeader, std::to_string(rec.value->size())});
        rec.value.reset();
      }
      WALRUS_LOG_EVERY_MS(Logger("apply"), error, 1000,
                          "dead-letter produce to {} failed, will retry: {}", pending_[i].topic,
                          shared->errors[i]);
      failed.push_back(std::move(pending_[i]));
    }
    pending_ = std::move(failed);
    if (pending_.empty()) return true;
    if (stop.load()) return false;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  return true;
}

}  // namespace walrus::apply
