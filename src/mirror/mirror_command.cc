#include "mirror/mirror_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <thread>

#include "core/log.h"
#include "http/admin_server.h"
#include "metrics/registry.h"
#include "mirror/flow.h"
#include "mirror/mirror_config.h"
#include "mirror/mirror_position_command.h"
#include "service/common_flags.h"
#include "service/service_main.h"

namespace walrus::mirror {
namespace {

struct Flags {
  MirrorFlags m;
  std::string admin = "127.0.0.1:0";
  service::LogFlags log;
};

int RunMirror(const Flags& f, service::ServiceMain& svc) {
  auto log = Logger("mirror");
  std::vector<FlowConfig> flows = BuildFlows(f.m);
  const std::string ids = ApplySrcAuth(f.m, flows);
  if (ids.empty()) {
    log->warn("--no-src-auth: walrus-src is not authenticated; every walrus apply will "
              "dead-letter (category refused) the records of these flows");
  } else {
    log->info("walrus-src signed with source key id {} (key ids loaded: {})",
              ids.substr(0, ids.find(',')), ids);
  }
  const auto admin_addr = service::ParseAdmin(f.admin);
  svc.HandleSignals();
  auto registry = std::make_shared<metrics::Registry>();
  std::vector<std::unique_ptr<MirrorProbe>> probes;
  std::vector<std::unique_ptr<Flow>> runners;
  for (auto& fc : flows) {
    log->info("flow {}: {} -> {}, topics {}, naming {}, {}", fc.Name(), fc.source_bootstrap,
              fc.target_bootstrap, fmt::join(fc.topics, ","),
              fc.naming == Naming::kPrefix ? "prefix" : "identity",
              fc.transactions ? "transactional" : "at-least-once");
    probes.push_back(std::make_unique<MirrorProbe>(*registry, fc.Name()));
    runners.push_back(std::make_unique<Flow>(fc, *probes.back(), svc.stop_flag()));
  }
  http::AdminServer admin(admin_addr, registry);
  auto check = [&runners](bool ready) {
    bool ok = true;
    std::string detail;
    for (const auto& r : runners) {
      // Held source partitions make the mirror unready (not unlive): an operator must decide.
      const std::string held = ready ? r->HeldSummary() : std::string();
      const bool good = ready ? r->Ready() && held.empty() : !r->Fatal();
      ok = ok && good;
      detail += (detail.empty() ? "" : "; ") + r->config().Name() + ": " + r->Detail() +
                (held.empty() ? "" : "; " + held);
    }
    return std::pair{ok, detail};
  };
  admin.SetLiveness([check] { return check(false); });
  admin.SetReadiness([check] { return check(true); });
  svc.StartAdmin(admin, admin_addr, "/healthz /readyz /metrics");
  std::vector<std::thread> threads;
  for (auto& r : runners) threads.emplace_back([&r] { r->Run(); });
  const int code = svc.WaitForStop([&runners]() -> std::optional<int> {
    for (const auto& r : runners) {
      if (r->Fatal()) return service::kExitUsage;  // e.g. a missing or too small target topic
    }
    return std::nullopt;
  });
  for (auto& t : threads) t.join();
  for (const auto& r : runners) {
    if (r->Fatal()) svc.Fail(code, "flow " + r->config().Name() + ": " + r->Detail());
  }
  admin.Stop();
  return code;
}

}  // namespace

void AddMirrorCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  auto* cmd = service::AddCommand(
      root, exit_code, flags, "mirror",
      "Replicate topics from one Kafka cluster to another (key, value, headers, timestamp and\n"
      "partition kept; a walrus-src header records the source coordinates). Positions are stored\n"
      "in the target (topic walrus-mirror.offsets), written in the same transaction as the\n"
      "records unless --no-transactions. Several flows: --cluster NAME=BOOTSTRAP... --flow "
      "SRC:DST...",
      RunMirror);
  auto& m = flags->m;
  cmd->add_option("--source", m.source, "Source bootstrap servers")->envname("WALRUS_SOURCE");
  cmd->add_option("--target", m.target, "Target bootstrap servers")->envname("WALRUS_TARGET");
  cmd->add_option("--source-alias", m.source_alias, "Name of the source cluster (in walrus-src)")
      ->envname("WALRUS_SOURCE_ALIAS")
      ->capture_default_str();
  cmd->add_option("--target-alias", m.target_alias, "Name of the target cluster (loop guard)")
      ->envname("WALRUS_TARGET_ALIAS")
      ->capture_default_str();
  cmd->add_option("--cluster", m.clusters, "NAME=BOOTSTRAP, repeatable (with --flow)")
      ->envname("WALRUS_CLUSTER");
  cmd->add_option("--flow", m.flows, "SRC:DST between --cluster names, repeatable")
      ->envname("WALRUS_FLOW")
      ->delimiter(',');
  cmd->add_option("--topics", m.topics,
                  "Topics: names (comma-separated) or a regex starting with '^'; {src}/{dst} are "
                  "replaced by the flow's cluster names (default with --flow: {src}.events)")
      ->envname("WALRUS_TOPICS")
      ->delimiter(',');
  cmd->add_option("--naming", m.naming, "identity: same topic name; prefix: <source-alias>.<topic>")
      ->envname("WALRUS_NAMING")
      ->check(CLI::IsMember({"identity", "prefix"}))
      ->capture_default_str();
  cmd->add_option("-X", m.x_props, "librdkafka property key=value for both sides (repeatable)");
  cmd->add_option("--source-X", m.source_x, "librdkafka property for the source side only");
  cmd->add_option("--target-X", m.target_x, "librdkafka property for the target side only");
  cmd->add_flag("--no-transactions", m.no_transactions,
                "At-least-once (no target transactions); appliers skip redeliveries by walrus-src")
      ->envname("WALRUS_NO_TRANSACTIONS");
  cmd->add_option("--src-key-file", m.src_key_file,
                  "File with the key(s) shared with the appliers: the first signs each record's "
                  "walrus-src (header walrus-src-mac), so walrus apply trusts its coordinates "
                  "(one key per line; or env WALRUS_SRC_KEY). Required unless --no-src-auth")
      ->envname("WALRUS_SRC_KEY_FILE");
  cmd->add_flag("--no-src-auth", m.no_src_auth,
                "Mirror without authenticating walrus-src: only for targets no walrus apply "
                "reads (every walrus apply dead-letters unauthenticated mirrored records)")
      ->envname("WALRUS_NO_SRC_AUTH");
  cmd->add_option("--commit-interval-ms", m.commit_interval_ms,
                  "How often positions are committed (and transactions closed)")
      ->envname("WALRUS_COMMIT_INTERVAL_MS")
      ->capture_default_str();
  cmd->add_option("--heartbeat-interval-ms", m.heartbeat_interval_ms,
                  "How often a heartbeat goes to walrus-heartbeats in the target")
      ->envname("WALRUS_HEARTBEAT_INTERVAL_MS")
      ->capture_default_str();
  cmd->add_option("--workers", m.workers,
                  "Forwarders per flow (each: a source consumer, a target producer and a thread), "
                  "sharing the flow's partitions; more throughput on more cores")
      ->envname("WALRUS_MIRROR_WORKERS")
      ->capture_default_str();
  service::AddAdminFlag(cmd, flags->admin, "Admin HTTP address for /healthz /readyz /metrics");
  service::AddLogFlags(cmd, flags->log);
  AddMirrorPositionCommand(root, exit_code);
}

}  // namespace walrus::mirror
