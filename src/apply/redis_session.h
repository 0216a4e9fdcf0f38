#pragma once

// RedisSession: the applier's connection to the Redis primary and its lifecycle.
//
//   down ──Ensure()──> locate (PrimaryLocator) ─> connect + greet (ROLE, walrus:epoch in one
//        round trip) ─> EpochFence::Check ─> Hooks::resync (positions re-read, consumer sought)
//        ─> up
//   up ──Drop(why)──> down: Hooks::dropped (the in-flight batch and every partition's sync are
//        void), Backoff::Failed; Ensure() tries again once the backoff passed, or at once when
//        the locator announces a new primary (Sentinel failover)
//
// A Redis that is not a writable primary, or holds an older leader epoch (RefuseStaleEpoch,
// docs/ha.md), is dropped like a failed one: nothing is written to it. The backoff grows from
// 100 ms to --backoff-max with every failure and starts over after a committed transaction
// (Committed). The EpochFence (the newest epoch seen) lives as long as the session, across
// reconnects. The session is the TxLink of the batch in flight (InflightBatch).
//
//   RedisSession s(std::move(locator), RedisSession::RealConnector(), probe, clock, backoff_max);
//   s.set_hooks({.resync = ..., .dropped = ..., .partitions = ...});
//   if (!s.Ensure()) { /* down: discard what is polled */ }
//   s.conn().Append(...);
//
// Threading: applier thread only, except ok() (any thread: /readyz).

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apply/apply_probe.h"
#include "apply/backoff.h"
#include "apply/epoch_fence.h"
#include "apply/tx_link.h"
#include "core/clock.h"
#include "redis/connection.h"
#include "redis/primary_locator.h"

namespace walrus::apply {

// How a session opens and checks a connection; a fake drives RedisSession in unit tests.
class RedisConnector {
 public:
  // What a new connection said about itself.
  struct Greeting {
    std::unique_ptr<redis::Connection> conn;  // null only from fakes
    std::string role;                         // ROLE's first element; "unknown" if unreadable
    std::optional<std::string> epoch;         // walrus:epoch (nullopt: no such key)
    std::optional<std::string> epoch_error;   // reading walrus:epoch got this error reply
  };
  virtual ~RedisConnector() = default;
  // Connects to `ep` and sends ROLE + GET walrus:epoch in one round trip. An error: the
  // connection or that round trip failed.
  virtual Result<Greeting> Open(const redis::Endpoint& ep) = 0;
  // The health check: ROLE's first element ("" when empty). An error: transport failure or
  // an error reply. `conn` is what Open returned.
  virtual Result<std::string> Role(redis::Connection* conn) = 0;
};

class RedisSession final : public TxLink {
 public:
  struct Hooks {
    // The connection is new: read the positions back and seek (conn() is usable). False: the
    // session drops the connection ("resync failed").
    std::function<bool()> resync;
    // The connection is gone: whatever depended on it is void.
    std::function<void()> dropped;
    // How many partitions are assigned (for the "connected" log line).
    std::function<size_t()> partitions;
  };

  // The connector of production: redis::Connection::Connect.
  static std::unique_ptr<RedisConnector> RealConnector();

  // `probe` and `clock` must outlive the session.
  RedisSession(std::unique_ptr<redis::PrimaryLocator> locator,
               std::unique_ptr<RedisConnector> connector, ApplyProbe& probe, Clock& clock,
               std::chrono::milliseconds backoff_max);

  void set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }

  // Connected to the primary (connecting and resyncing if needed)? False while Redis is down or
  // the backoff runs. A connection that broke, or whose primary the locator says moved, is
  // dropped first.
  bool Ensure();
  // Forgets the connection, calls Hooks::dropped and backs off; logs `why` unless `quiet` (the
  // caller logged it) or it repeats the last error while already down.
  void Drop(const std::string& why, bool quiet = false);
  // The Redis about to be written holds an older leader epoch: count, log (rate-limited), drop
  // it and locate the primary again after the backoff.
  void RefuseStaleEpoch(const std::string& why);
  // The health check (PeriodicTasks::TakePing decides when): drops a primary that failed or
  // is no longer a primary. Precondition: connected().
  void Ping();
  // A transaction committed: the next failure backs off from the start.
  void Committed() { backoff_.Reset(); }

  // TxLink.
  bool connected() const override { return connected_; }
  TxResult ReadExec(Transaction& tx) override;
  TxResult Rerun(Transaction& tx) override;
  Status Discard() override;

  // Connected and the connection not broken.
  bool usable() const { return connected_ && !(conn_ && conn_->broken()); }
  // The connection. Precondition: connected() (and a real connector).
  redis::Connection& conn() { return *conn_; }
  EpochFence& epoch() { return epoch_; }
  std::chrono::milliseconds backoff() const { return backoff_.delay(); }
  // Up: connected and resynced (thread-safe).
  bool ok() const { return ok_.load(); }

 private:
  std::unique_ptr<redis::PrimaryLocator> locator_;
  std::unique_ptr<RedisConnector> connector_;
  ApplyProbe& probe_;
  Hooks hooks_;
  Backoff backoff_;
  EpochFence epoch_;  // newest walrus:epoch seen, across reconnects
  std::unique_ptr<redis::Connection> conn_;
  bool connected_ = false;
  std::vector<redis::Reply> discard_scratch_;
  std::string last_error_;
  std::atomic<bool> ok_{false};
};

}  // namespace walrus::apply
