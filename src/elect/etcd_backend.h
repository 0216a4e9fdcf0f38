#pragma once

// EtcdBackend: the election lease in etcd v3, spoken through etcd's JSON gRPC gateway over
// HTTP(S) (`/v3/lease/grant`, `/v3/lease/keepalive`, `/v3/lease/revoke`, `/v3/kv/txn`,
// `/v3/kv/range`, `/v3/watch`; keys and values base64) — no gRPC library needed.
//
// Keys (prefix default "/walrus/elect/", name default "redis"):
//   <prefix><name>/leader   {"id","advertise","serving"} attached to the holder's lease
//   <prefix><name>/epoch    the holder's id, no lease: outlives the leader
// Campaign = grant a lease of ttl, then one transaction:
//   if create_revision(leader) == 0: put leader (with the lease), put epoch
// The epoch is the transaction's revision = the leader key's create revision = the epoch key's
// mod revision: etcd revisions only grow, so epochs are monotonic across elections, and the last
// epoch is still known when no leader holds the lease. Renew = keepalive of the lease plus a check
// that the leader key still has our create revision and lease. A watch on the leader key (its own
// thread and connection) wakes WaitForChange on every change.
//
//   EtcdBackend etcd({.endpoints = {"http://127.0.0.1:2379"}, .name = "redis", .ttl = 5s});
//   auto got = etcd.TryAcquire({.id = "n1", .advertise = "10.0.0.5:6379"});
//
// Several endpoints: a request that fails at the transport level is retried on the next one.
// Threading: the LeaseBackend methods on one thread (the elector's); Wake from any thread; the
// destructor stops the watch thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "elect/lease_backend.h"

namespace httplib {
class Client;
}

namespace walrus::elect {

struct EtcdOptions {
  std::vector<std::string> endpoints{"http://127.0.0.1:2379"};  // http:// or https://
  std::string prefix = "/walrus/elect/";
  std::string name = "redis";
  std::chrono::seconds ttl{5};
  std::chrono::milliseconds request_timeout{1000};
  std::string ca_file;    // https: CA bundle to trust (empty: system default)
  std::string cert_file;  // https: client certificate for mutual TLS
  std::string key_file;
  bool watch = true;  // false: no watch thread (WaitForChange just sleeps)
};

class EtcdBackend final : public LeaseBackend {
 public:
  explicit EtcdBackend(EtcdOptions opts);
  ~EtcdBackend() override;

  std::string Describe() const override;
  std::chrono::milliseconds ttl() const override { return opts_.ttl; }
  Result<Observation> Observe() override;
  Result<Acquired> TryAcquire(const LeaderRecord& me) override;
  Status Renew() override;
  Status Publish(const LeaderRecord& me) override;
  Status Release() override;
  Status ReleaseStale(const LeaderRecord& stale) override;
  bool WaitForChange(std::chrono::milliseconds timeout) override;
  void Wake() override;

  const std::string& leader_key() const { return leader_key_; }
  const std::string& epoch_key() const { return epoch_key_; }

 private:
  // POST path with a JSON body on the current endpoint (rotating on transport errors).
  // Non-200 answers become errors: gRPC NotFound -> kNotFound, others kUnavailable.
  Result<nlohmann::json> Call(const std::string& path, const nlohmann::json& body);
  std::unique_ptr<httplib::Client> MakeClient(const std::string& endpoint,
                                              std::chrono::milliseconds read_timeout) const;
  Status Revoke(int64_t lease);
  void WatchLoop();
  void Notify();

  const EtcdOptions opts_;
  const std::string leader_key_;
  const std::string epoch_key_;

  // Elector thread.
  std::vector<std::unique_ptr<httplib::Client>> clients_;
  size_t current_ = 0;
  int64_t lease_ = 0;  // held lease id (0: none)
  int64_t epoch_ = 0;  // held leader key's create revision
  int64_t observed_epoch_ = 0;
  int64_t observed_lease_ = 0;

  // Watch thread and WaitForChange.
  std::mutex mu_;
  std::condition_variable cv_;
  bool changed_ = false;
  bool woken_ = false;
  std::atomic<bool> stop_{false};
  httplib::Client* watch_client_ = nullptr;  // guarded by mu_, for stop()
  std::thread watch_;
};

// The leader record as stored in the leader key's value, and back (epoch not included).
std::string EncodeLeaderValue(const LeaderRecord& r);
Result<LeaderRecord> DecodeLeaderValue(std::string_view json);

}  // namespace walrus::elect
