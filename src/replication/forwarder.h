#pragma once

// Forwarder: the inner loop of a cross-cluster mirror. Reads assigned partitions of a source
// cluster (no consumer group: the caller keeps positions elsewhere) and writes every record to
// the same partition number of a target topic, keeping key, value, headers and create time, and
// appending one provenance header whose value is `<route prefix><source offset>` and, with a
// source key, a walrus-src-mac header authenticating it (core/src_mac.h) right after it.
//
// Built for throughput: nothing is allocated per record on our side, the consumed record's
// headers are moved (not copied) into the produced one, key and value are copied once (by
// librdkafka), and delivery reports are served on the caller's thread, so the per-route
// bookkeeping needs no lock. Per route the forwarder tracks what was taken from the source, what
// the target acknowledged and what is still in flight; Committable() is where a restart may
// resume without losing an acknowledged record.
//
// Source positions are never moved by librdkafka (auto.offset.reset=error; setting it in the
// source properties is refused): a fetch whose position is not in the source log (deleted by
// retention, log replaced or truncated) stops that partition's fetching and is reported in
// out_of_range() for the caller to decide (the mirror re-checks from its stored positions and
// holds the partition, src/mirror/source_holds.h). A route without an absolute start begins at
// kOffsetBeginning, sought explicitly.
//
// Transactions: with `transactional.id` in the target properties call InitTransactions() once;
// the first Pump() or Produce() after a commit begins a transaction implicitly, which
// CommitTransaction() / AbortTransaction() closes.
//
//   auto f = replication::Forwarder::Create({.source = sp, .target = tp, .provenance_header =
//   "src"});
//   (*f)->Assign({{.topic = "t", .partition = 0, .start = 42, .target_topic = "t",
//                  .provenance = "dc/t/0/"}});
//   while (running) {
//     auto n = (*f)->Pump(10000, 50ms, [](const replication::Forwarder::View& r) { return false;
//     }); if (!n) return n.error();                    // restart from the stored positions int64_t
//     safe = (*f)->progress()[0].Committable();
//   }
//
// Threading: one thread calls every method; delivery reports run inside Pump, Serve, Flush and
// CommitTransaction. Once assigned, an internal thread (ForwarderPrefetch) consumes the source
// and parses headers ahead of Pump. Ownership: owns both librdkafka clients and that thread; the
// destructor joins it, flushes (bounded) and fails what is still queued.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/src_key_ring.h"
#include "kafka/types.h"

struct rd_kafka_headers_s;

namespace walrus::replication {

class Forwarder {
 public:
  struct Options {
    kafka::Properties source;       // consumer properties (bootstrap.servers, ...)
    kafka::Properties target;       // producer properties; transactional.id enables transactions
    std::string provenance_header;  // name of the header appended to every forwarded record
    // When set, a walrus-src-mac header made with this key follows the provenance header.
    std::optional<SrcKey> src_key;
    // When set, ends waits for room in the producer queue (Pump then fails, kUnavailable).
    const std::atomic<bool>* cancel = nullptr;
    // true: a delivery report per record keeps acked_next current. false: only failures are
    // reported (cheaper); what was produced counts as acknowledged once a Flush() succeeds
    // (enough when every commit flushes anyway, as a transactional one does).
    bool per_record_acks = true;
  };

  // One source partition and where its records go.
  struct Route {
    std::string topic;
    int32_t partition = 0;
    int64_t start = kafka::kOffsetBeginning;  // first offset to take
    std::string target_topic;          // same partition number there
    std::string provenance;            // provenance header value = provenance + offset (decimal)
  };

  // Progress of one route (index in the Assign() vector), as of the last delivery report served.
  struct Progress {
    int64_t taken_next = -1;  // after the last record taken from the source (forwarded or skipped)
    int64_t acked_next = -1;  // after the last forwarded record the target acknowledged
    int64_t inflight = 0;     // forwarded, not acknowledged (yet, or ever: failed)
    int64_t last_ts = 0;      // create time of the last record taken

    int64_t Committable() const { return inflight == 0 ? taken_next : acked_next; }
  };

  // A source fetch out of the log, as reported by the consumer (an error event, not a record).
  struct OutOfRange {
    size_t route = 0;
    int64_t offset = -1;  // the fetch position that is not in the log
  };

  // Totals over every route.
  struct Totals {
    uint64_t acked = 0;    // records the target acknowledged
    uint64_t bytes = 0;    // key + value bytes forwarded
    uint64_t skipped = 0;  // records the skip predicate kept back
  };

  // A consumed record's headers as shown to the skip predicate; valid during the call only.
  class View {
   public:
    explicit View(const rd_kafka_headers_s* hdrs) : hdrs_(hdrs) {}
    // Value of the last header called `name`; nullopt when absent (empty view for a null value).
    std::optional<std::string_view> header(const char* name) const;

   private:
    const rd_kafka_headers_s* hdrs_;  // nullptr: the record has no headers
  };
  // True: do not forward the record (it still counts as taken).
  using SkipFn = std::function<bool(const View&)>;

  static Result<std::unique_ptr<Forwarder>> Create(Options opts);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Learns the metadata of `topics` in the target now rather than on their first record (a topic
  // unknown to librdkafka waits for its 1 s metadata scan); a missing topic is auto-created where
  // the target allows it. Best effort: returns the first error.
  Status WarmUp(const std::vector<std::string>& topics, std::chrono::milliseconds timeout);
  // Sets the routes (once). Progress starts at `start` for routes with an absolute start. Learns
  // the source topics' leaders first (waits up to 5 s for their metadata; best effort).
  Status Assign(std::vector<Route> routes);
  // Takes up to `max` records (waiting up to `timeout` for the first) and forwards each one not
  // skipped, then serves delivery reports. Returns the number taken. An error ends the run: a
  // fatal client error, a produce error, a delivery failure (sticky), or a full producer queue
  // for longer than kQueueFullWait (or cancelled).
  Result<size_t> Pump(size_t max, std::chrono::milliseconds timeout, const SkipFn& skip);
  // Produces a control record (positions, heartbeats) to `topic`, partitioned by key; a
  // delivery failure is sticky like a forwarded record's.
  Status Produce(const std::string& topic, std::string_view key, std::string_view value);
  // Serves the delivery reports that arrived (non-blocking).
  void Serve();
  // Waits until everything produced was acknowledged or failed; kTimeout otherwise. On success
  // without a failure, every route's records in flight count as acknowledged.
  Status Flush(std::chrono::milliseconds timeout);
  // The first delivery failure or fatal client error, or ok.
  Status Failure() const;

  Status InitTransactions(std::chrono::milliseconds timeout);
  Status CommitTransaction(std::chrono::milliseconds timeout);
  Status AbortTransaction(std::chrono::milliseconds timeout);
  bool InTransaction() const;

  const std::vector<Progress>& progress() const;
  // Every fetch out of the log seen by Pump since Assign (the partition's fetching stopped).
  const std::vector<OutOfRange>& out_of_range() const;
  const Totals& totals() const;
  // The id of the source Kafka cluster (from metadata; may wait for it).
  Result<std::string> SourceClusterId(std::chrono::milliseconds timeout) const;
  // Source watermarks of a route, cached from fetches (no round trip); kNotFound before one.
  Result<std::pair<int64_t, int64_t>> Watermarks(size_t route) const;

  static constexpr std::chrono::milliseconds kQueueFullWait{30000};

  struct Impl;

 private:
  explicit Forwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace walrus::replication
