#pragma once

// The seams of the election core (elector.h): where the lease lives (LeaseBackend: etcd v3 or a
// Kubernetes Lease), the local Redis (NodeControl), the out-of-process fence (DeadlineGuard) and
// time (walrus::Clock, core/clock.h). Production implementations: EtcdBackend, KubeBackend,
// RedisNode, GuardProcess, SystemClock(); the unit tests substitute fakes and a ManualClock.
//
//   EtcdBackend backend(cfg);                       // or KubeBackend
//   auto obs = backend.Observe();                   // who leads, newest epoch ever elected
//   auto got = backend.TryAcquire({.id = "n1", .advertise = "10.0.0.5:6379"});
//   if (got && got->won) { ... epoch = got->epoch ... backend.Renew(); ... backend.Release(); }
//
// Threading: a backend, node and guard are used by the elector thread only, except
// LeaseBackend::Wake (any thread) which interrupts WaitForChange.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace walrus::elect {

// The leader as published in the backend.
struct LeaderRecord {
  std::string id;         // holder identity, unique per node (default: its advertise address)
  std::string advertise;  // host:port of its Redis: followers REPLICAOF it, proxies forward to it
  bool serving = false;   // promoted and walrus:epoch written: proxies may route clients to it
  int64_t epoch = 0;      // grows with every election (etcd: the key's create revision;
                          // Kubernetes: leaseTransitions)

  bool operator==(const LeaderRecord&) const = default;
};

struct Observation {
  std::optional<LeaderRecord> leader;  // the live holder of the lease, if any
  int64_t last_epoch = 0;              // the newest epoch ever elected (0: never any leader)
};

struct Acquired {
  bool won = false;
  int64_t epoch = 0;  // when won
};

class LeaseBackend {
 public:
  virtual ~LeaseBackend() = default;

  // "etcd http://127.0.0.1:2379 key /walrus/elect/redis/leader", for logs.
  virtual std::string Describe() const = 0;
  // Lease duration; a holder that did not renew for this long has lost the lease.
  virtual std::chrono::milliseconds ttl() const = 0;

  // The current state. Errors are transient (backend unreachable).
  virtual Result<Observation> Observe() = 0;
  // Takes the lease for `me` (serving=false) if nobody holds it. won=false: someone else does.
  // The lease counts from before the call: a caller that timed the call from its start is
  // conservative. Errors are transient; on an error nothing is held.
  virtual Result<Acquired> TryAcquire(const LeaderRecord& me) = 0;
  // Extends the held lease by ttl(). kConflict / kNotFound: the lease is lost for good (expired,
  // taken over, deleted); other errors are transient.
  virtual Status Renew() = 0;
  // Rewrites the held record (e.g. serving=true); does not extend the lease. Errors as Renew.
  virtual Status Publish(const LeaderRecord& me) = 0;
  // Gives the held lease up so another node can take it at once. Best effort; a no-op when
  // nothing is held.
  virtual Status Release() = 0;
  // Gives up a lease that an earlier run of this node left behind (stale.id is our id).
  virtual Status ReleaseStale(const LeaderRecord& stale) = 0;

  // Blocks up to `timeout`; returns early (true) when the backend saw a change of the election
  // (etcd: a watch event) or Wake() was called. Backends without notifications just sleep.
  virtual bool WaitForChange(std::chrono::milliseconds timeout) = 0;
  // Interrupts WaitForChange; any thread.
  virtual void Wake() = 0;
};

// What a probe of the local Redis found.
struct NodeState {
  std::string run_id;       // changes when the server restarts
  bool master = false;      // ROLE master
  bool loading = false;     // loading a dataset (answers LOADING)
  std::string master_host;  // replica: the primary it replicates (as given to REPLICAOF)
  int master_port = 0;
  bool link_up = false;     // replica: master_link_status:up
  bool syncing = false;     // replica: a full sync is in progress
  int64_t repl_offset = 0;  // master_repl_offset (master) / slave_repl_offset (replica)
  int64_t epoch = 0;        // the walrus:epoch key (0: absent): whose data this is
};

// The local Redis, controlled by the sidecar.
class NodeControl {
 public:
  virtual ~NodeControl() = default;
  virtual Result<NodeState> Probe() = 0;
  // REPLICAOF NO ONE, then walrus:epoch = epoch.
  virtual Status Promote(int64_t epoch) = 0;
  // REPLICAOF host port (a no-op for Redis if it already replicates that primary).
  virtual Status Follow(const std::string& host, int port) = 0;
  // Demotes the server so that it refuses writes (REPLICAOF the fence target).
  virtual Status Fence() = 0;
  // The leader's master_repl_offset (for the follower's lag).
  virtual Result<int64_t> LeaderOffset(const std::string& host, int port) = 0;
};

// Fences the local Redis when the lease may have run out, even if the sidecar is frozen.
class DeadlineGuard {
 public:
  virtual ~DeadlineGuard() = default;
  // Demote the local Redis at `deadline` unless re-armed (later deadline) or disarmed first.
  virtual void Arm(std::chrono::steady_clock::time_point deadline) = 0;
  virtual void Disarm() = 0;
  virtual bool Alive() = 0;
};

}  // namespace walrus::elect
