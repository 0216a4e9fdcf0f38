#include "elect/elect_command.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "elect/elect_config.h"
#include "elect/elector.h"
#include "elect/guard_process.h"
#include "elect/leader_proxy.h"
#include "http/admin_server.h"
#include "metrics/registry.h"
#include "service/common_flags.h"
#include "service/service_main.h"

namespace walrus::elect {
namespace {

struct Flags {
  ElectFlags e;
  service::LogFlags log;
};

// The fence guard process exited: the sidecar stops (a fresh one gets a fresh guard).
constexpr int kExitGuardLost = 3;

nlohmann::json StatusJson(const ElectorSnapshot& s, const std::string& id) {
  nlohmann::json leader = nullptr;
  if (s.leader) {
    leader = {{"id", s.leader->id},
              {"advertise", s.leader->advertise},
              {"serving", s.leader->serving},
              {"epoch", s.leader->epoch}};
  }
  return {{"id", id},
          {"role", s.role == Role::kLeader ? "leader" : "follower"},
          {"leader", leader},
          {"last_epoch", s.last_epoch},
          {"redis_up", s.redis_up},
          {"ready", s.ready},
          {"detail", s.detail},
          {"lag_bytes", s.lag_bytes}};
}

int RunElect(const Flags& f, service::ServiceMain& svc) {
  const ElectConfig cfg = BuildElectConfig(f.e);
  auto log = Logger("elect");
  // The guard is forked before any thread exists (fork without exec).
  auto guard = GuardProcess::Start(cfg.node);
  if (!guard) {
    throw service::CommandError(service::kExitUsage,
                                "starting the fence guard: " + guard.error().message);
  }
  log->info("walrus elect: {}; fence guard pid {}", cfg.Describe(), (*guard)->pid());

  svc.HandleSignals();
  auto registry = std::make_shared<metrics::Registry>();
  ElectProbe probe(*registry);
  std::unique_ptr<LeaseBackend> backend;
  if (cfg.backend == "etcd") {
    backend = std::make_unique<EtcdBackend>(cfg.etcd);
  } else {
    backend = std::make_unique<KubeBackend>(cfg.kube);
  }
  RedisNode node(cfg.node);
  Elector elector(cfg.elector, *backend, node, **guard, SystemClock(), probe);

  std::unique_ptr<LeaderProxy> proxy;
  if (cfg.proxy) {
    proxy = std::make_unique<LeaderProxy>(*cfg.proxy, probe);
    if (auto st = proxy->Start(); !st) {
      throw service::CommandError(service::kExitUsage, "--proxy: " + st.error().message);
    }
    log->info("leader proxy on {}:{}", cfg.proxy->listen.host, proxy->port());
    elector.SetTargetCallback(
        [&proxy](const std::optional<std::string>& t) { proxy->SetTarget(t); });
  }

  http::AdminServer admin(cfg.admin, registry);
  const auto stale_after =
      std::max(std::chrono::milliseconds(5000), 20 * cfg.elector.probe_interval);
  admin.SetLiveness([&elector, stale_after] {
    const auto s = elector.Snapshot();
    const bool ok = SystemClock().Steady() - s.last_tick < stale_after;
    return std::pair{ok, ok ? s.detail : std::string("the election loop is stuck")};
  });
  admin.SetReadiness([&elector] {
    const auto s = elector.Snapshot();
    return std::pair{s.ready, s.detail};
  });
  const std::string id = cfg.elector.id;
  admin.Handle("GET", "/status", [&elector, id](const http::Request&) {
    return http::Response::Json(200, StatusJson(elector.Snapshot(), id).dump());
  });
  svc.StartAdmin(admin, cfg.admin, "/healthz /readyz /metrics /status");

  std::thread loop([&] {
    elector.Run(svc.stop_flag());
    elector.Shutdown();  // a leader demotes its Redis and releases the lease
  });
  const int code = svc.WaitForStop([&]() -> std::optional<int> {
    if ((*guard)->Alive()) return std::nullopt;
    log->error("the fence guard exited: stopping (restart the sidecar for a fresh guard)");
    return kExitGuardLost;
  });
  backend->Wake();
  loop.join();
  if (proxy) proxy->Stop();
  admin.Stop();
  (*guard)->Disarm();
  log->info("stopped");
  return code;
}

}  // namespace

void AddElectCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  auto* cmd = service::AddCommand(
      root, exit_code, flags, "elect",
      "Leader election for a set of Redis servers, one sidecar per server (replaces Sentinel).\n"
      "The holder of a lease (etcd v3 or a Kubernetes Lease) makes its Redis the primary and\n"
      "writes the epoch into walrus:epoch; the others make theirs replicas of it. A leader that\n"
      "cannot renew in time demotes its own Redis before the lease can expire elsewhere (a\n"
      "separate guard process does it even if the sidecar is frozen). --proxy forwards clients\n"
      "to the current leader. See docs/elect.md.",
      RunElect);
  auto& e = flags->e;
  auto opt = [&](const std::string& name, auto& var, const std::string& help,
                 const std::string& env) {
    return cmd->add_option(name, var, help)->envname(env)->capture_default_str();
  };
  opt("--redis", e.redis, "The local Redis (redis[s]://[user:pass@]host:port)",
      "WALRUS_ELECT_REDIS");
  opt("--redis-password-file", e.redis_password_file, "File holding the local Redis password",
      "WALRUS_ELECT_REDIS_PASSWORD_FILE");
  opt("--redis-tls-ca", e.redis_tls_ca, "CA bundle for rediss://", "WALRUS_ELECT_REDIS_TLS_CA");
  opt("--advertise", e.advertise,
      "host:port at which the other nodes and proxies reach the local Redis",
      "WALRUS_ELECT_ADVERTISE");
  opt("--id", e.id, "Identity of this node in the lease (default: --advertise)", "WALRUS_ELECT_ID");
  opt("--backend", e.backend, "Where the lease lives: etcd | kubernetes", "WALRUS_ELECT_BACKEND")
      ->check(CLI::IsMember({"etcd", "kubernetes"}));
  opt("--lease-name", e.lease_name, "Name of the election (etcd key part, Lease object name)",
      "WALRUS_ELECT_LEASE_NAME");
  opt("--ttl", e.ttl_s, "Lease duration in seconds", "WALRUS_ELECT_TTL");
  opt("--renew-interval-ms", e.renew_interval_ms,
      "How often the leader renews (followers poll a backend without watches as often)",
      "WALRUS_ELECT_RENEW_INTERVAL_MS");
  opt("--fence-margin-ms", e.fence_margin_ms,
      "The leader demotes its Redis this long before the lease could expire",
      "WALRUS_ELECT_FENCE_MARGIN_MS");
  opt("--probe-interval-ms", e.probe_interval_ms,
      "How often the local Redis is checked (and a follower's REPLICAOF re-asserted)",
      "WALRUS_ELECT_PROBE_INTERVAL_MS");
  opt("--down-after-ms", e.down_after_ms,
      "A leader whose Redis is unreachable this long steps down", "WALRUS_ELECT_DOWN_AFTER_MS");
  opt("--fence-replicaof", e.fence_replicaof,
      "host:port a demoted Redis is made a replica of (never answers; TEST-NET-1 by default)",
      "WALRUS_ELECT_FENCE_REPLICAOF");
  opt("--proxy", e.proxy, "Listen address of the leader proxy (empty: no proxy)",
      "WALRUS_ELECT_PROXY");
  opt("--proxy-wait-ms", e.proxy_wait_ms,
      "How long the proxy holds a client while there is no serving leader",
      "WALRUS_ELECT_PROXY_WAIT_MS");
  opt("--ready-max-lag-bytes", e.ready_max_lag_bytes,
      "A follower is ready when its replica is at most this far behind the leader",
      "WALRUS_ELECT_READY_MAX_LAG_BYTES");
  cmd->add_flag("--force-eligible", e.force_eligible,
                "Campaign even if the local Redis lacks the newest epoch's data (recovery after "
                "losing every node's data; the log then rebuilds it)")
      ->envname("WALRUS_ELECT_FORCE_ELIGIBLE");
  opt("--etcd", e.etcd, "etcd endpoints (comma-separated URLs)", "WALRUS_ELECT_ETCD")
      ->delimiter(',');
  opt("--etcd-prefix", e.etcd_prefix, "Key prefix in etcd", "WALRUS_ELECT_ETCD_PREFIX");
  opt("--etcd-ca-file", e.etcd_ca_file, "CA bundle for https:// etcd endpoints",
      "WALRUS_ELECT_ETCD_CA_FILE");
  opt("--etcd-cert-file", e.etcd_cert_file, "Client certificate for etcd (mutual TLS)",
      "WALRUS_ELECT_ETCD_CERT_FILE");
  opt("--etcd-key-file", e.etcd_key_file, "Client key for etcd", "WALRUS_ELECT_ETCD_KEY_FILE");
  opt("--k8s-api", e.k8s_api,
      "API server URL (default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)",
      "WALRUS_ELECT_K8S_API");
  opt("--k8s-namespace", e.k8s_namespace,
      "Namespace of the Lease (default: the service account's namespace)",
      "WALRUS_ELECT_K8S_NAMESPACE");
  opt("--k8s-token-file", e.k8s_token_file, "Service-account token (re-read on every request)",
      "WALRUS_ELECT_K8S_TOKEN_FILE");
  opt("--k8s-ca-file", e.k8s_ca_file, "CA of the API server", "WALRUS_ELECT_K8S_CA_FILE");
  service::AddAdminFlag(cmd, e.admin, "Admin HTTP address for /healthz /readyz /metrics /status");
  service::AddLogFlags(cmd, flags->log);
}

}  // namespace walrus::elect
