#include "mirror/flow_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/log.h"
#include "dataset/lag.h"
#include "kafka/admin.h"
#include "mirror/record_copy.h"

namespace walrus::mirror {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr milliseconds kAdminTimeout{10000};
constexpr milliseconds kTxTimeout{60000};

}  // namespace

Result<std::vector<RouteSpec>> ResolveRoutes(const FlowConfig& cfg, MirrorProbe& probe,
                                             bool& fatal) {
  auto src_topics = kafka::ListTopics(cfg.source_props, kAdminTimeout);
  if (!src_topics) return src_topics.error();
  auto dst_topics = kafka::ListTopics(cfg.target_props, kAdminTimeout);
  if (!dst_topics) return dst_topics.error();
  std::map<std::string, int32_t> dst_parts;
  for (const auto& t : *dst_topics) dst_parts[t.name] = t.partitions;
  std::vector<RouteSpec> out;
  for (const auto& t : *src_topics) {
    if (t.name == kOffsetsTopic || t.name == kHeartbeatsTopic || !cfg.Selects(t.name)) continue;
    const std::string target = cfg.TargetTopic(t.name);
    auto it = dst_parts.find(target);
    if (it == dst_parts.end()) {
      Status c = kafka::CreateTopics(cfg.target_props, {{target, t.partitions}}, kAdminTimeout);
      auto again = c.ok() ? kafka::ListTopics(cfg.target_props, kAdminTimeout) : c.error();
      int32_t n = 0;
      if (again) {
        for (const auto& d : *again) n = d.name == target ? d.partitions : n;
      }
      if (n == 0) {
        fatal = true;
        return Error(Errc::kNotFound,
                     fmt::format("target topic '{}' is missing in {} and could not be created ({}); "
                                 "create it with {} partitions (on devkafka: --topic {}:{})",
                                 target, cfg.target_alias,
                                 c.ok() ? "not visible after creation" : c.error().message,
                                 t.partitions, target, t.partitions));
      }
      it = dst_parts.emplace(target, n).first;
      Logger("mirror")->info("flow {}: created target topic {} with {} partitions", cfg.Name(),
                             target, n);
    }
    if (it->second < t.partitions) {
      fatal = true;
      return Error(Errc::kInvalidArgument,
                   fmt::format("target topic '{}' in {} has {} partitions, fewer than the {} of "
                               "source topic '{}' in {}: refusing (partition numbers are kept)",
                               target, cfg.target_alias, it->second, t.partitions, t.name,
                               cfg.source_alias));
    }
    for (int32_t p = 0; p < t.partitions; ++p) {
      out.push_back({.route = {.topic = t.name,
                               .partition = p,
                               .target_topic = target,
                               .provenance = SrcHeaderPrefix(cfg.source_alias, t.name, p)},
                     .gauges = &probe.Partition(t.name, p)});
    }
  }
  if (out.empty()) {
    return Error(Errc::kNotFound, fmt::format("no topic in {} matches {}", cfg.source_alias,
                                              fmt::join(cfg.topics, ",")));
  }
  return out;
}

FlowRun::FlowRun(const FlowConfig& cfg, MirrorProbe& probe, const std::atomic<bool>& stop,
                 std::atomic<bool>& halt, size_t worker, size_t workers)
    : cfg_(cfg),
      probe_(probe),
      stop_(stop),
      halt_(halt),
      worker_(worker),
      workers_(workers),
      name_(cfg.Name()) {}

Status FlowRun::Open() {
  // Latency-oriented defaults (override with --target-X): a record leaves at once (linger 0;
  // under a backlog librdkafka still fills batches while earlier requests are in flight).
  kafka::Properties pprops = {{"linger.ms", "0"}, {"reconnect.backoff.max.ms", "1000"}};
  if (cfg_.transactions) {
    std::string id = "walrus-mirror." + cfg_.source_alias + "." + cfg_.target_alias;
    if (worker_ > 0) id += "." + std::to_string(worker_);
    pprops.insert(pprops.end(), {{"transactional.id", id},
                                 {"transaction.timeout.ms", "60000"},
                                 {"message.timeout.ms", "60000"}});
  } else {
    // Never give up on a record (a target outage just waits); never leave a gap.
    pprops.insert(pprops.end(), {{"message.timeout.ms", "0"}, {"enable.gapless.guarantee", "true"}});
  }
  // User properties (and bootstrap.servers) after our defaults, so they win.
  pprops.insert(pprops.end(), cfg_.target_props.begin(), cfg_.target_props.end());
  // A short fetch.wait.max.ms: on the mock cluster, which holds an empty fetch for the whole
  // wait, it is pure latency (bench/mirror_bench.py). Raise it with --source-X.
  kafka::Properties cprops = {{"fetch.wait.max.ms", "5"}, {"isolation.level", "read_committed"},
                              {"reconnect.backoff.max.ms", "1000"},
                              {"queued.min.messages", "1000000"},
                              {"queued.max.messages.kbytes", "131072"},
                              // librdkafka 2.0 backs a partition off by this much when its fetch
                              // queue is full (500 ms by default): stalls a fast mirror.
                              {"fetch.error.backoff.ms", "20"}};
  cprops.insert(cprops.end(), cfg_.source_props.begin(), cfg_.source_props.end());
  // Transactional: every commit flushes, so per-record delivery reports would buy nothing.
  auto fw = kafka::Forwarder::Create({.source = cprops,
                                      .target = pprops,
                                      .provenance_header = kSrcHeader,
                                      .src_key = cfg_.src_keys.empty()
                                                     ? std::nullopt
                                                     : std::optional(cfg_.src_keys.signing()),
                                      .cancel = &halt_,
                                      .per_record_acks = !cfg_.transactions});
  if (!fw) return fw.error();
  fw_ = std::move(*fw);
  if (cfg_.transactions) return fw_->InitTransactions(kTxTimeout);
  return Status::Ok();
}

Result<std::string> FlowRun::SourceClusterId() const {
  return fw_->SourceClusterId(milliseconds(5000));
}

Status FlowRun::Start(std::vector<RouteSpec> routes, const std::vector<std::string>& warm,
                      const std::vector<std::pair<std::string, std::string>>& state) {
  // The producer learns the metadata of every topic it writes now, not on the first record
  // (~1 s each for a topic librdkafka does not know yet). Best effort.
  if (Status s = fw_->WarmUp(warm, kAdminTimeout); !s.ok()) {
    Logger("mirror")->warn("flow {}: target metadata warm-up: {}", name_, s.error().message);
  }
  routes_ = std::move(routes);
  std::vector<kafka::Forwarder::Route> assign;
  for (const auto& r : routes_) {
    assign.push_back(r.route);
    committed_.push_back(r.route.start >= 0 ? r.route.start : -1);
  }
  if (Status s = fw_->Assign(std::move(assign)); !s.ok()) return s;
  if (workers_ > 1) {
    Logger("mirror")->info("flow {}: worker {}/{} copies {} partitions", name_, worker_ + 1,
                           workers_, routes_.size());
  }
  last_commit_ = last_stats_ = Clock::now();
  last_hb_ = last_commit_ - std::chrono::hours(1);
  // Warm-up commit before the first record, so the producer's first transaction is paid now,
  // not while copying. Worker 0 adds a "<src>:<dst>/started" marker (value: wall ms).
  if (worker_ == 0) {
    if (Status s = fw_->Produce(kOffsetsTopic, name_ + "/started", std::to_string(WallMs()));
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [key, value] : state) {
    if (Status s = fw_->Produce(kOffsetsTopic, key, value); !s.ok()) return s;
  }
  if (Status s = Commit(false); !s.ok()) return s;
  if (!cfg_.transactions) (void)fw_->Flush(kAdminTimeout);
  return fw_->Failure();
}

// Writes the positions the target can vouch for (and, worker 0, a heartbeat when due).
// Transactional: the transaction's records are flushed (acknowledged) first, then their
// positions are produced and everything commits together. At-least-once: positions of
// acknowledged records only.
Status FlowRun::Commit(bool final) {
  const auto now = Clock::now();
  const bool hb_due = worker_ == 0 && now - last_hb_ >= cfg_.heartbeat_interval;
  if (cfg_.transactions) {
    if (!fw_->InTransaction() && !hb_due) return Status::Ok();
    if (Status s = fw_->Flush(kTxTimeout); !s.ok()) return s;
  } else if (final) {
    (void)fw_->Flush(std::chrono::seconds(10));  // what is still in flight stays uncommitted
  } else {
    fw_->Serve();
  }
  if (Status s = fw_->Failure(); !s.ok()) return s;
  std::vector<std::pair<size_t, int64_t>> moved;
  const auto& progress = fw_->progress();
  for (size_t i = 0; i < routes_.size(); ++i) {
    const int64_t c = progress[i].Committable();
    if (c > committed_[i]) moved.emplace_back(i, c);
  }
  for (auto [i, c] : moved) {
    const auto& r = routes_[i].route;
    Status s = fw_->Produce(kOffsetsTopic, PositionKey(cfg_.source_alias, r.topic, r.partition),
                            std::to_string(c));
    if (!s.ok()) return s;
  }
  if (hb_due) {
    if (Status s = fw_->Produce(kHeartbeatsTopic, name_, std::to_string(WallMs())); !s.ok()) {
      return s;
    }
    last_hb_ = now;
  }
  if (cfg_.transactions && fw_->InTransaction()) {
    if (Status s = fw_->CommitTransaction(kTxTimeout); !s.ok()) {
      (void)fw_->AbortTransaction(kTxTimeout);
      return s;
    }
  } else if (final) {
    if (Status s = fw_->Flush(std::chrono::seconds(10)); !s.ok()) return s;
  }
  for (auto [i, c] : moved) {
    committed_[i] = c;
    routes_[i].gauges->position->Set(static_cast<double>(c));
  }
  if (!moved.empty()) probe_.commits.Increment();
  last_commit_ = now;
  return fw_->Failure();
}

Status FlowRun::Copy() {
  // While the source has a backlog (full batches), commits are spaced to >= 10x their own cost,
  // so a transaction's flush + commit takes at most ~10% of the time; otherwise commit_interval.
  milliseconds commit_cost{0};
  const std::string target = cfg_.target_alias;
  const kafka::Forwarder::SkipFn loop_guard = [&target](const kafka::Forwarder::View& v) {
    return LoopsBack(v.header(kSrcHeader), v.header(kOriginHeader), target);
  };
  Status result, stopped;
  while (!Halted()) {
    auto n = fw_->Pump(cfg_.batch_max, milliseconds(50), loop_guard);
    if (!n) {
      result = n.error();
      break;
    }
    if (!fw_->out_of_range().empty()) {  // rare: an error event, checked once per batch
      stopped = OutOfRange();
      break;
    }
    const auto now = Clock::now();
    const auto& t = fw_->totals();
    probe_.records.Increment(static_cast<double>(t.acked - reported_.acked));
    probe_.bytes.Increment(static_cast<double>(t.bytes - reported_.bytes));
    probe_.skipped_loop.Increment(static_cast<double>(t.skipped - reported_.skipped));
    reported_ = t;
    const milliseconds interval =
        *n >= cfg_.batch_max ? std::clamp(commit_cost * 10, cfg_.commit_interval, milliseconds(2000))
                             : cfg_.commit_interval;
    if (now - last_commit_ >= interval) {
      if (result = Commit(false); !result.ok()) break;
      commit_cost = std::chrono::duration_cast<milliseconds>(Clock::now() - now);
    }
    if (now - last_stats_ >= std::chrono::seconds(1)) UpdateStats(now);
  }
  halt_ = true;  // the run's other workers stop too
  // Graceful stop: everything taken so far is committed.
  if (!result.ok()) return result;
  if (Status s = Commit(true); !s.ok()) return s;
  return stopped;
}

Status FlowRun::OutOfRange() {
  auto log = Logger("mirror");
  std::string what;
  for (const auto& e : fw_->out_of_range()) {
    const auto& r = routes_[e.route].route;
    probe_.fetch_out_of_range.Increment();
    log->warn("flow {}: source fetch position {} of {}[{}] is not in the source log; not "
              "resetting it, re-checking the stored position against the log",
              name_, e.offset, r.topic, r.partition);
    if (what.empty()) what = fmt::format("{}[{}] at {}", r.topic, r.partition, e.offset);
  }
  return Error(Errc::kUnavailable,
               fmt::format("source fetch position out of the log ({}); re-checking", what));
}

void FlowRun::UpdateStats(Clock::time_point now) {
  if (worker_ == 0) {  // flow-wide rates (the counters are shared by the workers)
    const double secs = std::chrono::duration<double>(now - last_stats_).count();
    const double r = probe_.records.Value(), b = probe_.bytes.Value();
    probe_.records_per_second.Set((r - last_records_) / secs);
    probe_.bytes_per_second.Set((b - last_bytes_) / secs);
    last_records_ = r;
    last_bytes_ = b;
  }
  last_stats_ = now;
  const int64_t wall = WallMs();
  const auto& progress = fw_->progress();
  for (size_t i = 0; i < routes_.size(); ++i) {
    auto wm = fw_->Watermarks(i);
    if (!wm) continue;
    const auto& p = progress[i];
    const int64_t lag = dataset::MirrorPositionLag(p.taken_next, wm->first, wm->second);
    routes_[i].gauges->lag_records->Set(static_cast<double>(lag));
    routes_[i].gauges->lag_ms->Set(lag > 0 && p.last_ts > 0 ? static_cast<double>(wall - p.last_ts)
                                                            : 0.0);
  }
}

}  // namespace walrus::mirror
