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
  for (const auto& [k, v] : kafka_props) {
    if (k.empty()) fail("-X needs key=value");
  }
}

std::string ApplyConfig::Describe() const {
  return fmt::format(
      "brokers={} topics={} group={} redis={} sentinels={} master={} mode={} dlq={} admin={} "
      "batch_max_ops={} batch_max_bytes={} start_from={}",
      brokers, fmt::join(topics, ","), group, redis_url.empty() ? "-" : "(set)",
      sentinels.empty() ? "-" : fmt::format("{}", fmt::join(sentinels, ",")),
      master_name.empty() ? "-" : master_name, mode == Mode::kPlain ? "plain" : "crdt",
      dlq_topic.empty() ? "<topic>.dlq" : dlq_topic, admin, batch_max_ops, batch_max_bytes,
      start_from == StartFrom::kEarliest ? "earliest" : "latest");
}

}  // namespace walrus::apply
