#include "kafka/assign_consumer.h"

#include <fmt/format.h>

#include "kafka/handles.h"

namespace walrus::kafka {

using internal::ToError;

struct AssignConsumer::Impl {
  internal::KafkaPtr rk;     // destroyed last
  internal::QueuePtr queue;  // the consumer queue
  std::vector<rd_kafka_message_t*> buf;
};

AssignConsumer::AssignConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AssignConsumer::~AssignConsumer() {
  if (!impl_ || !impl_->rk) return;
  impl_->queue.reset();
  rd_kafka_assign(impl_->rk.get(), nullptr);
  rd_kafka_consumer_close(impl_->rk.get());
}

Result<std::unique_ptr<AssignConsumer>> AssignConsumer::Create(const Properties& props) {
  const Properties defaults = {
      {"group.id", "walrus-assign"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
  };
  auto conf = internal::MakeConf(defaults, props);
  if (!conf) return conf.error();
  auto rk = internal::NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) return rk.error();
  auto impl = std::make_unique<Impl>();
  impl->rk = std::move(*rk);
  rd_kafka_poll_set_consumer(impl->rk.get());
  impl->queue.reset(rd_kafka_queue_get_consumer(impl->rk.get()));
  return std::unique_ptr<AssignConsumer>(new AssignConsumer(std::move(impl)));
}

Status AssignConsumer::Assign(const std::vector<TopicPartition>& parts) {
  auto list = internal::ToList(parts);
  if (auto e = rd_kafka_assign(impl_->rk.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, "assign");
  }
  return Status::Ok();
}

std::vector<Message> AssignConsumer::PollBatch(size_t max, std::chrono::milliseconds timeout) {
  std::vector<Message> out;
  for (rd_kafka_message_t* rkm : internal::ConsumeQueued(impl_->queue.get(), impl_->buf, max, timeout)) {
    out.emplace_back(rkm);
  }
  return out;
}

Result<std::pair<int64_t, int64_t>> AssignConsumer::Watermarks(const std::string& topic,
                                                               int32_t partition) {
  return internal::CachedWatermarks(impl_->rk.get(), topic, partition);
}

Result<std::pair<int64_t, int64_t>> AssignConsumer::QueryWatermarks(
    const std::string& topic, int32_t partition, std::chrono::milliseconds timeout) {
  return internal::QueryWatermarks(impl_->rk.get(), topic, partition, timeout);
}

Result<int64_t> AssignConsumer::OffsetForTime(const std::string& topic, int32_t partition,
                                              int64_t timestamp_ms,
                                              std::chrono::milliseconds timeout) {
  auto list = internal::ToList({TopicPartition{topic, partition, timestamp_ms}});
  auto e = rd_kafka_offsets_for_times(impl_->rk.get(), list.get(), static_cast<int>(timeout.count()));
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR && list->cnt == 1) e = list->elems[0].err;
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return ToError(e, fmt::format("offsets for times {}[{}]", topic, partition));
  }
  return list->cnt == 1 ? list->elems[0].offset : kOffsetInvalid;
}

int64_t AssignConsumer::Position(const std::string& topic, int32_t partition) {
  auto list = internal::ToList({TopicPartition{topic, partition, kOffsetInvalid}});
  if (rd_kafka_position(impl_->rk.get(), list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kOffsetInvalid;
  }
  return list->cnt == 1 ? list->elems[0].offset : kOffsetInvalid;
}

Status AssignConsumer::FatalError() const { return internal::FatalStatus(impl_->rk.get(), "consumer"); }

}  // namespace walrus::kafka
