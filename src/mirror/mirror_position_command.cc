#include "mirror/mirror_position_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "core/log.h"
#include "kafka/assign_consumer.h"
#include "kafka/producer.h"
#include "mirror/mirror_config.h"
#include "mirror/record_copy.h"
#include "protocol/topics.h"
#include "replication/mirror_state.h"
#include "replication/source_hold.h"

namespace walrus::mirror {
namespace {

struct Flags {
  std::string source, target, source_alias = "source", topic;
  std::vector<int32_t> partitions;
  bool all_held = false, accept_gap = false, to_log_start = false;
  int64_t reset_to = -1;
  std::string reason, op;
  std::vector<std::string> x_props, source_x, target_x;
  int timeout_ms = 10000;
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Host() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

kafka::Properties Props(const std::string& boot, const std::vector<std::string>& common,
                        const std::vector<std::string>& side, const std::string& side_flag) {
  kafka::Properties p = {{"bootstrap.servers", boot}};
  for (const auto& kv : common) p.push_back(ParseKeyValue(kv, "-X"));
  for (const auto& kv : side) p.push_back(ParseKeyValue(kv, side_flag));
  return p;
}

int Run(const Flags& f) {
  const int actions = int(f.accept_gap) + int(f.to_log_start) + int(f.reset_to >= 0);
  kafka::Properties sprops, tprops;
  try {
    InitLogging("warn");
    if (f.source.empty() || f.target.empty()) {
      throw std::invalid_argument("--source and --target are required");
    }
    if (actions > 1) {
      throw std::invalid_argument("at most one of --accept-gap, --reset-to-log-start, --reset-to");
    }
    if (actions == 1 && f.reason.empty()) {
      throw std::invalid_argument("a decision needs --reason TEXT (recorded with it)");
    }
    if (actions == 1 && f.partitions.empty() && !f.all_held) {
      throw std::invalid_argument("a decision needs --partition P or --all-held");
    }
    if (f.reset_to >= 0 && f.all_held) {
      throw std::invalid_argument("--reset-to takes --partition, not --all-held");
    }
    sprops = Props(f.source, f.x_props, f.source_x, "--source-X");
    tprops = Props(f.target, f.x_props, f.target_x, "--target-X");
  } catch (const std::exception& e) {
    std::cerr << "walrus mirror-position: error: " << e.what() << "\n";
    return 2;
  }
  const auto timeout = std::chrono::milliseconds(f.timeout_ms);
  auto state = replication::ReadMirrorState(tprops, timeout * 3);
  if (!state) {
    std::cerr << "walrus mirror-position: error: reading " << kOffsetsTopic << ": "
              << state.error().message << "\n";
    return 1;
  }
  auto source = kafka::AssignConsumer::Create(sprops);
  if (!source) {
    std::cerr << "walrus mirror-position: error: " << source.error().message << "\n";
    return 1;
  }
  // The partitions: given, or every held one of the topic.
  std::vector<int32_t> parts = f.partitions;
  if (parts.empty()) {
    const std::string prefix = protocol::MirrorPositionKeyPrefix(f.source_alias, f.topic);
    for (const auto& [key, json] : state->holds) {
      if (key.rfind(prefix, 0) != 0) continue;
      auto h = replication::SourceHold::FromJson(json);
      if (!f.all_held || (h && h->state != replication::SourceHold::State::kReleased) || !h) {
        parts.push_back(static_cast<int32_t>(std::atoi(key.c_str() + prefix.size())));
      }
    }
    if (!f.all_held) {
      for (const auto& [key, pos] : state->positions) {
        if (key.rfind(prefix, 0) == 0) parts.push_back(std::atoi(key.c_str() + prefix.size()));
      }
      std::sort(parts.begin(), parts.end());
      parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
    }
    if (parts.empty()) {
      std::cerr << "walrus mirror-position: " << (f.all_held ? "no held partition" : "nothing stored")
                << " for source " << f.source_alias << " topic " << f.topic << "\n";
      return actions == 1 ? 1 : 0;
    }
  }
  std::unique_ptr<kafka::Producer> producer;
  const std::string op = !f.op.empty() ? f.op : (std::getenv("USER") ? std::getenv("USER") : "unknown");
  int code = 0;
  for (int32_t p : parts) {
    const std::string key = PositionKey(f.source_alias, f.topic, p);
    const auto pos = state->positions.find(key);
    const int64_t stored = pos == state->positions.end() ? -1 : pos->second;
    auto wm = (*source)->QueryWatermarks(f.topic, p, timeout);
    if (!wm) {
      std::cerr << fmt::format("walrus mirror-position: error: {}[{}]: source log bounds: {}\n",
                               f.topic, p, wm.error().message);
      code = 1;
      continue;
    }
    std::optional<replication::SourceHold> hold;
    std::string hold_json;
    if (auto it = state->holds.find(key); it != state->holds.end()) {
      hold_json = it->second;
      if (auto h = replication::SourceHold::FromJson(it->second)) hold = std::move(*h);
    }
    const auto c = replication::ClassifySourcePosition(stored, wm->first, wm->second);
    const bool held = hold && hold->state != replication::SourceHold::State::kReleased;
    std::cout << fmt::format(
        "{}/{}[{}]: stored position {}, source log [{}, {}]: {}{}; {}\n", f.source_alias, f.topic,
        p, stored < 0 ? std::string("none") : std::to_string(stored), wm->first, wm->second,
        c.reason ? std::string(replication::HoldReasonName(*c.reason)) : std::string("in the log"),
        c.reason ? fmt::format(" ({} offsets)", c.count) : std::string(),
        held ? "HELD: " + hold->Describe() : std::string("not held"));
    if (actions == 0) continue;
    if (!held) {
      std::cerr << fmt::format("walrus mirror-position: error: {}[{}] is not held: refusing (a "
                               "decision is only for held partitions)\n", f.topic, p);
      code = 1;
      continue;
    }
    replication::SourceHold d = *hold;
    int64_t to = -1;
    if (f.accept_gap) {
      if (hold->reason != replication::HoldReason::kRetentionGap || wm->first <= hold->position) {
        std::cerr << fmt::format(
            "walrus mirror-position: error: {}[{}]: no retention gap to "
            "accept (held: {}); use --reset-to-log-start or --reset-to\n",
            f.topic, p, replication::HoldReasonName(hold->reason));
        code = 1;
        continue;
      }
      d.action = "accept-gap";
      to = wm->first;
    } else if (f.to_log_start) {
      d.action = "reset-to-log-start";
      to = wm->first;
    } else {
      if (f.reset_to < wm->first || f.reset_to > wm->second) {
        std::cerr << fmt::format("walrus mirror-position: error: {}[{}]: --reset-to {} is outside "
                                 "the source log [{}, {}]\n",
                                 f.topic, p, f.reset_to, wm->first, wm->second);
        code = 1;
        continue;
      }
      d.action = "reset-to";
      to = f.reset_to;
    }
    d.state = replication::SourceHold::State::kDecided;
    d.new_position = to;
    d.why = f.reason;
    d.by = op;
    d.host = Host();
    d.decided_ms = WallMs();
    if (!producer) {
      kafka::Properties pp = tprops;
      pp.emplace_back("enable.idempotence", "true");
      pp.emplace_back("partitioner", "murmur2_random");
      auto pr = kafka::Producer::Create(pp);
      if (!pr) {
        std::cerr << "walrus mirror-position: error: " << pr.error().message << "\n";
        return 1;
      }
      producer = std::move(*pr);
    }
    // The audit record first, then the decided hold (what the mirror acts on): one record, so
    // the decision is all or nothing.
    const std::string json = d.ToJson();
    for (const auto& [k, v] : {std::pair{replication::DecisionRecordKey(key, d.decided_ms), json},
                               std::pair{replication::HoldRecordKey(key), json}}) {
      auto r = producer->ProduceSync({.topic = kOffsetsTopic, .key = k, .value = v}, timeout);
      if (!r) {
        std::cerr << fmt::format("walrus mirror-position: error: {}[{}]: writing the decision: "
                                 "{}\n", f.topic, p, r.error().message);
        return 1;
      }
    }
    const std::string line = fmt::format(
        "decision: {}/{}[{}] {} position {} -> {} (source log [{}, {}]) by {} on {}: {}",
        f.source_alias, f.topic, p, d.action, hold->position, to, wm->first, wm->second, op,
        d.host, f.reason);
    std::cout << line << "\n";
    Logger("mirror")->warn("{}", line);
  }
  if (actions == 1 && code == 0) {
    std::cout << "a running mirror applies the decision within ~2 s (it restarts the flow); "
                 "otherwise at its next start\n";
  }
  return code;
}

}  // namespace

void AddMirrorPositionCommand(CLI::App& root, int& exit_code) {
  auto f = std::make_shared<Flags>();
  auto* cmd = root.add_subcommand(
      "mirror-position",
      "Show the source positions and holds of a walrus mirror flow (stored in the target's\n"
      "walrus-mirror.offsets) against the source log, and record an operator's decision about a\n"
      "held source partition (docs/log-gaps.md). Decision flags are command-line only.");
  cmd->add_option("--source", f->source, "Source bootstrap servers")->envname("WALRUS_SOURCE");
  cmd->add_option("--target", f->target, "Target bootstrap servers (where the state is)")
      ->envname("WALRUS_TARGET");
  cmd->add_option("--source-alias", f->source_alias, "The flow's source alias")
      ->envname("WALRUS_SOURCE_ALIAS")
      ->capture_default_str();
  cmd->add_option("--topic", f->topic, "Source topic")->envname("WALRUS_TOPIC")->required();
  cmd->add_option("--partition", f->partitions, "Partition, repeatable (default: all stored)")
      ->envname("WALRUS_PARTITION");
  cmd->add_flag("--all-held", f->all_held, "Every held partition of --topic")
      ->envname("WALRUS_ALL_HELD");
  // The decision itself (--accept-gap, --reset-to-log-start, --reset-to) is read from the
  // command line only: a leftover environment variable must never turn a look into a decision.
  cmd->add_flag("--accept-gap", f->accept_gap,
                "Decision: accept that the retention gap is lost to the target; copy from the "
                "source log start");
  cmd->add_flag("--reset-to-log-start", f->to_log_start,
                "Decision: copy from the source log start (a replaced or truncated log: its "
                "records were never copied)");
  cmd->add_option("--reset-to", f->reset_to, "Decision: copy from OFFSET (inside the source log)");
  cmd->add_option("--reason", f->reason, "Why (recorded with the decision; required for one)")
      ->envname("WALRUS_REASON");
  cmd->add_option("--operator", f->op, "Who decides (default: $USER)")->envname("WALRUS_OPERATOR");
  cmd->add_option("-X", f->x_props, "librdkafka property key=value for both sides (security)");
  cmd->add_option("--source-X", f->source_x, "librdkafka property for the source only");
  cmd->add_option("--target-X", f->target_x, "librdkafka property for the target only");
  cmd->add_option("--timeout-ms", f->timeout_ms, "Per-request timeout")
      ->envname("WALRUS_TIMEOUT_MS")
      ->capture_default_str();
  cmd->callback([f, &exit_code] { exit_code = Run(*f); });
}

}  // namespace walrus::mirror
