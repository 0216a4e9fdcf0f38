#pragma once

// Typed configuration of `walrus devkafka`, parsed from flags/env by devkafka_command.cc and
// validated here (so tests can exercise the rules without CLI11).
//
//   auto topic = devkafka::ParseTopicSpec("redis-writes:12");   // {"redis-writes", 12}
//   if (Status s = devkafka::Validate(config); !s.ok()) { ... s.error().message ... }

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace walrus::devkafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;

  bool operator==(const TopicSpec&) const = default;
};

struct Config {
  std::vector<std::string> clusters = {"local"};
  int brokers = 1;
  std::vector<TopicSpec> topics;
  std::string bootstrap_file;  // empty: none
  std::string admin;           // HOST:PORT of the HTTP control endpoint; empty: none
};

inline constexpr int kMaxBrokers = 32;
inline constexpr int kMaxPartitions = 10000;

// "NAME:PARTITIONS" with a legal Kafka topic name ([A-Za-z0-9._-], at most 249 chars) and
// 1..kMaxPartitions partitions. kInvalidArgument with a message naming the problem.
Result<TopicSpec> ParseTopicSpec(std::string_view spec);

// Cluster names are non-empty, unique, [A-Za-z0-9._-]; brokers in 1..kMaxBrokers; topic names
// unique; admin, when set, is HOST:PORT.
Status Validate(const Config& config);

}  // namespace walrus::devkafka
