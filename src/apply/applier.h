#pragma once

// Applier: the heart of `walrus apply`. Consumes ops from Kafka and applies them to the Redis
// primary with effectively-once semantics:
//
//  * Redis is the source of truth for progress. Each transaction carries the records' effects AND
//    the next offset of every partition it touches (MULTI/EXEC), fenced by WATCH + MGET of those
//    positions so that a second writer or a rolled-back dataset is detected, never doubled.
//  * On assignment and after every (re)connect to Redis the positions are read back from Redis
//    and the consumer is sought there; Kafka commits exist for lag visibility only.
//  * Records that cannot be applied go to the dead-letter topic; the partition moves on.
//  * Redis or Kafka faults pause the applier with backoff; nothing is skipped.
//
// The Applier is the orchestrator; its parts have one job each:
//   RedisSession   the connection: locate, connect, epoch check, backoff, health ping
//   InflightBatch  the transaction whose EXEC was sent: settle or discard, hand failures back
//   PeriodicTasks  when offset commits, pings and lag refreshes are due (injected Clock)
//   OutboxTracker  acked dead letters to delete, when the outbox must be drained, drain retries
//   GcSweeper, PartitionGuard, OutboxDrain, DeadLetterSink   as before
// The Applier keeps the partitions, builds the batches and decides what a failure means.
//
// Threading: Run() owns the consumer, the Redis connection and all partition state on the calling
// thread (rebalance callbacks run inside Consumer::PollBatch on that thread). Ready()/Healthy()
// are safe from any thread (the admin HTTP server calls them).

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apply/apply_config.h"
#include "apply/apply_probe.h"
#include "apply/crash_hooks.h"
#include "apply/dead_letter.h"
#include "apply/epoch_fence.h"
#include "apply/gc_sweeper.h"
#include "apply/inflight_batch.h"
#include "apply/outbox_drain.h"
#include "apply/outbox_tracker.h"
#include "apply/partition_guard.h"
#include "apply/partition_state.h"
#include "apply/periodic_tasks.h"
#include "apply/redis_session.h"
#include "apply/source_auth.h"
#include "apply/transaction.h"
#include "apply/tx_runner.h"
#include "core/clock.h"
#include "core/decoder.h"
#include "core/write_planner.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "redis/connection.h"
#include "redis/primary_locator.h"

namespace walrus::apply {

class Applier final : public kafka::RebalanceHandler, private InflightBatch::Owner {
 public:
  // `probe`, `stop` and `clock` must outlive the Applier.
  Applier(ApplyConfig cfg, std::unique_ptr<redis::PrimaryLocator> locator,
          std::unique_ptr<WritePlanner> planner, ApplyProbe& probe, const std::atomic<bool>& stop,
          Clock& clock = SystemClock());
  ~Applier() override;

  // Creates the Kafka clients; throws std::runtime_error with a clear message on bad properties.
  void Init();
  // Runs until `stop` is set; then finishes the batch in flight, commits and leaves the group.
  void Run();

  // Thread-safe status for /readyz and /healthz.
  std::pair<bool, std::string> Ready() const;
  std::pair<bool, std::string> Healthy() const;

  // kafka::RebalanceHandler (applier thread, inside PollBatch).
  void OnAssigned(std::vector<kafka::TopicPartition>& parts) override;
  void OnRevoked(const std::vector<kafka::TopicPartition>& parts) override;

 private:
  using PartKey = std::pair<std::string, int32_t>;

  bool Resync() override;  // reads positions of all partitions from Redis and seeks
  Result<std::vector<int64_t>> ReadPositions(const std::vector<PartitionState*>& parts);
  void PauseUnsynced();
  // Highest applied source offset of a walrus-src stream (-1: none); reads Redis on first sight.
  Result<int64_t> SourceHigh(PartitionState* ps, const std::string& key);
  // One batch = one Redis transaction: select, fence, plan + stream, DLQ acks, EXEC. The EXEC is
  // sent but its replies are read only while the next batch is being built (pipelining): the
  // batch stays in flight (inflight_) until then. Takes `msgs` (swapped with the in-flight ones).
  void ProcessBatch(std::vector<kafka::Message>& msgs);
  // Discards what is queued on the connection (DISCARD, read every reply). False if the
  // connection failed (dropped).
  bool DiscardQueued();
  // Filters duplicates / unsynced partitions / mirror redeliveries; fills tx_ advances and
  // accepted_. False if Redis failed meanwhile (the batch is dropped).
  bool SelectRecords(std::vector<kafka::Message>& msgs);
  void PlanRecord(std::vector<kafka::Message>& msgs, size_t i);
  // A failed transaction: back off (kRetry, kBroken), refuse the Redis (kStaleEpoch) or
  // re-read the positions (kConflict).
  void HandleFailure(const TxResult& r);
  // Bookkeeping of a committed transaction; then produces its dead letters (their outbox
  // entries are committed with it), waits for the acks and queues the entries' deletion.
  void Committed(Transaction& tx, std::vector<kafka::Message>& msgs,
                 std::chrono::steady_clock::time_point t0) override;
  // InflightBatch::Owner: the batch in flight failed (HandleFailure; inside a rebalance
  // callback the connection is dropped instead of seeking), the connection was lost, the
  // batch was cleared (no position pending any more).
  void Failed(const TxResult& r, bool in_callback) override;
  void Lost(const std::string& why) override { session_.Drop(why); }
  void Cleared() override;
  // RedisSession::Hooks::dropped: the in-flight batch, the GC sweep and every partition's sync
  // are void.
  void OnRedisDropped();
  // Dead-letter outbox (outbox.h, OutboxTracker): entries whose DLQ copies were acknowledged
  // are deleted in the next transaction, or by a plain HDEL when the applier is idle
  // (FlushAckedOutbox). After every resync the partitions' outboxes are drained (DrainOutbox)
  // before anything else is applied. False if Redis failed (dropped) or the drain failed.
  void FlushAckedOutbox();
  bool DrainOutbox();
  // While a drain is failing, or after Halt: keeps the group membership, applies nothing.
  void PollDiscarding();
  // The apply script aborted part way in a committed transaction (Transaction::RecordSpan::
  // aborted): the positions moved past records that may not have run. Logs them (ERROR), makes
  // readiness false and stops applying for good; never dead-letters them.
  void Halt(const Transaction& tx);
  void MaybeCommitOffsets(bool force);
  // crdt mode: one GC step between batches when due (GcSweeper).
  void MaybeGc();
  // Held partitions and out-of-range fetches (PartitionGuard), between batches when due.
  void MaybeCheckLogBounds();
  // The physical time the GC horizon must stay below: records not applied yet must be newer.
  int64_t GcHorizonCap() const;
  void UpdateLag();
  PartitionState* Find(std::string_view topic, int32_t partition);

  ApplyConfig cfg_;
  Clock& clock_;
  SourceAuth src_auth_{cfg_.src_keys, cfg_.trusted_sources};  // walrus-src trust
  std::unique_ptr<WritePlanner> planner_;
  ApplyProbe& probe_;
  const std::atomic<bool>& stop_;
  RedisSession session_;  // the connection to the primary, its backoff and epoch fence

  std::unique_ptr<kafka::Consumer> consumer_;
  std::shared_ptr<kafka::Producer> producer_;
  std::unique_ptr<DeadLetterSink> dlq_;
  std::unique_ptr<OutboxDrain> outbox_drain_;
  OutboxTracker outbox_;  // acked dead letters, drain due / failing (feeds Ready())
  std::atomic<bool> halted_{false};
  mutable std::mutex status_mu_;
  std::string halt_reason_;  // guarded by status_mu_
  CrashHooks crash_hooks_;   // WALRUS_TEST_CRASH_AFTER_* with --enable-test-hooks
  std::unique_ptr<OpDecoder> decoder_;
  std::future<void> ensure_dlq_;

  std::map<PartKey, PartitionState> parts_;
  PartitionState* last_part_ = nullptr;
  Transaction tx_;
  InflightBatch inflight_{session_, *this};  // the batch whose EXEC was sent
  std::unique_ptr<GcSweeper> gc_;  // crdt mode with --gc-horizon > 0
  PartitionGuard guard_;          // positions outside the log hold their partition
  std::vector<size_t> accepted_;  // indexes of the batch's records to plan
  static constexpr size_t kStreamChunk = 512;  // commands per write while streaming a MULTI
  PeriodicTasks tasks_;           // offset commits, pings, lag refreshes

  std::atomic<bool> assigned_once_{false};
  std::atomic<int64_t> last_progress_ms_{0};
};

}  // namespace walrus::apply
