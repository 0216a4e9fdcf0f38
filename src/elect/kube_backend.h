#pragma once

// KubeBackend: the election lease as a Kubernetes Lease object (coordination.k8s.io/v1), over
// HTTPS to the API server with the pod's service-account token and CA, with optimistic
// concurrency on metadata.resourceVersion (a write based on an old version answers 409).
//
//   GET  /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME       observe
//   POST /apis/coordination.k8s.io/v1/namespaces/NS/leases            first campaign (create)
//   PUT  /apis/coordination.k8s.io/v1/namespaces/NS/leases/NAME       campaign, renew, publish,
//                                                                     release (resourceVersion)
//
// The record: spec.holderIdentity = id, spec.leaseDurationSeconds = ttl, spec.acquireTime /
// renewTime, spec.leaseTransitions = epoch (+1 on every acquisition, so it grows with every
// election), annotations walrus.io/advertise and walrus.io/serving.
//
// Expiry is judged as client-go does, without trusting other nodes' clocks: a holder is live
// until leaseDurationSeconds have passed on OUR clock since we first saw its current
// resourceVersion. A renewal that gets 409 re-reads the object: if we still hold it (same holder
// and leaseTransitions, e.g. someone only edited a label) the renewal is retried on the new
// version, otherwise the lease is lost (kConflict).
//
//   KubeBackend kube({.api_server = "https://10.96.0.1:443", .name_space = "db",
//                     .name = "redis", .ttl = 5s});   // token and CA: in-cluster paths
//
// No API server can run on the development machines: the tests run these exchanges against a
// scripted server that follows the documented API (kube_backend_test.cc, tests/e2e).
// Threading: one thread (the elector's); Wake from any thread.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "elect/lease_backend.h"

namespace httplib {
class Client;
}

namespace walrus::elect {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct KubeOptions {
  std::string api_server;  // https://host:port (or http:// for tests)
  std::string name_space;  // the Lease's namespace
  std::string name = "redis";
  std::string token_file = std::string(kServiceAccountDir) + "/token";  // re-read per request
  std::string ca_file = std::string(kServiceAccountDir) + "/ca.crt";    // https only
  std::chrono::seconds ttl{5};
  std::chrono::milliseconds request_timeout{1000};
};

// Fills api_server (from KUBERNETES_SERVICE_HOST/PORT) and name_space (from the service account's
// namespace file) when empty. Throws std::invalid_argument naming what is missing.
void ResolveInCluster(KubeOptions& o);

class KubeBackend final : public LeaseBackend {
 public:
  explicit KubeBackend(KubeOptions opts);
  ~KubeBackend() override;

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

 private:
  struct Answer {
    int status = 0;
    nlohmann::json body;
  };
  Result<Answer> Request(const std::string& method, const std::string& path,
                         const nlohmann::json* body);
  // GET the lease: the object, or null json on 404.
  Result<nlohmann::json> Get();
  // Remembers an object we read or wrote (resourceVersion and when we first saw it).
  void Seen(const nlohmann::json& lease);
  // PUT `lease` (with its resourceVersion); on 200 remembers the answer.
  Result<Answer> Put(const nlohmann::json& lease);
  // Rewrites our held lease with `edit` applied; retries once on 409 if we still hold it.
  Status Update(const std::function<void(nlohmann::json&)>& edit);
  bool Holds(const nlohmann::json& lease) const;
  std::string ItemPath() const;

  const KubeOptions opts_;
  std::unique_ptr<httplib::Client> client_;

  nlohmann::json last_;  // last object seen (null: none / not found)
  std::string observed_rv_;
  std::chrono::steady_clock::time_point observed_at_{};
  bool holding_ = false;
  LeaderRecord self_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

// Kubernetes MicroTime of the wall clock now: "2026-01-02T15:04:05.000000Z".
std::string KubeMicroTime();

}  // namespace walrus::elect
