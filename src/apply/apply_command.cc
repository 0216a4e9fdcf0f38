#include "apply/apply_command.h"

#include <map>
#include <memory>

#include "apply/applier.h"
#include "apply/apply_config.h"
#include "core/log.h"
#include "core/write_planner.h"
#include "crdt/crdt_planner.h"
#include "http/admin_server.h"
#include "kafka/security.h"
#include "metrics/registry.h"
#include "redis/sentinel_locator.h"
#include "service/common_flags.h"
#include "service/service_main.h"

namespace walrus::apply {
namespace {

struct Flags {
  ApplyFlags apply;
  service::LogFlags log;
};

// Durations on the command line: a number with an optional unit (ms, s, m, h, d; none = ms).
CLI::AsNumberWithUnit DurationMs() {
  return CLI::AsNumberWithUnit(std::map<std::string, int64_t>{{"ms", 1},
                                                              {"s", 1000},
                                                              {"m", 60 * 1000},
                                                              {"h", 3600 * 1000},
                                                              {"d", 24 * 3600 * 1000}},
                               CLI::AsNumberWithUnit::CASE_SENSITIVE, "DURATION");
}

int RunApply(const Flags& flags, service::ServiceMain& svc) {
  const ApplyFlags& f = flags.apply;
  const ApplyConfig cfg = BuildApplyConfig(f);
  auto locator = MakeLocator(f, cfg);
  const auto admin_addr = service::ParseAdmin(cfg.admin);
  auto log = Logger("apply");
  svc.HandleSignals();
  if (auto* s = dynamic_cast<redis::SentinelLocator*>(locator.get())) s->Start();
  auto registry = std::make_shared<metrics::Registry>();
  ApplyProbe probe(*registry);
  if (cfg.src_keys.empty()) {
    log->info("no source key: records carrying walrus-src (mirrored records) are refused into "
              "the DLQ; give the mirrors' key with --src-key-file and --trusted-source");
  }
  std::unique_ptr<WritePlanner> planner;
  if (cfg.mode == Mode::kCrdt) {
    planner = std::make_unique<crdt::CrdtPlanner>(
        crdt::CrdtPlannerOptions{.max_clock_skew_ms = cfg.max_clock_skew.count()});
  } else {
    planner = std::make_unique<PlainPlanner>();
  }
  log->info("redis primary via {}", locator->Describe());
  Applier applier(cfg, std::move(locator), std::move(planner), probe, svc.stop_flag());
  applier.Init();  // throws on a start-up failure: exit 2
  http::AdminServer admin(admin_addr, registry);
  admin.SetLiveness([&applier] { return applier.Healthy(); });
  admin.SetReadiness([&applier] { return applier.Ready(); });
  svc.StartAdmin(admin, admin_addr, "/healthz /readyz /metrics");
  applier.Run();
  admin.Stop();
  return service::kExitOk;
}

}  // namespace

void AddApplyCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  ApplyFlags& f = flags->apply;
  auto* cmd = service::AddCommand(
      root, exit_code, flags, "apply",
      "Consume ops from Kafka and apply them to the local Redis primary, effectively once.\n"
      "Progress is stored in Redis (keys walrus:pos:<topic>:<partition>) atomically with the\n"
      "effects; records that cannot be applied go to the dead-letter topic.",
      RunApply);
  auto& c = f.cfg;
  cmd->add_option("--brokers", c.brokers, "Kafka bootstrap servers, host:port[,host:port...]")
      ->envname("WALRUS_BROKERS");
  cmd->add_option("--topic", c.topics,
                  "Topic to consume (repeatable or comma-separated; ^regex subscribes by pattern)")
      ->envname("WALRUS_TOPIC")
      ->delimiter(',');
  cmd->add_option("--group", c.group, "Kafka consumer group id")->envname("WALRUS_GROUP");
  cmd->add_option("--redis", c.redis_url,
                  "Redis primary URL redis://[user[:pass]@]host:port[/db]; prefer "
                  "WALRUS_REDIS_PASSWORD or --redis-password-file for the password")
      ->envname("WALRUS_REDIS");
  cmd->add_option("--redis-password-file", f.password_file,
                  "File holding the Redis password (overrides the URL's; env "
                  "WALRUS_REDIS_PASSWORD works too)")
      ->envname("WALRUS_REDIS_PASSWORD_FILE");
  cmd->add_option("--sentinel", c.sentinels,
                  "Redis Sentinel addresses host:port[,host:port...] (instead of --redis)")
      ->envname("WALRUS_SENTINEL")
      ->delimiter(',');
  cmd->add_option("--master-name", c.master_name, "Sentinel master name (with --sentinel)")
      ->envname("WALRUS_MASTER_NAME");
  cmd->add_option("--redis-user", f.redis_user,
                  "Redis ACL user for the data connection (useful with --sentinel)")
      ->envname("WALRUS_REDIS_USER");
  cmd->add_option("--sentinel-user", f.sentinel_user, "ACL user for the Sentinels")
      ->envname("WALRUS_SENTINEL_USER");
  cmd->add_option("--sentinel-password-file", f.sentinel_password_file,
                  "File holding the Sentinels' password (or env WALRUS_SENTINEL_PASSWORD)")
      ->envname("WALRUS_SENTINEL_PASSWORD_FILE");
  cmd->add_option("--redis-tls-ca", f.tls.ca_file,
                  "PEM CA bundle to verify Redis (and Sentinel) certificates; any --redis-tls-* "
                  "flag turns TLS on (as rediss:// does)")
      ->envname("WALRUS_REDIS_TLS_CA");
  cmd->add_option("--redis-tls-cert", f.tls.cert_file, "Client certificate (PEM) for Redis")
      ->envname("WALRUS_REDIS_TLS_CERT");
  cmd->add_option("--redis-tls-key", f.tls.key_file, "Client private key (PEM) for Redis")
      ->envname("WALRUS_REDIS_TLS_KEY");
  cmd->add_option("--redis-tls-server-name", f.tls.server_name,
                  "Name to send (SNI) and verify in the Redis certificate (default: the host)")
      ->envname("WALRUS_REDIS_TLS_SERVER_NAME");
  kafka::AddSecurityFlags(cmd, &f.kafka_security);
  cmd->add_option("--mode", f.mode,
                  "plain: apply ops as written (active/standby); crdt: convergent merge "
                  "(active-active)")
      ->envname("WALRUS_MODE")
      ->capture_default_str();
  cmd->add_option("--gc-horizon", f.gc_horizon_ms,
                  "crdt mode: tombstones and counter contributions older than this are forgotten "
                  "by a periodic sweep, and ops older than it are ignored (or, for a collected "
                  "dead key, applied as new): must exceed the longest replication delay; 0 = GC "
                  "off (e.g. 24h, 90m)")
      ->envname("WALRUS_GC_HORIZON")
      ->transform(DurationMs())
      ->default_str("24h");
  cmd->add_option("--gc-interval", f.gc_interval_ms,
                  "crdt mode: time from one GC sweep's start to the next (e.g. 1h)")
      ->envname("WALRUS_GC_INTERVAL")
      ->transform(DurationMs())
      ->default_str("1h");
  cmd->add_option("--gc-rate", c.gc.keys_per_second,
                  "crdt mode: most sidecars the GC sweep visits per second (between batches)")
      ->envname("WALRUS_GC_RATE")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--src-key-file", f.src_key_file,
                  "File with the keys that authenticate mirrored records' walrus-src (the same "
                  "file as walrus mirror's; one key per line, first = current, others still "
                  "accepted). Or env WALRUS_SRC_KEY. Without a key every record carrying "
                  "walrus-src is refused into the DLQ")
      ->envname("WALRUS_SRC_KEY_FILE");
  cmd->add_option("--trusted-source", c.trusted_sources,
                  "Source cluster aliases (walrus mirror --source-alias / --cluster NAME) whose "
                  "authenticated walrus-src coordinates are trusted (comma-separated); a "
                  "walrus-src of another alias is refused into the DLQ")
      ->envname("WALRUS_TRUSTED_SOURCE")
      ->delimiter(',');
  cmd->add_option("--max-clock-skew", f.max_clock_skew_ms,
                  "crdt mode: refuse (DLQ, category refused) a record whose hlc is further ahead "
                  "of this applier's clock than this (e.g. 60s; default: the producers' HLC "
                  "drift guard)")
      ->envname("WALRUS_MAX_CLOCK_SKEW")
      ->transform(DurationMs())
      ->default_str("60s");
  cmd->add_option("--dlq-topic", c.dlq_topic,
                  "Dead-letter topic (default: <topic>.dlq for each source topic)")
      ->envname("WALRUS_DLQ_TOPIC");
  // Hidden, and deliberately not read from env (docs/dead-letters.md, Test hooks).
  cmd->add_flag("--enable-test-hooks", c.enable_test_hooks,
                "Tests only: honour WALRUS_TEST_CRASH_AFTER_COMMIT / _AFTER_DLQ_ACK")
      ->group("");
  service::AddAdminFlag(cmd, c.admin, "Admin HTTP address for /healthz /readyz /metrics");
  cmd->add_option("-X", f.x_props,
                  "librdkafka property key=value passed to the Kafka clients (repeatable)");
  cmd->add_option("--start-from", f.start_from,
                  "Where a partition with no position stored in Redis starts: earliest|latest")
      ->envname("WALRUS_START_FROM")
      ->check(CLI::IsMember({"earliest", "latest"}))
      ->capture_default_str();
  cmd->add_option("--batch-max-ops", c.batch_max_ops,
                  "Most records per Redis transaction (MULTI/EXEC)")
      ->envname("WALRUS_BATCH_MAX_OPS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  service::AddLogFlags(cmd, flags->log);
}

}  // namespace walrus::apply
