#include "apply/inflight_batch.h"

#include <utility>

namespace walrus::apply {

void InflightBatch::Start(Transaction& tx, std::vector<kafka::Message>& msgs,
                          std::chrono::steady_clock::time_point t0) {
  std::swap(tx, tx_);
  msgs_.swap(msgs);
  t0_ = t0;
  active_ = true;
}

bool InflightBatch::Settle(bool in_callback) {
  if (!active_) return true;
  if (!link_.connected()) {
    Clear();
    return false;
  }
  TxResult r = link_.ReadExec(tx_);
  if (r.outcome == TxOutcome::kCommitted) {
    owner_.Committed(tx_, msgs_, t0_);
    Clear();
    return true;
  }
  return SettleFailed(std::move(r), in_callback);
}

bool InflightBatch::SettleBehind() {
  if (!active_) return true;
  TxResult prev = link_.ReadExec(tx_);
  if (prev.outcome == TxOutcome::kCommitted) {
    owner_.Committed(tx_, msgs_, t0_);
    Clear();
    return true;
  }
  // The batch behind was built on the assumption that this one commits: discard it (its records
  // are fetched again after the resync), then settle this one.
  if (Status st = link_.Discard(); !st) {
    owner_.Lost("discarding a transaction: " + st.error().message);
    return false;
  }
  if (SettleFailed(std::move(prev), false) && !owner_.Resync()) owner_.Lost("resync failed");
  return false;
}

bool InflightBatch::SettleFailed(TxResult r, bool in_callback) {
  while (r.outcome == TxOutcome::kQueueRejected) {
    tx_.DropFailedCommands();
    r = link_.Rerun(tx_);
  }
  if (r.outcome == TxOutcome::kCommitted) {
    owner_.Committed(tx_, msgs_, t0_);
    Clear();
    return true;
  }
  Clear();
  owner_.Failed(r, in_callback);
  return false;
}

void InflightBatch::Clear() {
  if (!active_) return;
  active_ = false;
  msgs_.clear();
  owner_.Cleared();
}

}  // namespace walrus::apply
