#pragma once

// Elector: the election core shared by every backend. One per `walrus elect` sidecar; it owns
// the local Redis' role:
//
//   leader    holds the lease (renewed every renew_interval); its Redis is the primary
//             (REPLICAOF NO ONE, then walrus:epoch = epoch, then the record is published as
//             serving so the proxies route to it). The DeadlineGuard is armed at
//             lease start + ttl - fence_margin after every renewal: if the sidecar cannot renew
//             (backend down, process frozen or killed) the Redis is demoted before the lease can
//             expire anywhere else. The leader steps down (demotes its Redis, releases the lease)
//             when the local Redis is unreachable for down_after, restarted, or demoted.
//   follower  its Redis replicates the leader (REPLICAOF re-asserted on every probe, so a
//             restarted Redis is re-pointed within probe_interval); without a leader a Redis
//             that is a primary is demoted to the fence target (never a standalone primary).
//             It campaigns for a free lease only if its Redis holds the data of the newest
//             epoch (walrus:epoch >= last elected epoch): an empty or stale Redis never leads.
//
//   Elector e(opts, backend, node, guard, clock, probe);
//   e.SetTargetCallback([&](std::optional<std::string> addr) { proxy.SetTarget(addr); });
//   e.Run(stop_flag);          // Tick() in a loop, sleeping in backend.WaitForChange
//   e.Shutdown();              // a leader demotes its Redis and releases the lease
//
// Threading: Tick/Run/Shutdown on one thread (the elector thread); Snapshot() from any thread.
// The callback runs on the elector thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "elect/elect_probe.h"
#include "elect/lease_backend.h"

namespace walrus::elect {

struct ElectorOptions {
  std::string id;         // unique per node
  std::string advertise;  // host:port of the local Redis as the other nodes reach it
  std::chrono::milliseconds renew_interval{1000};
  std::chrono::milliseconds fence_margin{1000};  // demote this long before the lease could expire
  std::chrono::milliseconds probe_interval{100};
  std::chrono::milliseconds down_after{1000};  // leader: local Redis unreachable this long
  bool force_eligible = false;                 // campaign even with stale/empty data
  int64_t ready_max_lag_bytes = 1 << 20;
};

enum class Role { kFollower, kLeader };

// A consistent copy of the elector's state for the admin endpoints.
struct ElectorSnapshot {
  Role role = Role::kFollower;
  std::optional<LeaderRecord> leader;
  int64_t last_epoch = 0;
  bool redis_up = false;
  bool ready = false;
  std::string detail;  // why (not) ready
  int64_t lag_bytes = -1;
  std::chrono::steady_clock::time_point last_tick{};
};

class Elector {
 public:
  using TargetCallback = std::function<void(const std::optional<std::string>&)>;

  // Precondition: opts.advertise parses as host:port; fence_margin < ttl - renew_interval.
  Elector(ElectorOptions opts, LeaseBackend& backend, NodeControl& node, DeadlineGuard& guard,
          Clock& clock, ElectProbe& probe);

  // Called with the address the proxies should forward to (a serving leader) whenever it
  // changes; nullopt while there is none.
  void SetTargetCallback(TargetCallback cb) { on_target_ = std::move(cb); }

  // One iteration: probe the local Redis, renew or observe/follow/campaign. `changed`: the
  // backend reported a change (observe now). Returns when the next iteration is due.
  std::chrono::steady_clock::time_point Tick(bool changed = false);
  // Tick until `stop`; sleeps in LeaseBackend::WaitForChange between iterations.
  void Run(const std::atomic<bool>& stop);
  // A leader demotes its Redis and releases the lease; a follower does nothing.
  void Shutdown();

  ElectorSnapshot Snapshot() const;
  Role role() const { return role_; }

 private:
  void ProbeNode(std::chrono::steady_clock::time_point now);
  void LeaderTick(std::chrono::steady_clock::time_point now);
  void FollowerTick(std::chrono::steady_clock::time_point now, bool changed);
  void Follow();
  void Campaign(std::chrono::steady_clock::time_point now);
  void RenewLease(std::chrono::steady_clock::time_point now);
  void StepDown(const std::string& reason, const std::string& why);
  // Demotes the local Redis; false if it could not be reached.
  bool FenceNode(const std::string& why);
  // Whether this node may campaign now; `why` says why not.
  bool Eligible(std::string* why) const;
  void SetLeader(const std::optional<LeaderRecord>& leader);
  // Recomputes readiness for the admin endpoints (elector_readiness.cc).
  void UpdateSnapshot(std::chrono::steady_clock::time_point now);

  const ElectorOptions opts_;
  LeaseBackend& backend_;
  NodeControl& node_;
  DeadlineGuard& guard_;
  Clock& clock_;
  ElectProbe& probe_;
  TargetCallback on_target_;

  // Elector thread only.
  Role role_ = Role::kFollower;
  std::optional<LeaderRecord> leader_;
  std::optional<std::string> target_;
  int64_t last_epoch_ = 0;
  NodeState node_state_;
  bool node_up_ = false;
  std::chrono::steady_clock::time_point node_ok_at_{};
  std::chrono::steady_clock::time_point link_up_at_{};  // last probe with the link up, in sync
  std::string node_error_;
  // Leader.
  LeaderRecord self_;
  bool published_ = false;
  std::string promoted_run_id_;
  std::chrono::steady_clock::time_point lease_until_{};
  std::chrono::steady_clock::time_point next_renew_{};
  // Follower.
  std::chrono::steady_clock::time_point next_observe_{};
  std::chrono::steady_clock::time_point observed_at_{};  // last successful Observe
  std::optional<std::chrono::steady_clock::time_point> campaign_at_;
  std::chrono::steady_clock::time_point no_campaign_before_{};
  std::string stale_released_;  // id@epoch of a stale own record already released
  int64_t lag_bytes_ = -1;
  std::string ineligible_;      // last reason logged
  bool fence_pending_ = false;  // stepped down without reaching the Redis: the guard fences it

  mutable std::mutex mu_;  // guards snapshot_
  ElectorSnapshot snapshot_;
};

}  // namespace walrus::elect
