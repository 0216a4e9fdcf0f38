#include "elect/elect_config.h"

#include <fmt/format.h>

#include <stdexcept>

#include "core/secret_file.h"
#include "redis/endpoint.h"

namespace walrus::elect {
namespace {

using std::chrono::milliseconds;

[[noreturn]] void Bad(const std::string& flag, const std::string& why) {
  throw std::invalid_argument(flag + ": " + why);
}

http::HostPort HostPortFlag(const std::string& flag, const std::string& value, bool port_needed) {
  auto hp = http::ParseHostPort(value);
  if (!hp) Bad(flag, hp.error().message);
  if (port_needed && (hp->port == 0 || hp->host.empty() || hp->host == "0.0.0.0")) {
    Bad(flag, "needs a reachable host and a port, got '" + value + "'");
  }
  return *hp;
}

}  // namespace

ElectConfig BuildElectConfig(const ElectFlags& f) {
  ElectConfig c;
  if (f.redis.empty()) Bad("--redis", "required (the local Redis, e.g. redis://127.0.0.1:6379)");
  auto ep = redis::ParseRedisUrl(f.redis);
  if (!ep) Bad("--redis", ep.error().message);
  c.node.local = *ep;
  if (!f.redis_password_file.empty()) {
    c.node.local.password = ReadSecretFile(f.redis_password_file, "--redis-password-file");
  }
  if (!f.redis_tls_ca.empty()) c.node.local.tls_config.ca_file = f.redis_tls_ca;
  auto fence = HostPortFlag("--fence-replicaof", f.fence_replicaof, true);
  c.node.fence_host = fence.host;
  c.node.fence_port = fence.port;

  if (f.advertise.empty()) Bad("--advertise", "required (host:port of the local Redis for peers)");
  c.elector.advertise = HostPortFlag("--advertise", f.advertise, true).ToString();
  c.elector.id = f.id.empty() ? c.elector.advertise : f.id;
  if (f.ttl_s < 1) Bad("--ttl", "must be at least 1 second");
  if (f.renew_interval_ms < 10) Bad("--renew-interval-ms", "must be at least 10");
  if (f.probe_interval_ms < 10) Bad("--probe-interval-ms", "must be at least 10");
  if (f.fence_margin_ms < 50) Bad("--fence-margin-ms", "must be at least 50");
  if (f.renew_interval_ms + f.fence_margin_ms >= f.ttl_s * 1000) {
    Bad("--fence-margin-ms",
        fmt::format("renew interval ({} ms) + fence margin ({} ms) must be less than the TTL "
                    "({} s), or the leader would fence itself between two renewals",
                    f.renew_interval_ms, f.fence_margin_ms, f.ttl_s));
  }
  if (f.down_after_ms < f.probe_interval_ms)
    Bad("--down-after-ms", "must be >= the probe interval");
  c.elector.renew_interval = milliseconds(f.renew_interval_ms);
  c.elector.fence_margin = milliseconds(f.fence_margin_ms);
  c.elector.probe_interval = milliseconds(f.probe_interval_ms);
  c.elector.down_after = milliseconds(f.down_after_ms);
  c.elector.force_eligible = f.force_eligible;
  c.elector.ready_max_lag_bytes = f.ready_max_lag_bytes;
  // A request must not outlive the renew interval by much: the loop waits for it.
  const milliseconds request_timeout(std::max(100, std::min(f.renew_interval_ms, 2000)));

  c.backend = f.backend;
  if (f.lease_name.empty()) Bad("--lease-name", "must not be empty");
  if (f.backend == "etcd") {
    if (f.etcd.empty()) Bad("--etcd", "at least one endpoint");
    for (const auto& e : f.etcd) {
      if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
        Bad("--etcd",
            "endpoints are URLs (http://host:port or https://host:port), got '" + e + "'");
      }
    }
    c.etcd.endpoints = f.etcd;
    c.etcd.prefix = f.etcd_prefix;
    c.etcd.name = f.lease_name;
    c.etcd.ttl = std::chrono::seconds(f.ttl_s);
    c.etcd.request_timeout = request_timeout;
    c.etcd.ca_file = f.etcd_ca_file;
    c.etcd.cert_file = f.etcd_cert_file;
    c.etcd.key_file = f.etcd_key_file;
  } else if (f.backend == "kubernetes") {
    c.kube.api_server = f.k8s_api;
    c.kube.name_space = f.k8s_namespace;
    c.kube.name = f.lease_name;
    c.kube.token_file = f.k8s_token_file;
    c.kube.ca_file = f.k8s_ca_file;
    c.kube.ttl = std::chrono::seconds(f.ttl_s);
    c.kube.request_timeout = request_timeout;
    ResolveInCluster(c.kube);
  } else {
    Bad("--backend", "etcd or kubernetes, got '" + f.backend + "'");
  }

  if (!f.proxy.empty()) {
    ProxyOptions p;
    p.listen = HostPortFlag("--proxy", f.proxy, false);
    p.wait_for_leader = milliseconds(f.proxy_wait_ms);
    c.proxy = p;
  }
  c.admin = HostPortFlag("--admin", f.admin, false);
  return c;
}

std::string ElectConfig::Describe() const {
  return fmt::format(
      "id {} advertise {} redis {} backend {} ttl {} ms renew {} ms fence margin {} ms probe {} "
      "ms down-after {} ms fence target {}:{} proxy {}",
      elector.id, elector.advertise, redis::Redacted(node.local),
      backend == "etcd"
          ? fmt::format("etcd {} key {}{}/leader", fmt::join(etcd.endpoints, ","), etcd.prefix,
                        etcd.name)
          : fmt::format("kubernetes {} lease {}/{}", kube.api_server, kube.name_space, kube.name),
      (backend == "etcd" ? etcd.ttl : kube.ttl).count() * 1000, elector.renew_interval.count(),
      elector.fence_margin.count(), elector.probe_interval.count(), elector.down_after.count(),
      node.fence_host, node.fence_port, proxy ? proxy->listen.ToString() : "off");
}

}  // namespace walrus::elect
