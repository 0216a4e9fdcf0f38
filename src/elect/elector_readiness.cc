#include <fmt/format.h>

#include "elect/elector.h"

// Readiness of the sidecar, as /readyz and /status report it (see Elector, elector.h).

namespace walrus::elect {

void Elector::UpdateSnapshot(std::chrono::steady_clock::time_point now) {
  ElectorSnapshot s;
  s.role = role_;
  s.leader = leader_;
  s.last_epoch = last_epoch_;
  s.redis_up = node_up_;
  s.lag_bytes = lag_bytes_;
  s.last_tick = now;
  if (!node_up_) {
    s.detail = "local Redis unreachable: " + node_error_;
  } else if (role_ == Role::kLeader) {
    s.ready = published_ && node_state_.master;
    s.detail = s.ready ? fmt::format("leader, epoch {}", self_.epoch)
                       : fmt::format("leader, epoch {}, not serving yet", self_.epoch);
  } else if (!leader_) {
    s.detail = "no leader" + (ineligible_.empty() ? std::string() : "; " + ineligible_);
  } else if (leader_->id == opts_.id) {
    s.detail = "a stale lease of this node is held; waiting for it to be released";
  } else if (node_state_.master) {
    s.detail = "local Redis is not yet a replica of the leader " + leader_->advertise;
  } else if (!node_state_.link_up) {
    s.detail = "replication link to the leader " + leader_->advertise + " is down";
  } else if (node_state_.syncing) {
    s.detail = "full sync from the leader in progress";
  } else if (lag_bytes_ < 0 || lag_bytes_ > opts_.ready_max_lag_bytes) {
    s.detail =
        fmt::format("replication lag {} bytes (bound {})", lag_bytes_, opts_.ready_max_lag_bytes);
  } else {
    s.ready = true;
    s.detail = fmt::format("follower of {} (epoch {}), lag {} bytes", leader_->advertise,
                           leader_->epoch, lag_bytes_);
  }
  std::lock_guard lock(mu_);
  snapshot_ = std::move(s);
}

ElectorSnapshot Elector::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

}  // namespace walrus::elect
