#include "apply/position_command.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "apply/partition_hold.h"
#include "apply/partition_state.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret_file.h"
#include "kafka/admin.h"
#include "kafka/assign_consumer.h"
#include "kafka/security.h"
#include "redis/connection.h"
#include "redis/endpoint.h"
#include "service/common_flags.h"
#include "service/decision_flags.h"
#include "service/service_main.h"

namespace walrus::apply {
namespace {

struct Flags {
  std::string redis_url, redis_user, password_file, brokers, topic;
  std::vector<std::string> x_props;
  service::DecisionFlags d;  // --partition ... --reset-to, --reason, --operator, --timeout-ms
  service::LogFlags log{.level = "warn"};
};

enum class Action { kShow, kAcceptGap, kResetToLogStart, kResetTo };

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAcceptGap:
      return "accept-gap";
    case Action::kResetToLogStart:
      return "reset-to-log-start";
    case Action::kResetTo:
      return "reset-to";
    case Action::kShow:
      break;
  }
  return "show";
}

// Everything known about one partition before a decision.
struct Seen {
  int64_t position = -1;           // -1: none stored
  std::optional<std::string> hold;  // raw JSON
  std::optional<std::pair<int64_t, int64_t>> log;  // low, high
  std::optional<std::string> cluster;  // the Kafka cluster the position was stored for
};

std::string Show(const std::string& topic, int32_t p, const Seen& s, const std::string& cluster) {
  std::string out = fmt::format("{}[{}]: position {}", topic, p,
                                s.position >= 0 ? std::to_string(s.position) : "none");
  out += fmt::format(" (stored for Kafka cluster '{}'{})", s.cluster.value_or("none"),
                     !cluster.empty() && s.cluster && *s.cluster != cluster
                         ? ": CLUSTER CHANGED, positions refer to another log"
                         : "");
  if (s.log) {
    const auto c = ClassifyPosition(s.position, s.log->first, s.log->second);
    out += fmt::format(", log [{}, {}]: {}", s.log->first, s.log->second, VerdictName(c.verdict));
    if (c.verdict != Verdict::kInRange) out += fmt::format(" ({} offsets)", c.count);
  }
  if (s.hold) {
    auto h = PartitionHold::FromJson(*s.hold);
    out += "; HELD: " + (h ? h->Describe() : "unreadable hold " + *s.hold);
  } else {
    out += "; not held";
  }
  return out;
}

// The new position for `a`, or the reason it is refused.
Result<int64_t> Decide(Action a, const service::DecisionFlags& f, const Seen& s) {
  const bool cluster_hold = s.hold && s.hold->find("\"cluster_changed\"") != std::string::npos;
  const bool need_log = a == Action::kAcceptGap || a == Action::kResetToLogStart || cluster_hold;
  if (need_log && !s.log) {
    return Error(Errc::kInvalidArgument, "--brokers is needed to read the log bounds");
  }
  switch (a) {
    case Action::kAcceptGap: {
      const auto c = ClassifyPosition(s.position, s.log->first, s.log->second);
      if (c.verdict != Verdict::kRetentionGap) {
        return Error(Errc::kConflict, fmt::format("no retention gap to accept (position {}, "
                                                  "log [{}, {}])",
                                                  s.position, s.log->first, s.log->second));
      }
      return s.log->first;
    }
    case Action::kResetToLogStart: {
      const auto c = ClassifyPosition(s.position, s.log->first, s.log->second);
      if (!s.hold && c.verdict == Verdict::kInRange) {
        return Error(Errc::kConflict,
                     fmt::format("not held and position {} is in the log [{}, {}]: refusing to "
                                 "replay or skip records (use --reset-to OFFSET to insist)",
                                 s.position, s.log->first, s.log->second));
      }
      return s.log->first;
    }
    case Action::kResetTo:
      if (*f.reset_to < 0) return Error(Errc::kInvalidArgument, "--reset-to must be >= 0");
      if (s.log && (*f.reset_to < s.log->first || *f.reset_to > s.log->second)) {
        return Error(Errc::kConflict, fmt::format("--reset-to {} is outside the log [{}, {}]: the "
                                                  "applier would hold the partition again",
                                                  *f.reset_to, s.log->first, s.log->second));
      }
      return *f.reset_to;
    case Action::kShow:
      break;
  }
  return Error(Errc::kInternal, "no action");
}

int RunPosition(const Flags& flags, service::ServiceMain&) {
  const service::DecisionFlags& f = flags.d;
  redis::Endpoint ep;
  Action action = Action::kShow;
  kafka::Properties kprops;
  {
    auto parsed = redis::ParseRedisUrl(flags.redis_url);
    if (!parsed) throw std::invalid_argument("--redis: " + parsed.error().message);
    ep = *parsed;
    if (!flags.redis_user.empty()) ep.user = flags.redis_user;
    if (!flags.password_file.empty()) {
      ep.password = ReadSecretFile(flags.password_file, "--redis-password-file");
    } else if (const char* pw = std::getenv("WALRUS_REDIS_PASSWORD")) {
      ep.password = pw;
    }
    if (flags.topic.empty()) throw std::invalid_argument("--topic is required");
    if (f.partitions.empty() && !f.all_held) {
      throw std::invalid_argument("--partition P (repeatable) or --all-held is required");
    }
    if (f.ActionCount() > 1) {
      throw std::invalid_argument("choose one of --accept-gap, --reset-to-log-start, --reset-to");
    }
    if (f.accept_gap) action = Action::kAcceptGap;
    if (f.to_log_start) action = Action::kResetToLogStart;
    if (f.reset_to) action = Action::kResetTo;
    if (action != Action::kShow && f.reason.empty()) {
      throw std::invalid_argument("--reason TEXT is required for a decision (it is recorded)");
    }
    if (!flags.brokers.empty()) {
      kprops = {{"bootstrap.servers", flags.brokers}, {"isolation.level", "read_committed"}};
      if (auto st = kafka::AppendPropertyFlags(flags.x_props, "-X", kprops); !st) {
        throw std::invalid_argument(st.error().message);
      }
    }
  }
  const std::string op = f.Operator();
  const std::string& topic = flags.topic;
  auto log = Logger("position");
  const auto timeout = std::chrono::milliseconds(f.timeout_ms);
  redis::ConnectOptions co;
  co.connect_timeout = timeout;
  co.io_timeout = timeout;
  co.client_name = "walrus-position";
  auto conn = redis::Connection::Connect(ep, co);
  if (!conn) {
    std::cerr << "walrus position: " << redis::Redacted(ep) << ": " << conn.error().message << "\n";
    return 1;
  }
  auto& c = **conn;
  auto role = c.Command({"ROLE"});
  if (!role || role->IsError() || role->size() == 0 || role->element(0).str() != "master") {
    std::cerr << "walrus position: " << redis::Redacted(ep) << " is not a Redis primary\n";
    return 1;
  }
  std::vector<int32_t> partitions = f.partitions;
  if (f.all_held) {
    std::string cursor = "0";
    do {
      auto r = c.Command({"SCAN", cursor, "MATCH", HoldKeyPrefix(topic) + "*", "COUNT", "1000"});
      if (!r || r->IsError() || r->size() != 2) {
        std::cerr << "walrus position: SCAN failed\n";
        return 1;
      }
      cursor = std::string(r->element(0).str());
      const auto keys = r->element(1);
      for (size_t i = 0; i < keys.size(); ++i) {
        const std::string k(keys.element(i).str());
        try {
          partitions.push_back(std::stoi(k.substr(HoldKeyPrefix(topic).size())));
        } catch (const std::exception&) {
        }
      }
    } while (cursor != "0");
    if (partitions.empty()) std::cout << topic << ": no partition held\n";
  }
  std::unique_ptr<kafka::AssignConsumer> kc;
  std::string cluster;  // the Kafka cluster decided against: positions now refer to it
  if (!kprops.empty()) {
    auto created = kafka::AssignConsumer::Create(kprops);
    if (!created) {
      std::cerr << "walrus position: kafka: " << created.error().message << "\n";
      return 1;
    }
    kc = std::move(*created);
    auto id = kafka::ClusterId(kprops, timeout);
    if (!id) {
      std::cerr << "walrus position: kafka: " << id.error().message << "\n";
      return 1;
    }
    cluster = *id;
    std::cout << "kafka cluster '" << cluster << "'\n";
  }
  int rc = 0;
  for (int32_t p : partitions) {
    const std::string pos_key = PositionKey(topic, p), hold_key = HoldKey(topic, p);
    if (action != Action::kShow) {
      auto w = c.Command({"WATCH", pos_key, hold_key, ClusterIdKey(topic, p)});
      if (!w || w->IsError()) {
        std::cerr << "walrus position: WATCH failed\n";
        return 1;
      }
    }
    Seen s;
    auto got = c.Command({"MGET", pos_key, hold_key, ClusterIdKey(topic, p)});
    if (!got || got->IsError() || got->size() != 3) {
      std::cerr << "walrus position: reading " << pos_key << " failed\n";
      return 1;
    }
    if (!got->element(0).IsNil()) {
      try {
        s.position = std::stoll(std::string(got->element(0).str()));
      } catch (const std::exception&) {
        std::cerr << "walrus position: corrupt " << pos_key << "\n";
        rc = 1;
        continue;
      }
    }
    if (!got->element(1).IsNil()) s.hold = std::string(got->element(1).str());
    if (!got->element(2).IsNil()) s.cluster = std::string(got->element(2).str());
    if (kc) {
      auto wm = kc->QueryWatermarks(topic, p, timeout);
      if (wm) {
        s.log = *wm;
      } else {
        std::cerr << "walrus position: " << topic << "[" << p << "]: log bounds: "
                  << wm.error().message << "\n";
      }
    }
    std::cout << Show(topic, p, s, cluster) << "\n";
    if (action == Action::kShow) continue;
    auto next = Decide(action, f, s);
    if (!next) {
      (void)c.Command({"UNWATCH"});
      std::cerr << "walrus position: " << topic << "[" << p << "]: refused: "
                << next.error().message << "\n";
      rc = 1;
      continue;
    }
    const std::string old = s.position >= 0 ? std::to_string(s.position) : "none";
    const std::string low = s.log ? std::to_string(s.log->first) : "unknown";
    const std::string high = s.log ? std::to_string(s.log->second) : "unknown";
    const std::string now = std::to_string(WallNowMs());
    c.Append({"MULTI"});
    c.Append({"SET", pos_key, std::to_string(*next)});
    c.Append({"DEL", hold_key});
    c.Append({"XADD", kDecisionsKey, "*", "topic", topic, "partition", std::to_string(p),
              "action", ActionName(action), "old_position", old, "new_position",
              std::to_string(*next), "log_low", low, "log_high", high, "hold",
              s.hold.value_or(""), "reason", f.reason, "operator", op, "host", service::HostName(), "at_ms",
              now, "kafka_cluster", cluster.empty() ? std::string_view("unknown") : cluster});
    size_t n = 4;
    if (!cluster.empty()) {
      c.Append({"SET", ClusterIdKey(topic, p), cluster});  // this partition only
      ++n;
    }
    c.Append({"EXEC"});
    auto replies = c.ReadReplies(n + 1);
    if (!replies || (*replies)[n].IsNil() || (*replies)[n].IsError()) {
      std::cerr << "walrus position: " << topic << "[" << p
                << "]: not changed (the position or hold changed meanwhile, or Redis failed); "
                   "look again and retry\n";
      rc = 1;
      continue;
    }
    const std::string line = fmt::format(
        "decision: {}[{}] {} position {} -> {} (log [{}, {}]) by {} on {}: {}", topic, p,
        ActionName(action), old, *next, low, high, op, service::HostName(), f.reason);
    log->warn("{}", line);
    std::cout << line << " (recorded in " << kDecisionsKey << ")\n";
  }
  return rc;
}

}  // namespace

void AddPositionCommand(CLI::App& root, int& exit_code) {
  auto f = std::make_shared<Flags>();
  auto* cmd = service::AddCommand(
      root, exit_code, f, "position",
      "Show, and on an operator's decision rewrite, the stored position of an applier's partition\n"
      "(walrus:pos:<topic>:<p> in its Redis). Lifts the hold `walrus apply` puts on a partition\n"
      "whose position is outside the log (log replaced or truncated, or a retention gap); each\n"
      "decision is recorded in the walrus:decisions stream. See docs/log-gaps.md.",
      RunPosition);
  cmd->add_option("--redis", f->redis_url, "URL of the applier's Redis primary")
      ->envname("WALRUS_REDIS")
      ->required();
  cmd->add_option("--redis-user", f->redis_user, "ACL user")->envname("WALRUS_REDIS_USER");
  cmd->add_option("--redis-password-file", f->password_file,
                  "File holding the Redis password (or env WALRUS_REDIS_PASSWORD)")
      ->envname("WALRUS_REDIS_PASSWORD_FILE");
  cmd->add_option("--brokers", f->brokers,
                  "Kafka bootstrap servers: reads the log bounds (needed by --accept-gap and "
                  "--reset-to-log-start, checks --reset-to)")
      ->envname("WALRUS_BROKERS");
  cmd->add_option("-X", f->x_props, "librdkafka property key=value (security), repeatable");
  cmd->add_option("--topic", f->topic, "Topic")->envname("WALRUS_TOPIC")->required();
  service::AddDecisionFlags(
      cmd, f->d,
      {.partition = "Partition, repeatable",
       .all_held = "Every partition of --topic that is held",
       .accept_gap = "Accept a retention gap: the records [position, log start) are lost to this "
                     "Redis; continue at the log start",
       .to_log_start = "Set the position to the log start (the log was replaced or truncated: its "
                       "records were never applied)",
       .reset_to = "Set the position to OFFSET"});
  service::AddLogFlags(cmd, f->log);
}

}  // namespace walrus::apply
