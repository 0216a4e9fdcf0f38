#pragma once

// Typed configuration of `walrus elect`, built from flags / WALRUS_ELECT_* env by
// elect_command.cc and validated once at start-up: BuildElectConfig throws std::invalid_argument
// naming the flag.
//
//   ElectFlags f;                                 // as parsed by CLI11
//   f.redis = "redis://127.0.0.1:6379"; f.advertise = "10.0.0.5:6379";
//   ElectConfig cfg = BuildElectConfig(f);        // cfg.elector, cfg.node, cfg.etcd, ...
//   log->info("{}", cfg.Describe());              // no secrets

#include <optional>
#include <string>
#include <vector>

#include "elect/elector.h"
#include "elect/etcd_backend.h"
#include "elect/kube_backend.h"
#include "elect/leader_proxy.h"
#include "elect/redis_node.h"
#include "http/host_port.h"

namespace walrus::elect {

// Flags as parsed.
struct ElectFlags {
  std::string redis;  // local node URL
  std::string redis_password_file;
  std::string redis_tls_ca;
  std::string advertise;  // host:port the other nodes reach the local Redis at
  std::string id;         // default: advertise
  std::string backend = "etcd";
  std::string lease_name = "redis";
  int ttl_s = 5;
  int renew_interval_ms = 1000;
  int fence_margin_ms = 1000;
  int probe_interval_ms = 100;
  int down_after_ms = 1000;
  std::string fence_replicaof = "192.0.2.1:6379";
  std::string proxy;  // empty: no proxy
  int proxy_wait_ms = 5000;
  int64_t ready_max_lag_bytes = 1 << 20;
  bool force_eligible = false;
  std::vector<std::string> etcd{"http://127.0.0.1:2379"};
  std::string etcd_prefix = "/walrus/elect/";
  std::string etcd_ca_file, etcd_cert_file, etcd_key_file;
  std::string k8s_api, k8s_namespace;
  std::string k8s_token_file = std::string(kServiceAccountDir) + "/token";
  std::string k8s_ca_file = std::string(kServiceAccountDir) + "/ca.crt";
  std::string admin = "127.0.0.1:0";
};

struct ElectConfig {
  std::string backend;  // "etcd" | "kubernetes"
  ElectorOptions elector;
  RedisNodeOptions node;
  EtcdOptions etcd;
  KubeOptions kube;
  std::optional<ProxyOptions> proxy;
  http::HostPort admin;

  // One line for the start-up log (no secrets).
  std::string Describe() const;
};

ElectConfig BuildElectConfig(const ElectFlags& f);

}  // namespace walrus::elect
