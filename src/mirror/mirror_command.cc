#include "mirror/mirror_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <thread>

#include "core/log.h"
#include "core/signals.h"
#include "http/admin_server.h"
#include "metrics/registry.h"
#include "mirror/flow.h"
#include "mirror/mirror_config.h"
#include "mirror/mirror_position_command.h"

namespace walrus::mirror {
namespace {

struct Flags {
  MirrorFlags m;
  std::string admin = "127.0.0.1:0";
  std::string log_level = "info";
  std::string log_format = "text";
};

int RunMirror(Flags& f) {
  std::vector<FlowConfig> flows;
  try {
    InitLogging(f.log_level, f.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
    flows = BuildFlows(f.m);
    const std::string ids = ApplySrcAuth(f.m, flows);
    if (ids.empty()) {
      Logger("mirror")->warn("--no-src-auth: walrus-src is not authenticated; every walrus apply "
                             "will dead-letter (category refused) the records of these flows");
    } else {
      Logger("mirror")->info("walrus-src signed with source key id {} (key ids loaded: {})",
                             ids.substr(0, ids.find(',')), ids);
    }
  } catch (const std::exception& e) {
    std::cerr << "walrus mirror: error: " << e.what() << "\n";
    return 2;
  }
  auto addr = http::ParseHostPort(f.admin);
  if (!addr) {
    std::cerr << "walrus mirror: error: --admin: " << addr.error().message << "\n";
    return 2;
  }
  auto log = Logger("mirror");
  ShutdownSignal shutdown;
  auto registry = std::make_shared<metrics::Registry>();
  std::vector<std::unique_ptr<MirrorProbe>> probes;
  std::vector<std::unique_ptr<Flow>> runners;
  for (auto& fc : flows) {
    log->info("flow {}: {} -> {}, topics {}, naming {}, {}", fc.Name(), fc.source_bootstrap,
              fc.target_bootstrap, fmt::join(fc.topics, ","),
              fc.naming == Naming::kPrefix ? "prefix" : "identity",
              fc.transactions ? "transactional" : "at-least-once");
    probes.push_back(std::make_unique<MirrorProbe>(*registry, fc.Name()));
    runners.push_back(std::make_unique<Flow>(fc, *probes.back(), shutdown.flag()));
  }
  http::AdminServer admin(*addr, registry);
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
  if (auto st = admin.Start(); !st) {
    std::cerr << "walrus mirror: error: --admin: " << st.error().message << "\n";
    return 2;
  }
  log->info("admin endpoint on {}:{} (/healthz /readyz /metrics)", addr->host, admin.port());
  std::vector<std::thread> threads;
  for (auto& r : runners) threads.emplace_back([&r] { r->Run(); });
  int code = 0;
  while (!shutdown.flag().load()) {
    bool any_fatal = false;
    for (const auto& r : runners) any_fatal = any_fatal || r->Fatal();
    if (any_fatal) {
      code = 2;
      shutdown.Trigger();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : threads) t.join();
  for (const auto& r : runners) {
    if (r->Fatal()) std::cerr << "walrus mirror: error: flow " << r->config().Name() << ": "
                              << r->Detail() << "\n";
  }
  admin.Stop();
  return code;
}

}  // namespace

void AddMirrorCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  auto* cmd = root.add_subcommand(
      "mirror",
      "Replicate topics from one Kafka cluster to another (key, value, headers, timestamp and\n"
      "partition kept; a walrus-src header records the source coordinates). Positions are stored\n"
      "in the target (topic walrus-mirror.offsets), written in the same transaction as the\n"
      "records unless --no-transactions. Several flows: --cluster NAME=BOOTSTRAP... --flow SRC:DST...");
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
  cmd->add_option("--admin", flags->admin, "Admin HTTP address for /healthz /readyz /metrics")
      ->envname("WALRUS_ADMIN")
      ->capture_default_str();
  cmd->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error")
      ->envname("WALRUS_LOG_LEVEL")
      ->capture_default_str();
  cmd->add_option("--log-format", flags->log_format, "text|json")
      ->envname("WALRUS_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([flags, &exit_code] { exit_code = RunMirror(*flags); });
  AddMirrorPositionCommand(root, exit_code);
}

}  // namespace walrus::mirror
