#include "mirror/mirror_position_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "core/clock.h"
#include "core/log.h"
#include "kafka/assign_consumer.h"
#include "kafka/producer.h"
#include "mirror/mirror_config.h"
#include "mirror/record_copy.h"
#include "protocol/topics.h"
#include "replication/mirror_state.h"
#include "replication/source_hold.h"
#include "service/common_flags.h"
#include "service/decision_flags.h"
#include "service/service_main.h"

namespace walrus::mirror {
namespace {

struct Flags {
  std::string source, target, source_alias = "source", topic;
  service::DecisionFlags d{.timeout_ms = 10000};
  std::vector<std::string> x_props, source_x, target_x;
  service::LogFlags log{.level = "warn"};
};

kafka::Properties Props(const std::string& boot, const std::vector<std::string>& common,
                        const std::vector<std::string>& side, const std::string& side_flag) {
  kafka::Properties p = {{"bootstrap.servers", boot}};
  for (const auto& kv : common) p.push_back(ParseKeyValue(kv, "-X"));
  for (const auto& kv : side) p.push_back(ParseKeyValue(kv, side_flag));
  return p;
}

int Run(const Flags& flags, service::ServiceMain& svc) {
  const service::DecisionFlags& f = flags.d;
  // A negative --reset-to is no decision (as before the decision flags were shared).
  const int64_t reset_to = f.reset_to.value_or(-1);
  const int actions = int(f.accept_gap) + int(f.to_log_start) + int(reset_to >= 0);
  kafka::Properties sprops, tprops;
  {
    if (flags.source.empty() || flags.target.empty()) {
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
    if (reset_to >= 0 && f.all_held) {
      throw std::invalid_argument("--reset-to takes --partition, not --all-held");
    }
    sprops = Props(flags.source, flags.x_props, flags.source_x, "--source-X");
    tprops = Props(flags.target, flags.x_props, flags.target_x, "--target-X");
  }
  const std::string& topic = flags.topic;
  const std::string& source_alias = flags.source_alias;
  const auto timeout = std::chrono::milliseconds(f.timeout_ms);
  auto state = replication::ReadMirrorState(tprops, timeout * 3);
  if (!state) {
    return svc.Fail(service::kExitFailed,
                    std::string("reading ") + kOffsetsTopic + ": " + state.error().message);
  }
  auto source = kafka::AssignConsumer::Create(sprops);
  if (!source) {
    return svc.Fail(service::kExitFailed, source.error().message);
  }
  // The partitions: given, or every held one of the topic.
  std::vector<int32_t> parts = f.partitions;
  if (parts.empty()) {
    const std::string prefix = protocol::MirrorPositionKeyPrefix(source_alias, topic);
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
                << " for source " << source_alias << " topic " << topic << "\n";
      return actions == 1 ? 1 : 0;
    }
  }
  std::unique_ptr<kafka::Producer> producer;
  const std::string op = f.Operator();
  int code = 0;
  for (int32_t p : parts) {
    const std::string key = PositionKey(source_alias, topic, p);
    const auto pos = state->positions.find(key);
    const int64_t stored = pos == state->positions.end() ? -1 : pos->second;
    auto wm = (*source)->QueryWatermarks(topic, p, timeout);
    if (!wm) {
      std::cerr << fmt::format("walrus mirror-position: error: {}[{}]: source log bounds: {}\n",
                               topic, p, wm.error().message);
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
        "{}/{}[{}]: stored position {}, source log [{}, {}]: {}{}; {}\n", source_alias, topic,
        p, stored < 0 ? std::string("none") : std::to_string(stored), wm->first, wm->second,
        c.reason ? std::string(replication::HoldReasonName(*c.reason)) : std::string("in the log"),
        c.reason ? fmt::format(" ({} offsets)", c.count) : std::string(),
        held ? "HELD: " + hold->Describe() : std::string("not held"));
    if (actions == 0) continue;
    if (!held) {
      std::cerr << fmt::format("walrus mirror-position: error: {}[{}] is not held: refusing (a "
                               "decision is only for held partitions)\n", topic, p);
      code = 1;
      continue;
    }
    replication::SourceHold d = *hold;
    int64_t to = -1;
    if (f.accept_gap) {
      if (hold->reason != replication::HoldReason::kRetentionGap || wm->first <= hold->position) {
        std::cerr << fmt::format("walrus mirror-position: error: {}[{}]: no retention gap to "
                                 "accept (held: {}); use --reset-to-log-start or --reset-to\n",
                                 topic, p, replication::HoldReasonName(hold->reason));
        code = 1;
        continue;
      }
      d.action = "accept-gap";
      to = wm->first;
    } else if (f.to_log_start) {
      d.action = "reset-to-log-start";
      to = wm->first;
    } else {
      if (reset_to < wm->first || reset_to > wm->second) {
        std::cerr << fmt::format("walrus mirror-position: error: {}[{}]: --reset-to {} is outside "
                                 "the source log [{}, {}]\n",
                                 topic, p, reset_to, wm->first, wm->second);
        code = 1;
        continue;
      }
      d.action = "reset-to";
      to = reset_to;
    }
    d.state = replication::SourceHold::State::kDecided;
    d.new_position = to;
    d.why = f.reason;
    d.by = op;
    d.host = service::HostName();
    d.decided_ms = WallNowMs();
    if (!producer) {
      kafka::Properties pp = tprops;
      pp.emplace_back("enable.idempotence", "true");
      pp.emplace_back("partitioner", "murmur2_random");
      auto pr = kafka::Producer::Create(pp);
      if (!pr) {
        return svc.Fail(service::kExitFailed, pr.error().message);
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
                                 "{}\n", topic, p, r.error().message);
        return 1;
      }
    }
    const std::string line = fmt::format(
        "decision: {}/{}[{}] {} position {} -> {} (source log [{}, {}]) by {} on {}: {}",
        source_alias, topic, p, d.action, hold->position, to, wm->first, wm->second, op,
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
  auto* cmd = service::AddCommand(
      root, exit_code, f, "mirror-position",
      "Show the source positions and holds of a walrus mirror flow (stored in the target's\n"
      "walrus-mirror.offsets) against the source log, and record an operator's decision about a\n"
      "held source partition (docs/log-gaps.md). Decision flags are command-line only.",
      Run);
  cmd->add_option("--source", f->source, "Source bootstrap servers")->envname("WALRUS_SOURCE");
  cmd->add_option("--target", f->target, "Target bootstrap servers (where the state is)")
      ->envname("WALRUS_TARGET");
  cmd->add_option("--source-alias", f->source_alias, "The flow's source alias")
      ->envname("WALRUS_SOURCE_ALIAS")
      ->capture_default_str();
  cmd->add_option("--topic", f->topic, "Source topic")->envname("WALRUS_TOPIC")->required();
  service::AddDecisionFlags(
      cmd, f->d,
      {.partition = "Partition, repeatable (default: all stored)",
       .all_held = "Every held partition of --topic",
       .accept_gap = "Decision: accept that the retention gap is lost to the target; copy from "
                     "the source log start",
       .to_log_start = "Decision: copy from the source log start (a replaced or truncated log: "
                       "its records were never copied)",
       .reset_to = "Decision: copy from OFFSET (inside the source log)"});
  cmd->add_option("-X", f->x_props, "librdkafka property key=value for both sides (security)");
  cmd->add_option("--source-X", f->source_x, "librdkafka property for the source only");
  cmd->add_option("--target-X", f->target_x, "librdkafka property for the target only");
  service::AddLogFlags(cmd, f->log);
}

}  // namespace walrus::mirror
