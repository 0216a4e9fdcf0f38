#include "apply/gc_sweeper.h"

#include <algorithm>
#include <optional>

#include "core/hlc.h"
#include "core/log.h"
#include "core/strings.h"
#include "crdt/crdt_planner.h"
#include "crdt/merge_script.h"

namespace walrus::apply {
namespace {

TxResult Failed(const Error& e) {
  return {e.Is(Errc::kUnavailable) ? TxOutcome::kRetry : TxOutcome::kBroken, e.message};
}

}  // namespace

GcSweeper::GcSweeper(GcOptions opts, ApplyProbe& probe, Clock& clock)
    : opts_(opts), probe_(probe), clock_(clock) {
  opts_.keys_per_second = std::max<size_t>(opts_.keys_per_second, 1);
  opts_.step_keys = std::max<size_t>(opts_.step_keys, 1);
}

void GcSweeper::Restart() { cursor_ = "0"; }

TxResult GcSweeper::Step(redis::Connection& conn, EpochFence& epoch, int64_t now_unix_ms,
                         int64_t cap_ms) {
  const auto now = clock_.Steady();
  auto log = Logger("apply");
  if (!sweeping_) {
    if (now < next_sweep_) return {TxOutcome::kCommitted, {}};
    const int64_t horizon_ms =
        std::min({now_unix_ms - static_cast<int64_t>(opts_.horizon.count()), cap_ms,
                  kHlcMaxPhysical});
    if (horizon_ms <= 0) {
      WALRUS_LOG_EVERY_MS(log, info, 60000,
                          "gc sweep postponed: assignment, positions or lag not known yet, or "
                          "this applier is further behind than the gc horizon");
      next_sweep_ = now + opts_.retry;
      return {TxOutcome::kCommitted, {}};
    }
    horizon_ = crdt::CrdtPlanner::Stamp(Hlc{horizon_ms, 0}, 0, "");
    sweeping_ = true;
    cursor_ = "0";
    sweep_started_ = now;
    next_step_ = now;
    swept_keys_ = 0;
    removed_ = 0;
    log->info("gc sweep started: horizon {} ({} s ago)", horizon_,
              (now_unix_ms - horizon_ms) / 1000);
  }
  if (now < next_step_) return {TxOutcome::kCommitted, {}};

  const std::string count = std::to_string(opts_.step_keys);
  const std::string match = std::string(crdt::kSidecarPrefix) + "*";
  auto scan = conn.Command({"SCAN", cursor_, "MATCH", match, "COUNT", count});
  if (!scan) return Failed(scan.error());
  if (scan->IsError()) return Failed(scan->ToError());
  if (scan->size() != 2) return {TxOutcome::kBroken, "unexpected SCAN reply"};
  std::vector<std::string> keys;
  const auto found = scan->element(1);
  keys.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (auto key = crdt::KeyOfSidecar(found.element(i).str())) keys.emplace_back(*key);
  }
  if (!keys.empty()) {
    bool watch_fired = false;
    TxResult r = Collect(conn, epoch, keys, &watch_fired);
    if (r.outcome != TxOutcome::kCommitted) return r;
    if (watch_fired) {  // an election meanwhile: check the epoch again, same keys
      next_step_ = now + std::chrono::milliseconds(100);
      return {TxOutcome::kCommitted, {}};
    }
  }
  cursor_ = std::string(scan->element(0).str());
  swept_keys_ += keys.size();
  probe_.gc_keys.Increment(static_cast<double>(keys.size()));
  next_step_ = now + std::chrono::microseconds(
                         1000000 * std::max<size_t>(keys.size(), 1) / opts_.keys_per_second);
  if (cursor_ == "0") {
    sweeping_ = false;
    next_sweep_ = sweep_started_ + opts_.interval;
    probe_.gc_sweeps.Increment();
    const double secs = std::chrono::duration<double>(now - sweep_started_).count();
    log->info("gc sweep done in {:.1f} s: {} keys, {} entries removed", secs, swept_keys_,
              removed_);
  }
  return {TxOutcome::kCommitted, {}};
}

TxResult GcSweeper::Collect(redis::Connection& conn, EpochFence& epoch,
                            const std::vector<std::string>& keys, bool* watch_fired) {
  conn.Append({"WATCH", kEpochKey});
  conn.Append({"GET", kEpochKey});
  auto fence = conn.ReadReplies(2);
  if (!fence) return Failed(fence.error());
  for (const auto& r : *fence) {
    if (r.IsError()) return Failed(r.ToError());
  }
  const auto& stored = (*fence)[1];
  if (Status st = epoch.Check(stored.IsNil() ? std::nullopt : std::optional(stored.str())); !st) {
    conn.Append({"UNWATCH"});
    (void)conn.ReadReplies(1);
    return {TxOutcome::kStaleEpoch, st.error().message};
  }
  conn.Append({"MULTI"});
  conn.Append({"SCRIPT", "LOAD", crdt::MergeScript()});
  for (const auto& key : keys) conn.Append(crdt::CrdtPlanner::GcCommand(key, horizon_));
  conn.Append({"EXEC"});
  auto replies = conn.ReadReplies(keys.size() + 3);
  if (!replies) return Failed(replies.error());
  for (size_t i = 0; i + 1 < replies->size(); ++i) {
    // Queue-time refusals (READONLY, OOM, LOADING) abort the EXEC; report the first.
    if ((*replies)[i].IsError()) return Failed((*replies)[i].ToError());
  }
  const auto& exec = replies->back();
  if (exec.IsNil()) {
    *watch_fired = true;
    return {TxOutcome::kCommitted, {}};
  }
  if (exec.IsError()) return Failed(exec.ToError());
  uint64_t removed = 0;
  for (size_t i = 1; i < exec.size(); ++i) {  // element 0: SCRIPT LOAD
    const auto e = exec.element(i);
    if (e.IsError()) {
      WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 10000, "gc of key {}: {}",
                          QuoteForMessage(keys[i - 1]), e.str());
    } else if (e.type() == redis::ReplyType::kInteger) {
      removed += static_cast<uint64_t>(std::max<int64_t>(e.integer(), 0));
    }
  }
  removed_ += removed;
  probe_.gc_removed.Increment(static_cast<double>(removed));
  return {TxOutcome::kCommitted, {}};
}

}  // namespace walrus::apply
