#pragma once

// ForwarderPrefetch: the consuming half of a replication::Forwarder, on a thread of its own. It
// takes records from a consumer queue and parses their headers (librdkafka parses them on request,
// at a cost comparable to producing the record, even for a record without headers), so that the
// forwarding thread only produces. Records are handed over in batches through a bounded queue.
//
//   internal::ForwarderPrefetch pre(queue);    // the consumer queue, served by nobody else
//   pre.Start();
//   std::vector<internal::PrefetchedRecord> recs;
//   pre.Take(10000, 50ms, recs);               // caller owns recs[i].msg and recs[i].hdrs
//
// Threading: Start() spawns the thread that alone serves the queue; Take() is called by one other
// thread. Ownership: borrows the queue (which must outlive this object); the destructor stops
// and joins the thread and destroys the records not taken.

#include <condition_variable>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/src_mac.h"

struct rd_kafka_message_s;
struct rd_kafka_headers_s;
struct rd_kafka_queue_s;

namespace walrus::replication::internal {

// A consumed record and its headers, detached from it (nullptr: none, or an error record), plus
// what the per-record hook prepared (ForwarderSigner: the copy's create time and MAC).
struct PrefetchedRecord {
  rd_kafka_message_s* msg = nullptr;
  rd_kafka_headers_s* hdrs = nullptr;
  bool signed_mac = false;  // mac and ts are set
  int64_t ts = 0;
  char mac[SrcMac::kValueSize];
};

class ForwarderPrefetch {
 public:
  // Runs on the prefetch thread for every record taken, after its headers are detached.
  using Prepare = std::function<void(PrefetchedRecord&)>;

  // `batch`: records per hand-over (at most); `depth`: batches queued before the thread waits.
  explicit ForwarderPrefetch(rd_kafka_queue_s* queue, Prepare prepare = nullptr,
                             size_t batch = 1000, size_t depth = 16);
  ~ForwarderPrefetch();
  ForwarderPrefetch(const ForwarderPrefetch&) = delete;
  ForwarderPrefetch& operator=(const ForwarderPrefetch&) = delete;

  void Start();
  // Appends whole batches to `out` while they fit in `max` records (at least one batch), waiting
  // up to `timeout` for the first. The caller owns the records and headers appended.
  void Take(size_t max, std::chrono::milliseconds timeout, std::vector<PrefetchedRecord>& out);

 private:
  void Run();
  static void Destroy(std::vector<PrefetchedRecord>& recs);

  rd_kafka_queue_s* const queue_;
  const Prepare prepare_;
  const size_t batch_, depth_;
  std::mutex mu_;
  std::condition_variable ready_cv_, room_cv_;
  std::deque<std::vector<PrefetchedRecord>> ready_;  // guarded by mu_
  bool stop_ = false;                               // guarded by mu_
  std::thread thread_;
};

}  // namespace walrus::replication::internal
