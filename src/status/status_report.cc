#include "status/status_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <tuple>

#include "core/clock.h"
#include "dataset/lag.h"
#include "kafka/admin.h"
#include "kafka/assign_consumer.h"
#include "kafka/log_bounds.h"
#include "kafka/mirror_state.h"
#include "redis/connection.h"
#include "redis/endpoint.h"

namespace walrus::status {
namespace {

// A stored position outside the log [low, high] (low unknown: pass 0, then only beyond the end
// counts): ("beyond_end" | "retention_gap", the distance); nullopt inside it. The rule the
// applier and the mirror hold by (kafka/log_bounds.h).
std::optional<std::pair<std::string, int64_t>> Outside(int64_t position, int64_t low,
                                                       int64_t high) {
  const kafka::LogPlacement p = kafka::PlacePosition(position, low, high);
  switch (p.where) {
    case kafka::LogPlacement::kBeyondEnd:
      return std::pair<std::string, int64_t>("beyond_end", p.count);
    case kafka::LogPlacement::kBeforeStart:
      return std::pair<std::string, int64_t>("retention_gap", p.count);
    case kafka::LogPlacement::kInLog:
      break;
  }
  return std::nullopt;
}

bool Internal(const std::string& t) {
  return t == kafka::kMirrorOffsetsTopic || t == kafka::kMirrorHeartbeatsTopic || t.rfind("_", 0) == 0 ||
         (t.size() > 4 && t.compare(t.size() - 4, 4, ".dlq") == 0);
}

bool Selected(const StatusOptions& o, const std::string& t) {
  if (o.topics.empty()) return !Internal(t);
  for (const auto& s : o.topics) {
    if (s.empty()) continue;
    if (s[0] == '^' ? std::regex_search(t, std::regex(s)) : s == t) return true;
  }
  return false;
}

std::string HidePassword(const std::string& url) {
  const auto at = url.rfind('@');
  const auto scheme = url.find("://");
  if (at == std::string::npos || scheme == std::string::npos) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

std::optional<int64_t> ToInt(std::string_view s) {
  try {
    size_t used = 0;
    const int64_t v = std::stoll(std::string(s), &used);
    return used == s.size() ? std::optional<int64_t>(v) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

template <typename T>
nlohmann::json Opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string Cell(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

// The applier's hold record (JSON, src/apply/partition_hold.h) as one line.
std::string DescribeHold(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "held (unreadable hold record)";
  const auto num = [&](const char* k) { return j.value(k, int64_t{-1}); };
  const std::string from = j.value("stored_cluster", std::string()),
                    to = j.value("cluster", std::string());
  if (j.value("reason", std::string()) == "cluster_changed") {
    return fmt::format("held: Kafka cluster changed (positions stored for cluster '{}', "
                       "consuming cluster '{}'): stored position {} (log [{}, {}] then)",
                       from, to, num("position"), num("low"), num("high"));
  }
  const std::string changed =
      !from.empty() && from != to ? fmt::format("; Kafka cluster changed from '{}' to '{}'", from, to)
                                  : std::string();
  if (j.value("reason", std::string()) == "retention_gap") {
    return fmt::format("held: retention gap [{}, {}) of {} records (log [{}, {}] then){}",
                       num("position"), num("low"), num("count"), num("low"), num("high"),
                       changed);
  }
  return fmt::format("held: stored position {} beyond log end {} by {} (log replaced or "
                     "truncated; log [{}, {}] then){}",
                     num("position"), num("high"), num("count"), num("low"), num("high"), changed);
}

// A mirror's hold record (JSON, src/mirror/source_hold.h) as one line; "" when released.
std::string DescribeMirrorHold(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "held (unreadable hold record)";
  const std::string state = j.value("state", std::string());
  if (state == "released") return "";
  const auto num = [&](const char* k) { return j.value(k, int64_t{-1}); };
  const std::string reason = j.value("reason", std::string());
  std::string out =
      reason == "cluster_changed"
          ? fmt::format("mirror held: source Kafka cluster changed (positions stored for cluster "
                        "'{}', reading cluster '{}'): stored position {} (source log [{}, {}] then)",
                        j.value("stored_cluster", std::string()), j.value("cluster", std::string()),
                        num("position"), num("low"), num("high"))
      : reason == "retention_gap"
          ? fmt::format("mirror held: retention gap [{}, {}) of {} records deleted from the "
                        "source before they were mirrored (source log [{}, {}] then)",
                        num("position"), num("low"), num("count"), num("low"), num("high"))
          : fmt::format("mirror held: stored position {} beyond source log end {} by {} (source "
                        "log replaced or truncated; source log [{}, {}] then)",
                        num("position"), num("high"), num("count"), num("low"), num("high"));
  if (state == "decided") {
    out += fmt::format("; decided ({} -> {}), applied at the mirror's next run",
                       j.value("action", std::string()), num("new_position"));
  }
  return out;
}

std::string MirrorLagCell(const PartitionRow& row) {
  if (!row.mirror_held.empty()) return "HELD";
  if (row.mirror_state == "beyond_end") return "BEYOND-END";
  if (row.mirror_state == "retention_gap") return "GAP";
  return Cell(row.mirror_lag);
}

std::string RedisLagCell(const PartitionRow& row) {
  if (!row.held.empty()) return "HELD";
  if (row.redis_state == "beyond_end") return "BEYOND-END";
  if (row.redis_state == "retention_gap") return "GAP";
  if (row.redis_state == "cluster_changed") return "CLUSTER-CHANGED";
  return Cell(row.redis_lag);
}

}  // namespace

StatusReport CollectStatus(const StatusOptions& o) {
  StatusReport r;
  // end[cluster][{topic, partition}]
  std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> end, start;
  for (const auto& [name, boot] : o.clusters) {
    const kafka::Properties props = {{"bootstrap.servers", boot}};
    auto topics = kafka::ListTopics(props, o.timeout);
    if (!topics) {
      r.errors.push_back(fmt::format("{}: {}", name, topics.error().message));
      continue;
    }
    std::string cluster_id;
    if (auto id = kafka::ClusterId(props, o.timeout)) {
      cluster_id = *id;
    } else {
      r.errors.push_back(fmt::format("{}: cluster id: {}", name, id.error().message));
    }
    auto consumer = kafka::AssignConsumer::Create(props);
    if (!consumer) {
      r.errors.push_back(fmt::format("{}: {}", name, consumer.error().message));
      continue;
    }
    std::vector<kafka::TopicPartition> parts;
    for (const auto& t : *topics) {
      if (!Selected(o, t.name)) continue;
      for (int32_t p = 0; p < t.partitions; ++p) {
        PartitionRow row{.topic = t.name, .partition = p, .cluster = name};
        row.cluster_id = cluster_id;
        if (auto wm = (*consumer)->QueryWatermarks(t.name, p, o.timeout)) {
          row.end = wm->second;
          row.start = wm->first;
          end[name][{t.name, p}] = wm->second;
          start[name][{t.name, p}] = wm->first;
        }
        parts.push_back({t.name, p});
        r.rows.push_back(std::move(row));
      }
    }
    if (!o.group.empty() && !parts.empty()) {
      kafka::Properties gprops = props;
      gprops.emplace_back("group.id", o.group);
      if (auto committed = kafka::CommittedOffsets(gprops, parts, o.timeout)) {
        for (const auto& tp : *committed) {
          for (auto& row : r.rows) {
            if (row.cluster == name && row.topic == tp.topic && row.partition == tp.partition &&
                row.end && tp.offset >= 0) {
              row.group_lag = dataset::ApplierLag(tp.offset, row.start.value_or(0), *row.end);
            }
          }
        }
      } else {
        r.errors.push_back(fmt::format("{}: group {}: {}", name, o.group, committed.error().message));
      }
    }
  }
  // Mirror positions and heartbeats stored in each cluster.
  for (const auto& [name, boot] : o.clusters) {
    const kafka::Properties props = {{"bootstrap.servers", boot}};
    if (auto st = kafka::ReadMirrorState(props, o.timeout * 2)) {
      // key: <source>/<topic>/<partition>
      auto parse = [](const std::string& key, std::string& src, std::string& topic) {
        const auto a = key.find('/'), b = key.rfind('/');
        if (a == std::string::npos || b == a) return std::optional<int64_t>();
        src = key.substr(0, a);
        topic = key.substr(a + 1, b - a - 1);
        return ToInt(key.substr(b + 1));
      };
      auto rows_of = [&](const std::string& src, const std::string& topic, int64_t part) {
        std::vector<PartitionRow*> out;
        for (auto& row : r.rows) {
          if (row.cluster == name && row.partition == part &&
              (row.topic == topic || row.topic == src + "." + topic)) {
            out.push_back(&row);
          }
        }
        return out;
      };
      for (const auto& [key, next] : st->positions) {
        std::string src, topic;
        const auto part = parse(key, src, topic);
        if (!part) continue;
        const std::pair<std::string, int32_t> tp{topic, static_cast<int32_t>(*part)};
        auto src_end = end[src].find(tp);
        auto src_start = start[src].find(tp);
        for (PartitionRow* row : rows_of(src, topic, *part)) {
          row->mirror_source = src;
          row->mirror_position = next;
          if (src_end == end[src].end()) continue;
          row->mirror_state = "ok";
          const int64_t low = src_start != start[src].end() ? src_start->second : 0;
          if (auto out = Outside(next, low, src_end->second)) {
            std::tie(row->mirror_state, row->mirror_outside) = *out;
          } else {
            row->mirror_lag = dataset::MirrorPositionLag(next, low, src_end->second);
          }
        }
      }
      for (const auto& [key, json] : st->holds) {
        std::string src, topic;
        const auto part = parse(key, src, topic);
        if (!part) continue;
        for (PartitionRow* row : rows_of(src, topic, *part)) {
          row->mirror_source = src;
          row->mirror_held = DescribeMirrorHold(json);
        }
      }
    } else {
      r.errors.push_back(fmt::format("{}: mirror positions: {}", name, st.error().message));
    }
    if (auto hb = kafka::ReadMirrorHeartbeats(props, o.timeout * 2)) {
      for (const auto& [flow, ms] : *hb) r.heartbeats.push_back({flow, name, WallNowMs() - ms});
    }
  }
  // Appliers' positions in each cluster's Redis.
  for (const auto& [name, url] : o.redis) {
    RedisRow rr{.cluster = name, .url = HidePassword(url)};
    auto ep = redis::ParseRedisUrl(url);
    if (!ep) {
      rr.detail = ep.error().message;
      r.redis.push_back(rr);
      continue;
    }
    redis::ConnectOptions co;
    co.connect_timeout = o.timeout;
    co.io_timeout = o.timeout;
    co.client_name = "walrus-status";
    auto conn = redis::Connection::Connect(*ep, co);
    if (!conn) {
      rr.detail = conn.error().message;
      r.redis.push_back(rr);
      continue;
    }
    auto role = (*conn)->Command({"ROLE"});
    rr.ok = role.ok() && !role->IsError();
    rr.detail = rr.ok && role->size() > 0 ? std::string(role->element(0).str()) : "ROLE failed";
    for (auto& row : r.rows) {
      if (row.cluster != name || !row.end) continue;
      // Key formats of the applier (src/apply/partition_state.h, partition_hold.h).
      auto v = (*conn)->Command(
          {"MGET", fmt::format("walrus:pos:{}:{}", row.topic, row.partition),
           fmt::format("walrus:hold:{}:{}", row.topic, row.partition),
           fmt::format("walrus:kafka-cluster-id:{}:{}", row.topic, row.partition)});
      if (!v || v->IsError() || v->size() != 3) break;
      row.redis_state = "ok";
      const auto pos = v->element(0);
      if (!v->element(2).IsNil()) row.redis_cluster_id = std::string(v->element(2).str());
      const bool other_cluster = !pos.IsNil() && !row.redis_cluster_id.empty() &&
                                 !row.cluster_id.empty() && row.redis_cluster_id != row.cluster_id;
      if (pos.IsNil()) {
        row.redis_lag = dataset::ApplierLag(-1, row.start.value_or(0), *row.end);
      } else if (auto n = ToInt(pos.str())) {
        row.redis_position = *n;
        if (auto out = Outside(*n, row.start.value_or(0), *row.end)) {
          std::tie(row.redis_state, row.redis_outside) = *out;
        } else if (other_cluster) {
          // Inside the log by its offsets, but they refer to another log: no lag to tell.
          row.redis_state = "cluster_changed";
        } else {
          row.redis_lag = dataset::ApplierLag(*n, row.start.value_or(0), *row.end);
        }
      }
      if (const auto hold = v->element(1); !hold.IsNil()) row.held = DescribeHold(hold.str());
    }
    r.redis.push_back(rr);
  }
  return r;
}

bool AnyOutsideLog(const StatusReport& r) {
  for (const auto& row : r.rows) {
    if (!row.held.empty() || row.redis_state == "beyond_end" ||
        row.redis_state == "retention_gap" || row.redis_state == "cluster_changed" ||
        !row.mirror_held.empty() || row.mirror_state == "beyond_end" ||
        row.mirror_state == "retention_gap") {
      return true;
    }
  }
  return false;
}

std::string RenderTable(const StatusReport& r) {
  std::string out = fmt::format("{:<24} {:>4} {:<10} {:>10} {:<10} {:>10} {:>10} {:>10}\n",
                                "TOPIC", "PART", "CLUSTER", "END", "MIRROR-SRC", "MIRROR-LAG",
                                "GROUP-LAG", "REDIS-LAG");
  for (const auto& row : r.rows) {
    out += fmt::format("{:<24} {:>4} {:<10} {:>10} {:<10} {:>10} {:>10} {:>10}\n", row.topic,
                       row.partition, row.cluster, Cell(row.end),
                       row.mirror_source.empty() ? "-" : row.mirror_source, MirrorLagCell(row),
                       Cell(row.group_lag), RedisLagCell(row));
  }
  for (const auto& row : r.rows) {
    if (row.redis_state != "beyond_end" && row.redis_state != "retention_gap" &&
        row.redis_state != "cluster_changed" && row.held.empty()) {
      continue;
    }
    std::string now = "position " + Cell(row.redis_position) + ", log [" + Cell(row.start) + ", " +
                      Cell(row.end) + "]";
    if (row.redis_state == "beyond_end") {
      now += fmt::format(": beyond the log end by {} (log replaced or truncated)",
                         *row.redis_outside);
    } else if (row.redis_state == "retention_gap") {
      now += fmt::format(": retention gap [{}, {}) of {} records", *row.redis_position,
                         *row.start, *row.redis_outside);
    }
    if (!row.redis_cluster_id.empty() && !row.cluster_id.empty() &&
        row.redis_cluster_id != row.cluster_id) {
      now += fmt::format("; stored for Kafka cluster '{}', this is cluster '{}' (the position "
                         "refers to another log)",
                         row.redis_cluster_id, row.cluster_id);
    }
    out += fmt::format("partition {}[{}] in {}: {}{}{}\n", row.topic, row.partition, row.cluster,
                       now, row.held.empty() ? "" : "; ", row.held);
  }
  for (const auto& row : r.rows) {
    if (row.mirror_state != "beyond_end" && row.mirror_state != "retention_gap" &&
        row.mirror_held.empty()) {
      continue;
    }
    std::string now = fmt::format("mirror position {} (from {})", Cell(row.mirror_position),
                                  row.mirror_source);
    if (row.mirror_state == "beyond_end") {
      now += fmt::format(": beyond the source log end by {} (source log replaced or truncated)",
                         *row.mirror_outside);
    } else if (row.mirror_state == "retention_gap") {
      now += fmt::format(": retention gap [{}, {}) of {} records in the source",
                         *row.mirror_position, *row.mirror_position + *row.mirror_outside,
                         *row.mirror_outside);
    }
    out += fmt::format("partition {}[{}] in {}: {}{}{}\n", row.topic, row.partition, row.cluster,
                       now, row.mirror_held.empty() ? "" : "; ", row.mirror_held);
  }
  for (const auto& h : r.heartbeats) {
    out += fmt::format("heartbeat {} (in {}): {} ms ago\n", h.flow, h.cluster, h.age_ms);
  }
  for (const auto& x : r.redis) {
    out += fmt::format("redis {} {}: {} ({})\n", x.cluster, x.url, x.ok ? "ok" : "DOWN", x.detail);
  }
  for (const auto& e : r.errors) out += "error: " + e + "\n";
  return out;
}

std::string RenderJson(const StatusReport& r) {
  nlohmann::json j = {{"partitions", nlohmann::json::array()},
                      {"heartbeats", nlohmann::json::array()},
                      {"redis", nlohmann::json::array()},
                      {"errors", r.errors}};
  for (const auto& row : r.rows) {
    j["partitions"].push_back({{"topic", row.topic},
                               {"partition", row.partition},
                               {"cluster", row.cluster},
                               {"end", Opt(row.end)},
                               {"mirror_source", row.mirror_source},
                               {"mirror_lag", Opt(row.mirror_lag)},
                               {"group_lag", Opt(row.group_lag)},
                               {"redis_lag", Opt(row.redis_lag)},
                               {"start", Opt(row.start)},
                               {"redis_position", Opt(row.redis_position)},
                               {"redis_state", row.redis_state},
                               {"redis_outside", Opt(row.redis_outside)},
                               {"held", row.held},
                               {"cluster_id", row.cluster_id},
                               {"redis_cluster_id", row.redis_cluster_id},
                               {"mirror_position", Opt(row.mirror_position)},
                               {"mirror_state", row.mirror_state},
                               {"mirror_outside", Opt(row.mirror_outside)},
                               {"mirror_held", row.mirror_held}});
  }
  for (const auto& h : r.heartbeats) {
    j["heartbeats"].push_back({{"flow", h.flow}, {"cluster", h.cluster}, {"age_ms", h.age_ms}});
  }
  for (const auto& x : r.redis) {
    j["redis"].push_back({{"cluster", x.cluster}, {"url", x.url}, {"ok", x.ok}, {"detail", x.detail}});
  }
  return j.dump(2) + "\n";
}

}  // namespace walrus::status
