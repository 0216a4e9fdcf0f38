#include "replication/forwarder_prefetch.h"

#include <librdkafka/rdkafka.h>

namespace walrus::replication::internal {
namespace {

// How long one wait for the first record of a batch lasts (bounds the time to stop).
constexpr int kPollMs = 100;

}  // namespace

ForwarderPrefetch::ForwarderPrefetch(rd_kafka_queue_t* queue, Prepare prepare, size_t batch,
                                     size_t depth)
    : queue_(queue), prepare_(std::move(prepare)), batch_(batch), depth_(depth) {}

ForwarderPrefetch::~ForwarderPrefetch() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  room_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& b : ready_) Destroy(b);
}

void ForwarderPrefetch::Start() { thread_ = std::thread([this] { Run(); }); }

void ForwarderPrefetch::Destroy(std::vector<PrefetchedRecord>& recs) {
  for (auto& r : recs) {
    if (r.hdrs != nullptr) rd_kafka_headers_destroy(r.hdrs);
    rd_kafka_message_destroy(r.msg);
  }
  recs.clear();
}

void ForwarderPrefetch::Run() {
  std::vector<rd_kafka_message_t*> buf(batch_);
  for (;;) {
    {
      std::unique_lock lock(mu_);
      room_cv_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_) return;
    }
    ssize_t n = rd_kafka_consume_batch_queue(queue_, kPollMs, buf.data(), 1);
    if (n == 1 && batch_ > 1) {
      const ssize_t more = rd_kafka_consume_batch_queue(queue_, 0, buf.data() + 1, batch_ - 1);
      if (more > 0) n += more;
    }
    if (n <= 0) continue;
    std::vector<PrefetchedRecord> recs(static_cast<size_t>(n));
    for (ssize_t i = 0; i < n; ++i) {
      PrefetchedRecord& r = recs[static_cast<size_t>(i)];
      r.msg = buf[static_cast<size_t>(i)];
      if (r.msg->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_message_detach_headers(r.msg, &r.hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        r.hdrs = nullptr;
      }
      if (prepare_) prepare_(r);
    }
    {
      std::lock_guard lock(mu_);
      if (stop_) {
        Destroy(recs);
        return;
      }
      ready_.push_back(std::move(recs));
    }
    ready_cv_.notify_one();
  }
}

void ForwarderPrefetch::Take(size_t max, std::chrono::milliseconds timeout,
                             std::vector<PrefetchedRecord>& out) {
  std::unique_lock lock(mu_);
  if (!ready_cv_.wait_for(lock, timeout, [&] { return !ready_.empty(); })) return;
  size_t taken = 0;
  while (!ready_.empty() && (taken == 0 || taken + ready_.front().size() <= max)) {
    taken += ready_.front().size();
    out.insert(out.end(), ready_.front().begin(), ready_.front().end());
    ready_.pop_front();
  }
  lock.unlock();
  room_cv_.notify_one();
}

}  // namespace walrus::replication::internal
