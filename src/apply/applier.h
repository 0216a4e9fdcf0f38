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
#include "apply/dead_letter.h"
#include "apply/epoch_fence.h"
#include "apply/gc_sweeper.h"
#include "apply/outbox_drain.h"
#include "apply/partition_guard.h"
#include "apply/partition_state.h"
#include "apply/source_auth.h"
#include "apply/transaction.h"
#include "apply/tx_runner.h"
#include "core/decoder.h"
#include "core/write_planner.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "redis/connection.h"
#include "redis/primary_locator.h"

namespace walrus::apply {

class Applier final : public kafka::RebalanceHandler {
 public:
  // `probe` and `stop` must outlive the Applier.
  Applier(ApplyConfig cfg, std::unique_ptr<redis::PrimaryLocator> locator,
          std::unique_ptr<WritePlanner> planner, ApplyProbe& probe, const std::atomic<bool>& stop);
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

  bool EnsureRedis();                  // connects + resyncs if needed; false while Redis is down
  // Forgets the connection and backs off; logs `why` unless `quiet` (the caller logged it).
  void DropRedis(const std::string& why, bool quiet = false);
  // The Redis about to be written holds an older leader epoch (EpochFence): count, log
  // (rate-limited), drop it and locate the primary again after a backoff.
  void RefuseStaleEpoch(const std::string& why);
  bool Resync();                       // reads positions of all partitions from Redis and seeks
  Result<std::vector<int64_t>> ReadPositions(const std::vector<PartitionState*>& parts);
  void PauseUnsynced();
  // Highest applied source offset of a walrus-src stream (-1: none); reads Redis on first sight.
  Result<int64_t> SourceHigh(PartitionState* ps, const std::string& key);
  // One batch = one Redis transaction: select, fence, plan + stream, DLQ acks, EXEC. The EXEC is
  // sent but its replies are read only while the next batch is being built (pipelining): the
  // batch stays in flight (inflight_) until then. Takes `msgs` (swapped with the in-flight ones).
  void ProcessBatch(std::vector<kafka::Message>& msgs);
  // Reads the in-flight batch's replies and settles it (commit bookkeeping, or failure
  // handling). Precondition: nothing is queued on the connection behind its EXEC. Inside
  // rebalance callbacks (`in_callback`) a failure drops the connection instead of seeking.
  // True if nothing is in flight any more and the positions did not move: it committed, or
  // nothing was in flight.
  bool SettleInflight(bool in_callback = false);
  // The in-flight batch failed with `r`: retries it without records refused at queue time, or
  // handles the failure. True if it committed in the end. Connection clean, as above.
  bool SettleFailed(TxResult r, bool in_callback);
  // Discards what is queued behind the in-flight EXEC (DISCARD, read every reply). False if the
  // connection failed (dropped).
  bool DiscardQueued();
  void ClearInflight();
  // Filters duplicates / unsynced partitions / mirror redeliveries; fills tx_ advances and
  // accepted_. False if Redis failed meanwhile (the batch is dropped).
  bool SelectRecords(std::vector<kafka::Message>& msgs);
  void PlanRecord(std::vector<kafka::Message>& msgs, size_t i);
  void HandleFailure(const TxResult& r);
  // Bookkeeping of a committed transaction; then produces its dead letters (their outbox
  // entries are committed with it), waits for the acks and queues the entries' deletion.
  void Committed(Transaction& tx, std::vector<kafka::Message>& msgs,
                 std::chrono::steady_clock::time_point t0);
  // Dead-letter outbox (outbox.h): entries whose DLQ copies were acknowledged are deleted in the
  // next transaction (ClearAckedOutbox), or by a plain HDEL when the applier is idle
  // (FlushAckedOutbox). After every resync the partitions' outboxes are drained (DrainOutbox)
  // before anything else is applied. False if Redis failed (dropped).
  void ClearAckedOutbox(Transaction& tx);
  void FlushAckedOutbox();
  bool DrainOutbox();
  // While a drain is failing, or after Halt: keeps the group membership, applies nothing.
  void PollDiscarding();
  // The apply script aborted part way in a committed transaction (Transaction::RecordSpan::
  // aborted): the positions moved past records that may not have run. Logs them (ERROR), makes
  // readiness false and stops applying for good; never dead-letters them.
  void Halt(const Transaction& tx);
  [[noreturn]] void TestCrash(const char* where, size_t dead);
  void MaybeCommitOffsets(bool force);
  void MaybePing();
  // crdt mode: one GC step between batches when due (GcSweeper).
  void MaybeGc();
  // Held partitions and out-of-range fetches (PartitionGuard), between batches when due.
  void MaybeCheckLogBounds();
  // The physical time the GC horizon must stay below: records not applied yet must be newer.
  int64_t GcHorizonCap() const;
  void UpdateLag();
  PartitionState* Find(std::string_view topic, int32_t partition);

  ApplyConfig cfg_;
  SourceAuth src_auth_{cfg_.src_keys, cfg_.trusted_sources};  // walrus-src trust
  std::unique_ptr<redis::PrimaryLocator> locator_;
  std::unique_ptr<WritePlanner> planner_;
  ApplyProbe& probe_;
  const std::atomic<bool>& stop_;

  std::unique_ptr<kafka::Consumer> consumer_;
  std::shared_ptr<kafka::Producer> producer_;
  std::unique_ptr<DeadLetterSink> dlq_;
  std::unique_ptr<OutboxDrain> outbox_drain_;
  bool outbox_due_ = false;  // a resync happened: drain the outboxes before applying
  std::vector<std::pair<std::string, int64_t>> outbox_acked_;  // (outbox key, offset) in the DLQ
  // Entries this process saw acknowledged whose HDEL has not committed yet: a drain deletes
  // them without looking for them in the DLQ.
  OutboxDrain::Acked outbox_acked_known_;
  // A failed drain: retried after drain_backoff_ (the partitions are resynced first), without
  // dropping the Redis connection. drain_error_ (status_mu_) feeds Ready().
  bool drain_failed_ = false;
  std::chrono::milliseconds drain_backoff_{0};
  std::chrono::steady_clock::time_point next_drain_{};
  std::atomic<bool> halted_{false};
  mutable std::mutex status_mu_;
  std::string drain_error_;  // guarded by status_mu_
  std::string halt_reason_;  // guarded by status_mu_
  // Test hooks: _exit(86) right after the Nth committed transaction that has dead letters,
  // before producing them (WALRUS_TEST_CRASH_AFTER_COMMIT=N), or after their DLQ acks, before
  // their outbox entries are deleted (WALRUS_TEST_CRASH_AFTER_DLQ_ACK=N). 0: off. Read only
  // with the hidden flag --enable-test-hooks (ApplyConfig::enable_test_hooks).
  int64_t crash_after_commit_ = 0;
  int64_t crash_after_ack_ = 0;
  int64_t commits_with_dead_letters_ = 0;
  std::unique_ptr<OpDecoder> decoder_;
  std::unique_ptr<redis::Connection> conn_;
  std::future<void> ensure_dlq_;

  std::map<PartKey, PartitionState> parts_;
  PartitionState* last_part_ = nullptr;
  Transaction tx_;
  // The batch whose EXEC was sent but whose replies are not read yet: Redis executes it while
  // the next batch is polled, decoded and planned. Its positions are in PartitionState::
  // pending_next until it settles.
  struct InFlight {
    Transaction tx;
    std::vector<kafka::Message> msgs;
    std::chrono::steady_clock::time_point t0{};
    bool active = false;
  };
  InFlight inflight_;
  EpochFence epoch_;              // newest walrus:epoch seen, across reconnects
  std::unique_ptr<GcSweeper> gc_;  // crdt mode with --gc-horizon > 0
  PartitionGuard guard_;          // positions outside the log hold their partition
  std::vector<size_t> accepted_;  // indexes of the batch's records to plan
  std::vector<redis::Reply> discard_scratch_;
  static constexpr size_t kStreamChunk = 512;  // commands per write while streaming a MULTI
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point last_commit_{};
  std::chrono::steady_clock::time_point last_lag_{};
  std::chrono::steady_clock::time_point last_ping_{};
  bool offsets_dirty_ = false;

  std::atomic<bool> assigned_once_{false};
  std::atomic<bool> redis_ok_{false};
  std::atomic<int64_t> last_progress_ms_{0};
  std::string last_redis_error_;  // applier thread only
};

}  // namespace walrus::apply
