#pragma once

// OutboxTracker: what the applier knows of the dead-letter outbox (outbox.h, docs/dead-letters.md)
// between transactions, and when it must be drained.
//
//   acked entries  dead letters whose DLQ copies were acknowledged: their outbox entries are
//                  deleted in the next transaction (ClearInto), or by a plain HDEL when the
//                  applier is idle. Until such a deletion commits (Cleared) they stay "known":
//                  a drain deletes them without looking for them in the DLQ.
//   drain due      after every assignment and resync (MarkDue) the partitions' outboxes are
//                  drained before anything else is applied.
//   drain failing  a failed drain (not a Redis failure: the connection is kept) is retried after
//                  a backoff from 500 ms up to max(--backoff-max, 500 ms); meanwhile nothing is
//                  applied and error() feeds /readyz.
//
//   OutboxTracker outbox(clock, probe, cfg.backoff_max);
//   outbox.MarkDue();
//   if (outbox.Waiting()) return;                              // a failed drain, retry not due
//   Status st = outbox.Drain([&](const OutboxDrain::Acked& known) { return drain.Drain(...); });
//
// Owned by the Applier. Applier thread only, except error() (any thread).

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "apply/apply_probe.h"
#include "apply/backoff.h"
#include "apply/outbox_drain.h"
#include "apply/transaction.h"
#include "core/clock.h"
#include "core/result.h"

namespace walrus::apply {

class OutboxTracker {
 public:
  using Entry = std::pair<std::string, int64_t>;  // (outbox key, offset)

  // `clock` and `probe` must outlive the tracker.
  OutboxTracker(Clock& clock, ApplyProbe& probe, std::chrono::milliseconds backoff_max);

  // The outboxes may hold entries this process does not know of (a crash, new partitions).
  void MarkDue() { due_ = true; }
  bool due() const { return due_; }
  // The last drain failed.
  bool failing() const { return failing_; }
  // The last drain failed and its retry is not due yet.
  bool Waiting() const { return failing_ && backoff_.Waiting(); }
  std::chrono::milliseconds backoff() const { return backoff_.delay(); }
  // Why the last drain failed; empty when it did not (thread-safe).
  std::string error() const;

  // The DLQ acknowledged these entries' dead letters: delete them later.
  void Acked(std::vector<Entry> entries);
  bool has_acked() const { return !acked_.empty(); }
  // Moves the deletion of the acked entries into `tx` (Transaction::ClearOutbox). If `tx` fails
  // the entries stay in Redis, known: the drain after the resync deletes them without a DLQ scan.
  void ClearInto(Transaction& tx);
  // `tx` committed (or its HDELs ran): the entries it deleted are gone.
  void Cleared(const Transaction& tx);

  // Runs a drain: `run` drains every synced partition's outbox, given the entries known acked.
  // Success: nothing is due or known any more. Failure: counted, logged (rate-limited), retried
  // after the backoff; the caller pauses applying (and resyncs before the retry).
  Status Drain(const std::function<Status(const OutboxDrain::Acked& known)>& run);

 private:
  ApplyProbe& probe_;
  bool due_ = false;
  std::vector<Entry> acked_;
  OutboxDrain::Acked known_;
  bool failing_ = false;
  Backoff backoff_;
  mutable std::mutex mu_;
  std::string error_;  // guarded by mu_
};

}  // namespace walrus::apply
