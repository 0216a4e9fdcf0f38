#include "apply/apply_command.h"

#include <fstream>
#include <map>
#include <iostream>
#include <memory>
#include <sstream>

#include "apply/applier.h"
#include "apply/apply_config.h"
#include "core/log.h"
#include "core/secret_file.h"
#include "core/signals.h"
#include "core/src_key_ring.h"
#include "http/admin_server.h"
#include "metrics/registry.h"
#include "redis/connection.h"
#include "redis/primary_locator.h"
#include "core/write_planner.h"
#include "crdt/crdt_planner.h"
#include "kafka/security.h"
#include "redis/sentinel_locator.h"

namespace walrus::apply {
namespace {

struct Flags {
  ApplyConfig cfg;
  std::vector<std::string> x_props;
  std::string mode = "plain";
  std::string start_from = "earliest";
  std::string password_file;
  std::string log_format = "text";
  std::string sentinels;
  // Redis HA / TLS / ACL (see docs/ha.md).
  std::string redis_user;
  std::string sentinel_user;
  std::string sentinel_password_file;
  redis::TlsConfig tls;
  kafka::SecurityFlags kafka_security;
  // crdt GC (docs/active-active.md), in ms after unit conversion.
  int64_t gc_horizon_ms = 24 * 3600 * 1000;
  int64_t gc_interval_ms = 3600 * 1000;
  std::string src_key_file;
  int64_t max_clock_skew_ms = crdt::kDefaultMaxClockSkewMs;
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

// The locator for --redis or --sentinel: credentials, db and TLS of the data connection from
// the URL / --redis-user / password flags / --redis-tls-*; Sentinel auth from its own flags.
std::unique_ptr<redis::PrimaryLocator> MakeLocator(const Flags& f, const redis::Endpoint& data) {
  if (f.cfg.sentinels.empty()) return std::make_unique<redis::DirectLocator>(data);
  redis::Endpoint auth;
  auth.user = f.sentinel_user;
  if (!f.sentinel_password_file.empty()) {
    auth.password = ReadSecretFile(f.sentinel_password_file, "--sentinel-password-file");
  } else if (const char* pw = std::getenv("WALRUS_SENTINEL_PASSWORD")) {
    auth.password = pw;
  }
  if (!auth.user.empty() && auth.password.empty()) {
    throw std::invalid_argument("--sentinel-user needs a password (WALRUS_SENTINEL_PASSWORD or "
                                "--sentinel-password-file)");
  }
  auth.tls = data.tls;  // Sentinels speak TLS when the data nodes do
  auth.tls_config = data.tls_config;
  std::string list;
  for (const auto& s : f.cfg.sentinels) list += (list.empty() ? "" : ",") + s;
  auto sentinels = redis::ParseSentinelList(list, auth);
  if (!sentinels) throw std::invalid_argument(sentinels.error().message);
  redis::SentinelOptions o;
  o.sentinels = std::move(*sentinels);
  o.master_name = f.cfg.master_name;
  o.data = data;
  // Started by RunApply once signals are blocked (threads inherit the mask).
  return std::make_unique<redis::SentinelLocator>(std::move(o));
}

int RunApply(Flags& f) {
  ApplyConfig& cfg = f.cfg;
  redis::Endpoint ep;
  std::unique_ptr<redis::PrimaryLocator> locator;
  try {
    InitLogging(cfg.log_level, f.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
    if (f.mode == "plain") {
      cfg.mode = Mode::kPlain;
    } else if (f.mode == "crdt") {
      cfg.mode = Mode::kCrdt;
    } else {
      throw std::invalid_argument("--mode must be plain or crdt, got '" + f.mode + "'");
    }
    cfg.start_from = f.start_from == "latest" ? StartFrom::kLatest : StartFrom::kEarliest;
    auto security = kafka::SecurityProperties(f.kafka_security);
    if (!security) throw std::invalid_argument(security.error().message);
    cfg.kafka_props = *security;  // -X entries come after, so they win
    if (auto st = kafka::AppendPropertyFlags(f.x_props, "-X", cfg.kafka_props); !st) {
      throw std::invalid_argument(st.error().message);
    }
    if (!f.password_file.empty()) {
      cfg.redis_password = ReadSecretFile(f.password_file, "--redis-password-file");
    }
    cfg.gc.horizon = std::chrono::milliseconds(f.gc_horizon_ms);
    cfg.gc.interval = std::chrono::milliseconds(f.gc_interval_ms);
    auto keys = LoadSrcKeys(f.src_key_file);
    if (!keys) throw std::invalid_argument(keys.error().message);
    cfg.src_keys = std::move(*keys);
    cfg.max_clock_skew = std::chrono::milliseconds(f.max_clock_skew_ms);
    cfg.Validate();
    if (!cfg.redis_url.empty()) {
      auto parsed = redis::ParseRedisUrl(cfg.redis_url);
      if (!parsed) throw std::invalid_argument("--redis: " + parsed.error().message);
      ep = *parsed;
    }
    if (!f.redis_user.empty()) ep.user = f.redis_user;
    if (!cfg.redis_password.empty()) ep.password = cfg.redis_password;
    if (!ep.user.empty() && ep.password.empty()) {
      throw std::invalid_argument("--redis-user needs a password (WALRUS_REDIS_PASSWORD or "
                                  "--redis-password-file)");
    }
    const redis::TlsConfig& tls = f.tls;
    if (!tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() ||
        !tls.server_name.empty()) {
      ep.tls = true;
    }
    if (!tls.key_file.empty() && tls.cert_file.empty()) {
      throw std::invalid_argument("--redis-tls-key needs --redis-tls-cert");
    }
    ep.tls_config = tls;
    locator = MakeLocator(f, ep);
  } catch (const std::exception& e) {
    std::cerr << "walrus apply: error: " << e.what() << "\n";
    return 2;
  }

  auto log = Logger("apply");
  auto addr = http::ParseHostPort(cfg.admin);
  if (!addr) {
    std::cerr << "walrus apply: error: --admin: " << addr.error().message << "\n";
    return 2;
  }
  ShutdownSignal shutdown;
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
  Applier applier(cfg, std::move(locator), std::move(planner), probe, shutdown.flag());
  try {
    applier.Init();
  } catch (const std::exception& e) {
    std::cerr << "walrus apply: error: " << e.what() << "\n";
    return 2;
  }
  http::AdminServer admin(*addr, registry);
  admin.SetLiveness([&applier] { return applier.Healthy(); });
  admin.SetReadiness([&applier] { return applier.Ready(); });
  if (auto st = admin.Start(); !st) {
    std::cerr << "walrus apply: error: --admin: " << st.error().message << "\n";
    return 2;
  }
  log->info("admin endpoint on {}:{} (/healthz /readyz /metrics)", addr->host, admin.port());
  applier.Run();
  admin.Stop();
  return 0;
}

}  // namespace

void AddApplyCommand(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<Flags>();
  auto* cmd = root.add_subcommand(
      "apply",
      "Consume ops from Kafka and apply them to the local Redis primary, effectively once.\n"
      "Progress is stored in Redis (keys walrus:pos:<topic>:<partition>) atomically with the\n"
      "effects; records that cannot be applied go to the dead-letter topic.");
  auto& c = flags->cfg;
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
  cmd->add_option("--redis-password-file", flags->password_file,
                  "File holding the Redis password (overrides the URL's; env "
                  "WALRUS_REDIS_PASSWORD works too)")
      ->envname("WALRUS_REDIS_PASSWORD_FILE");
  cmd->add_option("--sentinel", c.sentinels,
                  "Redis Sentinel addresses host:port[,host:port...] (instead of --redis)")
      ->envname("WALRUS_SENTINEL")
      ->delimiter(',');
  cmd->add_option("--master-name", c.master_name, "Sentinel master name (with --sentinel)")
      ->envname("WALRUS_MASTER_NAME");
  cmd->add_option("--redis-user", flags->redis_user,
                  "Redis ACL user for the data connection (useful with --sentinel)")
      ->envname("WALRUS_REDIS_USER");
  cmd->add_option("--sentinel-user", flags->sentinel_user, "ACL user for the Sentinels")
      ->envname("WALRUS_SENTINEL_USER");
  cmd->add_option("--sentinel-password-file", flags->sentinel_password_file,
                  "File holding the Sentinels' password (or env WALRUS_SENTINEL_PASSWORD)")
      ->envname("WALRUS_SENTINEL_PASSWORD_FILE");
  cmd->add_option("--redis-tls-ca", flags->tls.ca_file,
                  "PEM CA bundle to verify Redis (and Sentinel) certificates; any --redis-tls-* "
                  "flag turns TLS on (as rediss:// does)")
      ->envname("WALRUS_REDIS_TLS_CA");
  cmd->add_option("--redis-tls-cert", flags->tls.cert_file, "Client certificate (PEM) for Redis")
      ->envname("WALRUS_REDIS_TLS_CERT");
  cmd->add_option("--redis-tls-key", flags->tls.key_file, "Client private key (PEM) for Redis")
      ->envname("WALRUS_REDIS_TLS_KEY");
  cmd->add_option("--redis-tls-server-name", flags->tls.server_name,
                  "Name to send (SNI) and verify in the Redis certificate (default: the host)")
      ->envname("WALRUS_REDIS_TLS_SERVER_NAME");
  kafka::AddSecurityFlags(cmd, &flags->kafka_security);
  cmd->add_option("--mode", flags->mode,
                  "plain: apply ops as written (active/standby); crdt: convergent merge "
                  "(active-active)")
      ->envname("WALRUS_MODE")
      ->capture_default_str();
  cmd->add_option("--gc-horizon", flags->gc_horizon_ms,
                  "crdt mode: tombstones and counter contributions older than this are forgotten "
                  "by a periodic sweep, and ops older than it are ignored (or, for a collected "
                  "dead key, applied as new): must exceed the longest replication delay; 0 = GC "
                  "off (e.g. 24h, 90m)")
      ->envname("WALRUS_GC_HORIZON")
      ->transform(DurationMs())
      ->default_str("24h");
  cmd->add_option("--gc-interval", flags->gc_interval_ms,
                  "crdt mode: time from one GC sweep's start to the next (e.g. 1h)")
      ->envname("WALRUS_GC_INTERVAL")
      ->transform(DurationMs())
      ->default_str("1h");
  cmd->add_option("--gc-rate", c.gc.keys_per_second,
                  "crdt mode: most sidecars the GC sweep visits per second (between batches)")
      ->envname("WALRUS_GC_RATE")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  cmd->add_option("--src-key-file", flags->src_key_file,
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
  cmd->add_option("--max-clock-skew", flags->max_clock_skew_ms,
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
  cmd->add_option("--admin", c.admin, "Admin HTTP address for /healthz /readyz /metrics")
      ->envname("WALRUS_ADMIN")
      ->capture_default_str();
  cmd->add_option("-X", flags->x_props,
                  "librdkafka property key=value passed to the Kafka clients (repeatable)");
  cmd->add_option("--start-from", flags->start_from,
                  "Where a partition with no position stored in Redis starts: earliest|latest")
      ->envname("WALRUS_START_FROM")
      ->check(CLI::IsMember({"earliest", "latest"}))
      ->capture_default_str();
  cmd->add_option("--batch-max-ops", c.batch_max_ops,
                  "Most records per Redis transaction (MULTI/EXEC)")
      ->envname("WALRUS_BATCH_MAX_OPS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--log-level", c.log_level, "trace|debug|info|warn|error")
      ->envname("WALRUS_LOG_LEVEL")
      ->capture_default_str();
  cmd->add_option("--log-format", flags->log_format, "text|json (one line per event)")
      ->envname("WALRUS_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([flags, &exit_code] {
    if (const char* pw = std::getenv("WALRUS_REDIS_PASSWORD"); pw && flags->cfg.redis_password.empty()) {
      flags->cfg.redis_password = pw;
    }
    exit_code = RunApply(*flags);
  });
}

}  // namespace walrus::apply
