#include "apply/apply_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

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

}  // namespace walrus::apply
