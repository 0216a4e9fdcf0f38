#include "apply/apply_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <stdexcept>

#include "core/secret_file.h"
#include "redis/sentinel_locator.h"

namespace walrus::apply {

void ApplyConfig::Validate() const {
  auto fail = [](const std::string& msg) { throw std::invalid_argument(msg); };
  if (brokers.empty()) fail("--brokers is required (host:port[,host:port...])");
  if (topics.empty()) fail("--topic is required (at least one)");
  for (const auto& t : topics) {
    if (t.empty()) fail("--topic must not be empty");
  }
  if (group.empty()) fail("--group is required (the Kafka consumer group id)");
  const bool direct = !redis_url.empty();
  const bool sentinel = !sentinels.empty();
  if (direct == sentinel) {
    fail("exactly one of --redis URL or --sentinel LIST (with --master-name) is required");
  }
  if (sentinel && master_name.empty()) fail("--sentinel needs --master-name");
  if (batch_max_ops == 0) fail("--batch-max-ops must be > 0");
  if (batch_max_bytes < 1024) fail("--batch-max-bytes must be >= 1024");
  if (gc.horizon.count() < 0) fail("--gc-horizon must be >= 0 (0: GC off)");
  if (gc.horizon.count() > 0 && gc.horizon < std::chrono::minutes(1)) {
    fail("--gc-horizon must be 0 (off) or at least 1m; it must exceed every replication delay");
  }
  if (gc.interval.count() <= 0) fail("--gc-interval must be > 0");
  if (gc.keys_per_second == 0) fail("--gc-rate must be > 0");
  for (const auto& [k, v] : kafka_props) {
    if (k.empty()) fail("-X needs key=value");
  }
  for (const auto& a : trusted_sources) {
    if (a.empty() || a.find_first_of("/:=") != std::string::npos) {
      fail("--trusted-source: alias '" + a + "' must be non-empty and contain no '/', ':' or '='");
    }
  }
  if (!src_keys.empty() && trusted_sources.empty()) {
    fail("a source key (--src-key-file / WALRUS_SRC_KEY) needs --trusted-source ALIAS[,ALIAS...]: "
         "the source cluster aliases of the mirrors writing into these topics");
  }
  if (src_keys.empty() && !trusted_sources.empty()) {
    fail("--trusted-source needs the mirrors' source key (--src-key-file or WALRUS_SRC_KEY)");
  }
  if (max_clock_skew < std::chrono::seconds(1) || max_clock_skew > std::chrono::hours(24)) {
    fail("--max-clock-skew must be between 1s and 24h");
  }
}

std::string ApplyConfig::Describe() const {
  return fmt::format(
      "brokers={} topics={} group={} redis={} sentinels={} master={} mode={} dlq={} admin={} "
      "batch_max_ops={} batch_max_bytes={} start_from={} gc_horizon_ms={} gc_interval_ms={} "
      "gc_rate={} src_key_ids={} trusted_sources={} max_clock_skew_ms={}",
      brokers, fmt::join(topics, ","), group, redis_url.empty() ? "-" : "(set)",
      sentinels.empty() ? "-" : fmt::format("{}", fmt::join(sentinels, ",")),
      master_name.empty() ? "-" : master_name, mode == Mode::kPlain ? "plain" : "crdt",
      dlq_topic.empty() ? "<topic>.dlq" : dlq_topic, admin, batch_max_ops, batch_max_bytes,
      start_from == StartFrom::kEarliest ? "earliest" : "latest",
      mode == Mode::kCrdt ? gc.horizon.count() : 0, gc.interval.count(), gc.keys_per_second,
      src_keys.empty() ? "-" : src_keys.Ids(),
      trusted_sources.empty() ? "-" : fmt::format("{}", fmt::join(trusted_sources, ",")),
      max_clock_skew.count());
}

ApplyConfig BuildApplyConfig(const ApplyFlags& f) {
  ApplyConfig cfg = f.cfg;
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
  } else if (const char* pw = std::getenv("WALRUS_REDIS_PASSWORD")) {
    cfg.redis_password = pw;
  }
  cfg.gc.horizon = std::chrono::milliseconds(f.gc_horizon_ms);
  cfg.gc.interval = std::chrono::milliseconds(f.gc_interval_ms);
  auto keys = LoadSrcKeys(f.src_key_file);
  if (!keys) throw std::invalid_argument(keys.error().message);
  cfg.src_keys = std::move(*keys);
  cfg.max_clock_skew = std::chrono::milliseconds(f.max_clock_skew_ms);
  cfg.Validate();
  return cfg;
}

std::unique_ptr<redis::PrimaryLocator> MakeLocator(const ApplyFlags& f, const ApplyConfig& cfg) {
  redis::Endpoint data;
  if (!cfg.redis_url.empty()) {
    auto parsed = redis::ParseRedisUrl(cfg.redis_url);
    if (!parsed) throw std::invalid_argument("--redis: " + parsed.error().message);
    data = *parsed;
  }
  if (!f.redis_user.empty()) data.user = f.redis_user;
  if (!cfg.redis_password.empty()) data.password = cfg.redis_password;
  if (!data.user.empty() && data.password.empty()) {
    throw std::invalid_argument("--redis-user needs a password (WALRUS_REDIS_PASSWORD or "
                                "--redis-password-file)");
  }
  const redis::TlsConfig& tls = f.tls;
  if (!tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() ||
      !tls.server_name.empty()) {
    data.tls = true;
  }
  if (!tls.key_file.empty() && tls.cert_file.empty()) {
    throw std::invalid_argument("--redis-tls-key needs --redis-tls-cert");
  }
  data.tls_config = tls;
  if (cfg.sentinels.empty()) return std::make_unique<redis::DirectLocator>(data);

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
  auto sentinels = redis::ParseSentinelList(fmt::format("{}", fmt::join(cfg.sentinels, ",")), auth);
  if (!sentinels) throw std::invalid_argument(sentinels.error().message);
  redis::SentinelOptions o;
  o.sentinels = std::move(*sentinels);
  o.master_name = cfg.master_name;
  o.data = data;
  return std::make_unique<redis::SentinelLocator>(std::move(o));
}

}  // namespace walrus::apply
