#include "apply/outbox_tracker.h"

#include <algorithm>

#include "core/log.h"

namespace walrus::apply {

OutboxTracker::OutboxTracker(Clock& clock, ApplyProbe& probe,
                             std::chrono::milliseconds backoff_max)
    : probe_(probe),
      backoff_(clock, std::chrono::milliseconds(500),
               std::max(backoff_max, std::chrono::milliseconds(500))) {}

std::string OutboxTracker::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void OutboxTracker::Acked(std::vector<Entry> entries) {
  for (auto& a : entries) {
    known_.insert(a);
    acked_.push_back(std::move(a));
  }
}

void OutboxTracker::ClearInto(Transaction& tx) {
  for (auto& [key, off] : acked_) tx.ClearOutbox(std::move(key), off);
  // known_ keeps them until a transaction carrying the HDEL commits, a plain HDEL succeeds, or
  // a drain ends.
  acked_.clear();
}

void OutboxTracker::Cleared(const Transaction& tx) {
  for (const auto& c : tx.clears()) known_.erase(c);
}

Status OutboxTracker::Drain(const std::function<Status(const OutboxDrain::Acked& known)>& run) {
  if (Status st = run(known_); !st) {
    probe_.outbox_drain_failures.Increment();
    failing_ = true;
    const auto retry_in = backoff_.Failed();
    {
      std::lock_guard lock(mu_);
      error_ = st.error().message;
    }
    WALRUS_LOG_EVERY_MS(Logger("apply"), warn, 5000,
                        "draining the dead-letter outbox failed, nothing is applied until it "
                        "succeeds (retry in {} ms): {}",
                        retry_in.count(), st.error().message);
    return st;
  }
  if (failing_) Logger("apply")->info("dead-letter outbox drain succeeded after failures");
  failing_ = false;
  backoff_.Reset();
  {
    std::lock_guard lock(mu_);
    error_.clear();
  }
  due_ = false;
  acked_.clear();  // the drain deleted whatever was left
  known_.clear();
  return {};
}

}  // namespace walrus::apply
