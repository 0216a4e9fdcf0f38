#include "elect/elector.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/log.h"
#include "core/host_port.h"

namespace walrus::elect {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;
using std::chrono::milliseconds;

// The leader's advertised "host:port" ({"", 0} when it does not parse).
std::pair<std::string, int> AdvertisedAddress(const std::string& addr) {
  auto hp = ParseHostPort(addr);
  if (!hp) return {"", 0};
  return {hp->host, hp->port};
}

int64_t Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

}  // namespace

Elector::Elector(ElectorOptions opts, LeaseBackend& backend, NodeControl& node,
                 DeadlineGuard& guard, Clock& clock, ElectProbe& probe)
    : opts_(std::move(opts)),
      backend_(backend),
      node_(node),
      guard_(guard),
      clock_(clock),
      probe_(probe) {}

TimePoint Elector::Tick(bool changed) {
  const TimePoint now = clock_.Steady();
  ProbeNode(now);
  if (role_ == Role::kLeader) {
    LeaderTick(now);
  } else {
    FollowerTick(now, changed);
  }
  UpdateSnapshot(now);
  TimePoint next = now + opts_.probe_interval;
  if (role_ == Role::kLeader) {
    next = std::min(next, next_renew_);
  } else {
    next = std::min(next, next_observe_);
    if (campaign_at_) next = std::min(next, *campaign_at_);
  }
  return next;
}

void Elector::Run(const std::atomic<bool>& stop) {
  bool changed = false;
  while (!stop.load()) {
    const TimePoint next = Tick(changed);
    const TimePoint now = clock_.Steady();
    changed = next > now && backend_.WaitForChange(std::chrono::duration_cast<milliseconds>(
                                next - now + std::chrono::microseconds(999)));
  }
}

void Elector::Shutdown() {
  if (role_ == Role::kLeader) StepDown("shutdown", "shutting down");
  UpdateSnapshot(clock_.Steady());
}

// ---- local Redis ------------------------------------------------------------------------------

void Elector::ProbeNode(TimePoint now) {
  auto st = node_.Probe();
  if (st) {
    if (!node_up_) Logger("elect")->info("local Redis up (run_id {})", st->run_id);
    node_state_ = std::move(*st);
    node_up_ = true;
    node_ok_at_ = now;
    if (fence_pending_ && !node_state_.master) {  // the guard did it (or the server restarted
      guard_.Disarm();                            // read-only): nothing left to fence
      fence_pending_ = false;
    }
    if (node_state_.link_up && !node_state_.syncing) link_up_at_ = now;
    node_error_.clear();
    probe_.redis_up.Set(1);
    return;
  }
  if (node_up_ || node_error_.empty()) {
    Logger("elect")->warn("local Redis unreachable: {}", st.error().message);
  }
  node_up_ = false;
  node_error_ = st.error().message;
  probe_.redis_up.Set(0);
}

bool Elector::FenceNode(const std::string& why) {
  auto st = node_.Fence();
  if (st) {
    probe_.fenced.Increment();
    Logger("elect")->warn("local Redis demoted to a read-only replica of the fence target: {}",
                          why);
    return true;
  }
  WALRUS_LOG_EVERY_MS(Logger("elect"), warn, 1000, "cannot demote the local Redis ({}): {}", why,
                      st.error().message);
  return false;
}

// ---- leader -----------------------------------------------------------------------------------

void Elector::LeaderTick(TimePoint now) {
  if (!guard_.Alive()) return StepDown("guard", "the fence guard process is gone");
  if (!node_up_) {
    if (now - node_ok_at_ >= opts_.down_after) {
      return StepDown("redis_down", fmt::format("local Redis unreachable for {} ms: {}",
                                                Ms(now - node_ok_at_), node_error_));
    }
  } else if (node_state_.run_id != promoted_run_id_) {
    return StepDown("redis_restarted",
                    fmt::format("local Redis restarted (run_id {} -> {}): its data is not the "
                                "leader's any more",
                                promoted_run_id_, node_state_.run_id));
  } else if (!node_state_.master) {
    return StepDown("redis_demoted", fmt::format("local Redis became a replica of {}:{} (fenced)",
                                                 node_state_.master_host, node_state_.master_port));
  }
  if (now >= next_renew_) {
    RenewLease(now);
    if (role_ != Role::kLeader) return;
  }
  if (now >= lease_until_ - opts_.fence_margin) {
    return StepDown("renew_timeout",
                    fmt::format("lease not renewed for {} ms (ttl {} ms, fence margin {} ms)",
                                Ms(now - (lease_until_ - backend_.ttl())), backend_.ttl().count(),
                                opts_.fence_margin.count()));
  }
  if (!published_) {
    LeaderRecord rec = self_;
    rec.serving = true;
    auto st = backend_.Publish(rec);
    if (st) {
      self_ = rec;
      published_ = true;
      Logger("elect")->info("serving as leader, epoch {} ({})", self_.epoch, self_.advertise);
      SetLeader(self_);
    } else if (st.error().Is(Errc::kConflict) || st.error().Is(Errc::kNotFound)) {
      return StepDown("lease_lost", "publishing the record: " + st.error().message);
    } else {
      WALRUS_LOG_EVERY_MS(Logger("elect"), warn, 1000, "publishing the leader record: {}",
                          st.error().message);
    }
  }
}

void Elector::RenewLease(TimePoint now) {
  auto st = backend_.Renew();
  const auto took = clock_.Steady() - now;
  if (st) {
    // The lease counts from before the request was sent: conservative.
    lease_until_ = now + backend_.ttl();
    guard_.Arm(lease_until_ - opts_.fence_margin);
    next_renew_ = now + opts_.renew_interval;
    probe_.renew_seconds.Observe(std::chrono::duration<double>(took).count());
    return;
  }
  probe_.renew_failures.Increment();
  if (st.error().Is(Errc::kConflict) || st.error().Is(Errc::kNotFound)) {
    return StepDown("lease_lost", st.error().message);
  }
  WALRUS_LOG_EVERY_MS(Logger("elect"), warn, 500,
                      "lease renewal failed ({} ms left before fencing): {}",
                      Ms(lease_until_ - opts_.fence_margin - now), st.error().message);
  next_renew_ = now + std::max(opts_.renew_interval / 4, milliseconds(20));
}

void Elector::StepDown(const std::string& reason, const std::string& why) {
  Logger("elect")->warn("stepping down as leader (epoch {}): {}", self_.epoch, why);
  probe_.StepDown(reason).Increment();
  // Order matters: the Redis refuses writes before the lease is handed to anyone else. A Redis
  // that does not answer (down, frozen, unreachable) may still come back as this primary: then
  // the guard keeps trying from now on (it retries until the fence succeeds), and is disarmed
  // once a probe sees the server read-only.
  if (FenceNode("stepping down: " + why)) {
    guard_.Disarm();
    fence_pending_ = false;
  } else {
    guard_.Arm(clock_.Steady());
    fence_pending_ = true;
  }
  if (auto st = backend_.Release(); !st) {
    Logger("elect")->warn("releasing the lease: {} (it expires by itself)", st.error().message);
  }
  role_ = Role::kFollower;
  published_ = false;
  probe_.is_leader.Set(0);
  SetLeader(std::nullopt);
  const TimePoint now = clock_.Steady();
  campaign_at_.reset();
  no_campaign_before_ = now + opts_.renew_interval;
  next_observe_ = now;
}

// ---- follower ---------------------------------------------------------------------------------

void Elector::FollowerTick(TimePoint now, bool changed) {
  if (changed || now >= next_observe_) {
    next_observe_ = now + opts_.renew_interval;
    auto obs = backend_.Observe();
    if (!obs) {
      WALRUS_LOG_EVERY_MS(Logger("elect"), warn, 1000, "observing {}: {}", backend_.Describe(),
                          obs.error().message);
      // Blind for a whole lease: the leader we know may be deposed by now. Forget it, so that
      // the proxies hold clients instead of sending them to a Redis that may be fenced.
      if (leader_ && now - observed_at_ >= backend_.ttl()) {
        Logger("elect")->warn("no view of the lease for {} ms: forgetting the leader",
                              Ms(now - observed_at_));
        SetLeader(std::nullopt);
      }
    } else {
      observed_at_ = now;
      last_epoch_ = std::max(last_epoch_, obs->last_epoch);
      if (obs->leader) last_epoch_ = std::max(last_epoch_, obs->leader->epoch);
      SetLeader(obs->leader);
      lag_bytes_ = -1;
      if (leader_ && leader_->id != opts_.id && node_up_ && node_state_.link_up) {
        auto [host, port] = AdvertisedAddress(leader_->advertise);
        if (auto off = node_.LeaderOffset(host, port)) {
          lag_bytes_ = std::max<int64_t>(0, *off - node_state_.repl_offset);
        }
      }
      probe_.lag_bytes.Set(static_cast<double>(lag_bytes_));
    }
  }
  if (leader_) {
    campaign_at_.reset();
    if (leader_->id == opts_.id) {
      // A lease an earlier run of this sidecar left behind (its guard demoted the Redis).
      const std::string key = fmt::format("{}@{}", leader_->id, leader_->epoch);
      if (stale_released_ != key) {
        Logger("elect")->warn(
            "the lease is held under this node's id by an earlier run "
            "(epoch {}): releasing it",
            leader_->epoch);
        if (auto st = backend_.ReleaseStale(*leader_); !st) {
          Logger("elect")->warn("releasing the stale lease: {}", st.error().message);
        }
        stale_released_ = key;
        next_observe_ = now;
      }
      if (node_up_ && node_state_.master) FenceNode("a stale lease of this node is still held");
      return;
    }
    Follow();
    return;
  }
  if (node_up_ && node_state_.master) {
    FenceNode("no leader, and a Redis that is not the leader must not accept writes");
  }
  std::string why;
  if (!Eligible(&why)) {
    campaign_at_.reset();
    if (why != ineligible_) Logger("elect")->info("not campaigning: {}", why);
    ineligible_ = why;
    return;
  }
  ineligible_.clear();
  if (!campaign_at_) {
    // A replica whose link to the last leader was up within a lease duration goes first; the
    // others give it a head start of one renew interval.
    const bool head_start = last_epoch_ == 0 || now - link_up_at_ <= backend_.ttl();
    campaign_at_ =
        std::max(now + (head_start ? milliseconds(0) : opts_.renew_interval), no_campaign_before_);
  }
  if (now >= *campaign_at_) {
    campaign_at_.reset();
    Campaign(now);
  }
}

void Elector::Follow() {
  if (!node_up_) return;
  auto [host, port] = AdvertisedAddress(leader_->advertise);
  if (!node_state_.master && node_state_.master_host == host && node_state_.master_port == port) {
    return;
  }
  const std::string was =
      node_state_.master
          ? std::string("a primary")
          : fmt::format("a replica of {}:{}", node_state_.master_host, node_state_.master_port);
  auto st = node_.Follow(host, port);
  if (!st) {
    WALRUS_LOG_EVERY_MS(Logger("elect"), warn, 1000, "REPLICAOF {}: {}", leader_->advertise,
                        st.error().message);
    return;
  }
  probe_.replicaof.Increment();
  node_state_.master = false;
  node_state_.master_host = host;
  node_state_.master_port = port;
  node_state_.link_up = false;
  Logger("elect")->info("local Redis (was {}) now replicates the leader {} (epoch {})", was,
                        leader_->advertise, leader_->epoch);
}

bool Elector::Eligible(std::string* why) const {
  if (!node_up_) {
    *why = "local Redis unreachable";
    return false;
  }
  if (node_state_.loading) {
    *why = "local Redis is loading its dataset";
    return false;
  }
  if (opts_.force_eligible || last_epoch_ == 0 || node_state_.epoch >= last_epoch_) return true;
  *why = fmt::format(
      "local Redis holds the data of epoch {} but epoch {} was elected since (empty, restarted "
      "or stale): it must sync from a leader first",
      node_state_.epoch, last_epoch_);
  return false;
}

void Elector::Campaign(TimePoint now) {
  probe_.campaigns.Increment();
  LeaderRecord me{opts_.id, opts_.advertise, false, 0};
  auto got = backend_.TryAcquire(me);
  if (!got) {
    WALRUS_LOG_EVERY_MS(Logger("elect"), warn, 1000, "campaign: {}", got.error().message);
    no_campaign_before_ = now + opts_.renew_interval / 2;
    return;
  }
  if (!got->won) {
    next_observe_ = now;  // someone else was faster: see who
    return;
  }
  role_ = Role::kLeader;
  self_ = me;
  self_.epoch = got->epoch;
  last_epoch_ = std::max(last_epoch_, got->epoch);
  lease_until_ = now + backend_.ttl();
  guard_.Arm(lease_until_ - opts_.fence_margin);
  fence_pending_ = false;
  next_renew_ = now + opts_.renew_interval;
  published_ = false;
  probe_.elections.Increment();
  probe_.is_leader.Set(1);
  probe_.epoch.Set(static_cast<double>(self_.epoch));
  SetLeader(self_);
  Logger("elect")->info("won the lease: epoch {}; promoting the local Redis", self_.epoch);
  if (auto st = node_.Promote(self_.epoch); !st) {
    return StepDown("promote_failed", "promoting the local Redis: " + st.error().message);
  }
  // The server we promoted: a different run id later means it restarted (empty).
  auto p = node_.Probe();
  if (!p || !p->master || p->epoch != self_.epoch) {
    return StepDown("promote_failed",
                    p ? "the local Redis is not a primary at this epoch after promotion"
                      : "probing after promotion: " + p.error().message);
  }
  node_state_ = std::move(*p);
  promoted_run_id_ = node_state_.run_id;
  LeaderTick(now);  // publishes the record as serving
}

void Elector::SetLeader(const std::optional<LeaderRecord>& leader) {
  if (leader == leader_) return;
  const bool new_holder =
      leader && (!leader_ || leader_->id != leader->id || leader_->epoch != leader->epoch);
  if (new_holder) {
    probe_.leader_changes.Increment();
    Logger("elect")->info("leader: {} at {} (epoch {}{})", leader->id, leader->advertise,
                          leader->epoch, leader->serving ? ", serving" : ", promoting");
  } else if (!leader) {
    Logger("elect")->info("no leader: the lease is free");
  }
  leader_ = leader;
  if (leader_) probe_.epoch.Set(static_cast<double>(leader_->epoch));
  std::optional<std::string> target;
  if (leader_ && leader_->serving) target = leader_->advertise;
  if (target != target_) {
    target_ = target;
    if (on_target_) on_target_(target_);
  }
}

}  // namespace walrus::elect
