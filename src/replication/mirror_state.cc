#include "replication/mirror_state.h"

#include <fmt/format.h>

#include <charconv>

#include "kafka/admin.h"
#include "kafka/assign_consumer.h"

namespace walrus::replication {
namespace {

// Reads `topic` from the beginning to its end; calls `fn(key, value)` in log order.
template <typename Fn>
Status ReadTopic(const kafka::Properties& props, const std::string& topic,
                 std::chrono::milliseconds timeout, Fn fn) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto topics = kafka::ListTopics(props, timeout);
  if (!topics) return topics.error();
  int32_t partitions = 0;
  for (const auto& t : *topics) {
    if (t.name == topic) partitions = t.partitions;
  }
  if (partitions == 0) return Status::Ok();
  kafka::Properties cprops = props;
  cprops.emplace_back("isolation.level", "read_committed");
  auto consumer = kafka::AssignConsumer::Create(cprops);
  if (!consumer) return consumer.error();
  std::vector<kafka::TopicPartition> parts;
  std::vector<int64_t> ends;
  for (int32_t p = 0; p < partitions; ++p) {
    auto wm = (*consumer)->QueryWatermarks(topic, p, timeout);
    if (!wm) return wm.error();
    if (wm->second > wm->first) {
      // The low watermark, not kOffsetBeginning: a logical offset is resolved by an offset query
      // that librdkafka retries only after 500 ms when the partition's leader is not known yet
      // (it is not, right after Assign). Out of range meanwhile: auto.offset.reset=earliest.
      parts.push_back({topic, p, wm->first});
      ends.push_back(wm->second);
    }
  }
  if (parts.empty()) return Status::Ok();
  if (Status s = (*consumer)->Assign(parts); !s.ok()) return s;
  auto done = [&] {
    for (size_t i = 0; i < parts.size(); ++i) {
      const int64_t pos = (*consumer)->Position(topic, parts[i].partition);
      if (pos < ends[i]) return false;
    }
    return true;
  };
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Error(Errc::kTimeout, fmt::format("reading {} to its end timed out", topic));
    }
    for (auto& m : (*consumer)->PollBatch(10000, std::chrono::milliseconds(100))) {
      if (!m.error().ok() || !m.key() || !m.value()) continue;
      fn(*m.key(), *m.value());
    }
  }
  return Status::Ok();
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<MirrorState> ReadMirrorState(const kafka::Properties& target_props,
                                    std::chrono::milliseconds timeout) {
  MirrorState out;
  const std::string_view hold = kMirrorHoldSuffix, cluster = kMirrorClusterIdSuffix;
  auto ends_with = [](std::string_view k, std::string_view suffix) {
    return k.size() > suffix.size() && k.substr(k.size() - suffix.size()) == suffix;
  };
  Status s = ReadTopic(target_props, kMirrorOffsetsTopic, timeout,
                       [&](std::string_view k, std::string_view v) {
                         if (ends_with(k, hold)) {
                           out.holds[std::string(k.substr(0, k.size() - hold.size()))] = v;
                         } else if (ends_with(k, cluster)) {
                           out.clusters[std::string(k.substr(0, k.size() - cluster.size()))] = v;
                         } else if (auto n = ParseInt(v)) {
                           out.positions[std::string(k)] = *n;
                         }
                       });
  if (!s.ok()) return s.error();
  return out;
}

Result<std::map<std::string, int64_t>> ReadMirrorPositions(const kafka::Properties& target_props,
                                                           std::chrono::milliseconds timeout) {
  auto st = ReadMirrorState(target_props, timeout);
  if (!st) return st.error();
  return std::move(st->positions);
}

Result<std::map<std::string, int64_t>> ReadMirrorHeartbeats(const kafka::Properties& target_props,
                                                            std::chrono::milliseconds timeout) {
  std::map<std::string, int64_t> out;
  // Value: "<source-ms>" (decimal).
  Status s = ReadTopic(target_props, kMirrorHeartbeatsTopic, timeout,
                       [&](std::string_view k, std::string_view v) {
                         if (auto n = ParseInt(v)) out[std::string(k)] = *n;
                       });
  if (!s.ok()) return s.error();
  return out;
}

}  // namespace walrus::replication
