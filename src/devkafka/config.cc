#include "devkafka/config.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

#include "core/host_port.h"

namespace walrus::devkafka {
namespace {

bool LegalName(std::string_view name, size_t max_len) {
  if (name.empty() || name.size() > max_len || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<int> ParseInt(std::string_view s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return Error(Errc::kInvalidArgument, fmt::format("'{}' is not a number", s));
  }
  return v;
}

}  // namespace

Result<TopicSpec> ParseTopicSpec(std::string_view spec) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("--topic '{}': expected NAME:PARTITIONS, e.g. redis-writes:12", spec));
  }
  const std::string_view name = spec.substr(0, colon);
  if (!LegalName(name, 249)) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("--topic '{}': topic name must be 1-249 characters of "
                             "[A-Za-z0-9._-]",
                             spec));
  }
  auto partitions = ParseInt(spec.substr(colon + 1));
  if (!partitions || *partitions < 1 || *partitions > kMaxPartitions) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("--topic '{}': PARTITIONS must be a number from 1 to {}", spec,
                             kMaxPartitions));
  }
  return TopicSpec{std::string(name), *partitions};
}

Status Validate(const Config& config) {
  if (config.clusters.empty()) return Error(Errc::kInvalidArgument, "no --cluster given");
  std::set<std::string> seen;
  for (const auto& c : config.clusters) {
    if (!LegalName(c, 64)) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("--cluster '{}': name must be 1-64 characters of [A-Za-z0-9._-]", c));
    }
    if (!seen.insert(c).second) {
      return Error(Errc::kInvalidArgument, fmt::format("--cluster '{}' given twice", c));
    }
  }
  if (config.brokers < 1 || config.brokers > kMaxBrokers) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("--brokers {}: must be from 1 to {}", config.brokers, kMaxBrokers));
  }
  seen.clear();
  for (const auto& t : config.topics) {
    if (!seen.insert(t.name).second) {
      return Error(Errc::kInvalidArgument, fmt::format("--topic '{}' given twice", t.name));
    }
  }
  if (!config.admin.empty()) {
    // The address is read by ParseHostPort (core/host_port.h) at start; a host is required here.
    auto parts = SplitHostPort(config.admin);
    if (!parts || !parts->has_port || parts->host.empty()) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("--admin '{}': expected HOST:PORT, e.g. 127.0.0.1:9644", config.admin));
    }
    if (!ParseHostPort(config.admin)) {
      return Error(Errc::kInvalidArgument,
                   fmt::format("--admin '{}': PORT must be from 0 to 65535", config.admin));
    }
  }
  return Status::Ok();
}

}  // namespace walrus::devkafka
