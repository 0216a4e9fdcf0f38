#pragma once

// InflightBatch: the transaction whose EXEC was sent but whose replies are not read yet. Redis
// executes it while the next batch is polled, decoded, planned and queued behind it
// (pipelining, README "Pipelining"); its positions are in PartitionState::pending_next until it
// settles. Settling reads its replies and ends in one of:
//
//   committed      Owner::Committed (positions, dead letters), then cleared
//   queue-refused  records refused at queue time (EXECABORT) are dropped and the rest is run
//                  again (TxLink::Rerun) until it commits or fails otherwise
//   failed         cleared, then Owner::Failed: the owner drops the connection, backs off, or
//                  re-reads the positions (a batch queued behind it is discarded first)
//
//   InflightBatch inflight(session, owner);
//   ...the batch's EXEC is flushed:
//   inflight.Start(tx, msgs, t0);           // takes tx and msgs (swapped with the old ones)
//   ...the next batch is queued behind it:
//   if (!inflight.SettleBehind()) return;   // it failed: what was queued behind is discarded
//   ...idle, rebalance, GC step:
//   inflight.Settle();
//
// The owner (the Applier) decides what a failure means and keeps the partitions; this class
// keeps only the batch and the order of the steps. Applier thread only.

#include <chrono>
#include <string>
#include <vector>

#include "apply/transaction.h"
#include "apply/tx_link.h"
#include "apply/tx_runner.h"
#include "kafka/consumer.h"

namespace walrus::apply {

class InflightBatch {
 public:
  // What settling a batch does to the rest of the applier.
  class Owner {
   public:
    virtual ~Owner() = default;
    // `tx` committed: bookkeeping and dead letters. `msgs`: the batch's records.
    virtual void Committed(Transaction& tx, std::vector<kafka::Message>& msgs,
                           std::chrono::steady_clock::time_point t0) = 0;
    // The batch failed with `r` (it is cleared already). `in_callback`: inside a rebalance
    // callback, where the consumer must not be sought.
    virtual void Failed(const TxResult& r, bool in_callback) = 0;
    // The connection failed while discarding: drop it (`why` names the step).
    virtual void Lost(const std::string& why) = 0;
    // Re-reads every position and seeks there; false if that failed.
    virtual bool Resync() = 0;
    // The batch was cleared: its positions are not pending any more.
    virtual void Cleared() = 0;
  };

  // `link` and `owner` must outlive this object.
  InflightBatch(TxLink& link, Owner& owner) : link_(link), owner_(owner) {}

  bool active() const { return active_; }
  // The in-flight transaction (valid while active(); also the spare one to configure).
  Transaction& tx() { return tx_; }

  // `tx`'s EXEC was sent: it becomes the batch in flight, `msgs` its records. Takes both by
  // swapping with the previous (settled) batch's, whose buffers are reused.
  // Precondition: !active().
  void Start(Transaction& tx, std::vector<kafka::Message>& msgs,
             std::chrono::steady_clock::time_point t0);

  // Reads the replies and settles the batch. Precondition: nothing is queued on the connection
  // behind its EXEC. True if nothing is in flight any more and the positions did not move: it
  // committed, or nothing was in flight. No connection: the outcome is unknown, the batch is
  // cleared (the positions are read again on reconnect) and false returned.
  bool Settle(bool in_callback = false);

  // The same with a next batch queued behind the EXEC (its fence, MULTI and commands; no EXEC).
  // True if there was nothing in flight or it committed: the next batch may go on. Else the
  // queued batch was discarded, the failure handled (a retry that committed after all re-reads
  // the positions: the discarded batch was planned from them) and false is returned.
  bool SettleBehind();

  // Forgets the batch (its outcome stays unknown) and tells the owner. No-op when not active.
  void Clear();

 private:
  // The batch failed with `r`: retries it without records refused at queue time, or clears it
  // and hands the failure to the owner. True if it committed in the end.
  bool SettleFailed(TxResult r, bool in_callback);

  TxLink& link_;
  Owner& owner_;
  Transaction tx_;
  std::vector<kafka::Message> msgs_;
  std::chrono::steady_clock::time_point t0_{};
  bool active_ = false;
};

}  // namespace walrus::apply
