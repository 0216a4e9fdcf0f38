#pragma once

// StatusReport: a one-shot snapshot of a walrus deployment for `walrus status`: per topic and
// partition, the end offset in each cluster, the mirror lag into each cluster (source end minus the
// position the mirror stored in that cluster's walrus-mirror.offsets), the applier lag from the
// consumer group's committed offsets and from the walrus:pos:<topic>:<partition> keys in each
// cluster's Redis; plus mirror heartbeat ages and Redis reachability.
//
//   StatusOptions o{.clusters = {{"dc", dc_boot}, {"dr", dr_boot}}, .group = "dc1",
//                   .redis = {{"dc", "redis://127.0.0.1:6390"}}};
//   StatusReport r = CollectStatus(o);
//   std::cout << RenderTable(r);      // or RenderJson(r)
//
// Blocking (bounded by o.timeout per request); no threads; no state kept.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace walrus::status {

struct StatusOptions {
  std::vector<std::pair<std::string, std::string>> clusters;  // name, bootstrap
  std::string group;                                          // applier group ("" = skip)
  std::vector<std::pair<std::string, std::string>> redis;     // cluster name, redis URL
  std::vector<std::string> topics;  // names or ^regex; empty: every non-internal topic
  std::chrono::milliseconds timeout{5000};
};

// One topic partition as seen in one cluster. Missing values are nullopt.
struct PartitionRow {
  std::string topic;
  int32_t partition = 0;
  std::string cluster;
  std::optional<int64_t> end;
  std::optional<int64_t> start;       // log start (low watermark)
  std::string mirror_source;          // cluster the mirror copies this partition from
  std::optional<int64_t> mirror_lag;  // source end - stored mirror position
  std::optional<int64_t> group_lag;   // end - group committed offset
  std::optional<int64_t> redis_lag;   // end - walrus:pos in this cluster's Redis (in the log)
  std::optional<int64_t> redis_position;  // walrus:pos (nullopt: none stored / not read)
  // The stored position against the log: "" (not read), "ok", "beyond_end" (position > end:
  // log replaced or truncated), "retention_gap" (position < start: records deleted unapplied)
  // or "cluster_changed" (inside the log by its offsets, but stored for another Kafka cluster
  // than this one: its offsets refer to another log). Outside the log (or cluster_changed),
  // redis_lag is nullopt; redis_outside counts the offsets in between (not for cluster_changed).
  std::string redis_state;
  std::optional<int64_t> redis_outside;
  std::string held;  // the applier's hold (walrus:hold:<topic>:<partition>), described; "" none
  std::string cluster_id;        // this cluster's Kafka cluster id ("" unknown)
  std::string redis_cluster_id;  // walrus:kafka-cluster-id:<topic>:<partition> ("" none)
  // The mirror's stored source position (walrus-mirror.offsets in this cluster) against the
  // source log: "" (none), "ok", "beyond_end" or "retention_gap" (then mirror_lag is nullopt and
  // mirror_outside counts the offsets in between); mirror_held: the mirror's hold record
  // (src/replication/source_hold.h), described; "" none.
  std::optional<int64_t> mirror_position;
  std::string mirror_state;
  std::optional<int64_t> mirror_outside;
  std::string mirror_held;
};

struct HeartbeatRow {
  std::string flow;  // "<source>:<target>"
  std::string cluster;  // where it was read (the target)
  int64_t age_ms = 0;
};

struct RedisRow {
  std::string cluster;
  std::string url;  // without password
  bool ok = false;
  std::string detail;
};

struct StatusReport {
  std::vector<PartitionRow> rows;
  std::vector<HeartbeatRow> heartbeats;
  std::vector<RedisRow> redis;
  std::vector<std::string> errors;  // clusters that could not be read, ...
};

StatusReport CollectStatus(const StatusOptions& o);
// True if some partition is held (by an applier or a mirror) or a stored position (applier or
// mirror) is outside its log.
bool AnyOutsideLog(const StatusReport& r);
std::string RenderTable(const StatusReport& r);
std::string RenderJson(const StatusReport& r);

}  // namespace walrus::status
