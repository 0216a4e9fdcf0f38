#include "kafka/producer.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/log.h"
#include "kafka/consumer.h"
#include "kafka/handles.h"

namespace walrus::kafka {
namespace {

using internal::ToError;

// Set while a delivery callback runs on this thread: producing from there must not block.
thread_local bool t_in_delivery_callback = false;

// Per-record opaque: the user's callback and the record's create time.
struct Pending {
  Producer::Callback cb;
  int64_t create_ms;
};

// Log-append times before 2001 are not real: the mock broker answers a constant 1234.
constexpr int64_t kPlausibleLogAppendMs = 1000000000000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// dr_msg_cb: runs on whichever thread polls (the poll thread, or a Flush caller).
void DeliveryCallback(rd_kafka_t* /*rk*/, const rd_kafka_message_t* rkm, void* /*opaque*/) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(rkm->_private));
  if (!pending) return;
  DeliveryReport report;
  report.topic = rkm->rkt != nullptr ? rd_kafka_topic_name(rkm->rkt) : "";
  report.partition = rkm->partition;
  report.offset = rkm->offset;
  rd_kafka_timestamp_type_t type;
  const int64_t ts = rd_kafka_message_timestamp(rkm, &type);
  // The record's timestamp as consumers will see it: log-append time for such topics, else the
  // create time (librdkafka overwrites the timestamp with whatever the broker answers).
  report.timestamp_ms = type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME && ts >= kPlausibleLogAppendMs
                            ? ts
                            : pending->create_ms;
  if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    report.status = ToError(rkm->err, fmt::format("deliver to {}[{}]", report.topic,
                                                  report.partition));
  }
  t_in_delivery_callback = true;
  pending->cb(report);
  t_in_delivery_callback = false;
}

}  // namespace

struct Producer::Impl {
  internal::KafkaPtr rk;
  std::atomic<bool> stop{false};
  std::thread poller;

  ~Impl() {
    if (!rk) return;
    auto log = Logger("kafka");
    if (rd_kafka_flush(rk.get(), 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log->warn("producer closing with {} undelivered records; failing them",
                rd_kafka_outq_len(rk.get()));
      rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      (void)rd_kafka_flush(rk.get(), 1000);  // serves the purge delivery reports
    }
    stop = true;
    if (poller.joinable()) poller.join();
  }
};

Producer::Producer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Producer::~Producer() = default;

Result<std::unique_ptr<Producer>> Producer::Create(const Properties& props) {
  const Properties defaults = {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}};
  auto conf = internal::MakeConf(defaults, props);
  if (!conf) return conf.error();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &DeliveryCallback);
  auto rk = internal::NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk) return rk.error();
  auto impl = std::make_unique<Impl>();
  impl->rk = std::move(*rk);
  Impl* raw = impl.get();
  impl->poller = std::thread([raw] {
    while (!raw->stop.load(std::memory_order_relaxed)) rd_kafka_poll(raw->rk.get(), 100);
  });
  return std::unique_ptr<Producer>(new Producer(std::move(impl)));
}

Status Producer::Produce(OutRecord rec, Callback cb) {
  internal::HeadersPtr hdrs;
  if (!rec.headers.empty()) {
    hdrs.reset(rd_kafka_headers_new(rec.headers.size()));
    for (const auto& h : rec.headers) {
      rd_kafka_header_add(hdrs.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                          h.value ? h.value->data() : nullptr,
                          h.value ? static_cast<ssize_t>(h.value->size()) : 0);
    }
  }
  if (rec.timestamp_ms == 0) rec.timestamp_ms = NowMs();  // what librdkafka would do; we keep it
  auto opaque = cb ? std::make_unique<Pending>(Pending{std::move(cb), rec.timestamp_ms}) : nullptr;

  rd_kafka_vu_t vus[8];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[n++].u.cstr = rec.topic.c_str();
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = rec.partition < 0 ? RD_KAFKA_PARTITION_UA : rec.partition;
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = rec.key ? const_cast<char*>(rec.key->data()) : nullptr;
  vus[n++].u.mem.size = rec.key ? rec.key->size() : 0;
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = rec.value ? const_cast<char*>(rec.value->data()) : nullptr;
  vus[n++].u.mem.size = rec.value ? rec.value->size() : 0;
  vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
  vus[n++].u.i64 = rec.timestamp_ms;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = opaque.get();
  if (hdrs) {
    vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[n++].u.headers = hdrs.get();
  }

  const auto deadline = std::chrono::steady_clock::now() + kQueueFullWait;
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    rd_kafka_error_t* err = rd_kafka_produceva(impl_->rk.get(), vus, n);
    if (err == nullptr) {
      (void)opaque.release();  // freed by DeliveryCallback
      (void)hdrs.release();    // owned by librdkafka now
      return Status::Ok();
    }
    const bool full = rd_kafka_error_code(err) == RD_KAFKA_RESP_ERR__QUEUE_FULL;
    if (!full || t_in_delivery_callback || std::chrono::steady_clock::now() >= deadline) {
      return internal::ToStatus(err, fmt::format("produce to {}[{}]", rec.topic, rec.partition));
    }
    rd_kafka_error_destroy(err);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
  }
}

Result<DeliveryReport> Producer::ProduceSync(OutRecord rec, std::chrono::milliseconds timeout) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<DeliveryReport> report;
  };
  auto state = std::make_shared<State>();
  const std::string topic = rec.topic;
  Status s = Produce(std::move(rec), [state](const DeliveryReport& r) {
    std::lock_guard lock(state->mu);
    state->report = r;
    state->cv.notify_all();
  });
  if (!s.ok()) return s.error();
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_for(lock, timeout, [&] { return state->report.has_value(); })) {
    return Error(Errc::kTimeout,
                 fmt::format("produce to {}: no delivery report within {} ms (the record may "
                             "still be delivered)",
                             topic, timeout.count()));
  }
  if (!state->report->status.ok()) return state->report->status.error();
  return std::move(*state->report);
}

Status Producer::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(impl_->rk.get(), static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return ToError(err, fmt::format("flush ({} records still queued)",
                                  rd_kafka_outq_len(impl_->rk.get())));
}

Result<int32_t> Producer::PartitionCount(const std::string& topic,
                                         std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(impl_->rk.get(), 1, nullptr, &md, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return ToError(err, "metadata for " + topic);
  internal::MetadataPtr owned(md);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) return ToError(t.err, "metadata for " + topic);
    return static_cast<int32_t>(t.partition_cnt);
  }
  return Error(Errc::kNotFound, "topic " + topic + " does not exist");
}

int Producer::OutQueueLength() const { return rd_kafka_outq_len(impl_->rk.get()); }

Status Producer::FatalError() const { return internal::FatalStatus(impl_->rk.get(), "producer"); }

Status Producer::InitTransactions(std::chrono::milliseconds timeout) {
  return internal::ToStatus(
      rd_kafka_init_transactions(impl_->rk.get(), static_cast<int>(timeout.count())),
      "init transactions");
}

Status Producer::BeginTransaction() {
  return internal::ToStatus(rd_kafka_begin_transaction(impl_->rk.get()), "begin transaction");
}

Status Producer::SendOffsetsToTransaction(const std::vector<TopicPartition>& next_offsets,
                                          const Consumer& consumer,
                                          std::chrono::milliseconds timeout) {
  auto list = internal::ToList(next_offsets);
  rd_kafka_consumer_group_metadata_t* meta =
      rd_kafka_consumer_group_metadata(internal::ConsumerHandle(consumer));
  Status s = internal::ToStatus(
      rd_kafka_send_offsets_to_transaction(impl_->rk.get(), list.get(), meta,
                                           static_cast<int>(timeout.count())),
      "send offsets to transaction");
  rd_kafka_consumer_group_metadata_destroy(meta);
  return s;
}

Status Producer::CommitTransaction(std::chrono::milliseconds timeout) {
  return internal::ToStatus(
      rd_kafka_commit_transaction(impl_->rk.get(), static_cast<int>(timeout.count())),
      "commit transaction");
}

Status Producer::AbortTransaction(std::chrono::milliseconds timeout) {
  return internal::ToStatus(
      rd_kafka_abort_transaction(impl_->rk.get(), static_cast<int>(timeout.count())),
      "abort transaction");
}

}  // namespace walrus::kafka
