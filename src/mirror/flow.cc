#include "mirror/flow.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "core/log.h"
#include "kafka/assign_consumer.h"
#include "mirror/flow_run.h"
#include "mirror/record_copy.h"
#include "replication/mirror_state.h"

namespace walrus::mirror {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// How often a flow with held partitions re-reads the mirror state for an operator's decision.
constexpr milliseconds kDecisionPoll{2000};

}  // namespace

Flow::Flow(FlowConfig cfg, MirrorProbe& probe, const std::atomic<bool>& stop)
    : cfg_(std::move(cfg)), probe_(probe), stop_(stop), holds_(cfg_, probe_) {}

std::string Flow::Detail() const {
  std::lock_guard lock(detail_mu_);
  return detail_;
}

void Flow::SetDetail(std::string d) {
  std::lock_guard lock(detail_mu_);
  detail_ = std::move(d);
}

void Flow::Run() {
  auto log = Logger("mirror");
  milliseconds backoff{250};
  while (!stop_.load()) {
    const auto started = Clock::now();
    Status s = RunOnce();
    ready_ = false;
    const std::string msg = s.ok() ? "stopped" : s.error().message;
    if (fatal_.load()) {  // before the stop check: the command stops everything on a fatal error
      log->error("flow {}: {} (not retrying)", cfg_.Name(), msg);
      SetDetail("fatal: " + msg);
      return;
    }
    if (stop_.load()) break;
    probe_.restarts.Increment();
    if (Clock::now() - started > std::chrono::seconds(30)) backoff = milliseconds(250);
    log->warn("flow {}: {}; restarting from the positions in the target in {} ms", cfg_.Name(),
              msg, backoff.count());
    SetDetail("restarting: " + msg);
    for (auto until = Clock::now() + backoff; Clock::now() < until && !stop_.load();) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
  SetDetail("stopped");
}

Status Flow::RunOnce() {
  // 1. What to copy.
  bool fatal = false;
  auto routes = ResolveRoutes(cfg_, probe_, fatal);
  if (fatal) fatal_ = true;
  if (!routes) return routes.error();
  // 2. Positions and holds, from the target; each stored position checked against the source
  //    log. Transactional producers fence their previous instances (aborting open
  //    transactions) before the positions are read back.
  const size_t wanted = std::max<size_t>(cfg_.workers, 1);
  std::atomic<bool> halt{false};
  std::vector<std::unique_ptr<FlowRun>> workers;
  const size_t opened = std::min(wanted, routes->size());
  for (size_t i = 0; i < opened; ++i) {
    workers.push_back(std::make_unique<FlowRun>(cfg_, probe_, stop_, halt, i, opened));
    if (Status s = workers.back()->Open(); !s.ok()) return s;
  }
  auto state = replication::ReadMirrorState(cfg_.target_props, std::chrono::seconds(30));
  if (!state) return state.error();
  size_t stored = 0;
  for (RouteSpec& r : *routes) {
    auto pos = state->positions.find(PositionKey(cfg_.source_alias, r.route.topic, r.route.partition));
    if (pos != state->positions.end()) {
      r.route.start = pos->second;
      r.gauges->position->Set(static_cast<double>(pos->second));
      ++stored;
    }
  }
  std::unique_ptr<kafka::AssignConsumer> source;  // watermark queries, created on first use
  auto query = [&](const std::string& topic, int32_t p) -> Result<std::pair<int64_t, int64_t>> {
    if (!source) {
      auto c = kafka::AssignConsumer::Create(cfg_.source_props);
      if (!c) return c.error();
      source = std::move(*c);
    }
    return source->QueryWatermarks(topic, p, milliseconds(5000));
  };
  const size_t total = routes->size();
  auto cluster = workers[0]->SourceClusterId();
  SourceHolds::Plan plan =
      holds_.Check(std::move(*routes), *state, cluster ? *cluster : std::string(), query);
  source.reset();
  // 3. Partitions dealt to the workers round-robin (held ones are not copied at all; worker 0
  //    runs even with none, for the heartbeats).
  const size_t n = std::clamp<size_t>(opened, 1, std::max<size_t>(plan.copy.size(), 1));
  workers.resize(n);
  std::vector<std::vector<RouteSpec>> shares(n);
  std::vector<std::string> warm = {kOffsetsTopic, kHeartbeatsTopic};
  for (size_t i = 0; i < plan.copy.size(); ++i) {
    RouteSpec& r = plan.copy[i];
    if (std::find(warm.begin(), warm.end(), r.route.target_topic) == warm.end()) {
      warm.push_back(r.route.target_topic);
    }
    shares[i % n].push_back(std::move(r));
  }
  for (size_t i = 0; i < n; ++i) {
    // Worker 0 first writes the holds taken and the decisions applied, before anything is copied.
    if (Status s = workers[i]->Start(std::move(shares[i]), warm,
                                     i == 0 ? plan.records : decltype(plan.records){});
        !s.ok()) {
      return s;
    }
  }
  Logger("mirror")->info("flow {}: copying {} partitions ({} with a stored position{}) into {}{}",
                         cfg_.Name(), total - plan.held, stored,
                         plan.held > 0 ? fmt::format(", {} held", plan.held) : "",
                         cfg_.target_alias, n > 1 ? fmt::format(" with {} workers", n) : "");
  ready_ = true;
  SetDetail(fmt::format("copying {} partitions{}", total - plan.held,
                        plan.held > 0 ? fmt::format(" ({} held)", plan.held) : ""));
  // While partitions are held: a watcher re-reads the mirror state for an operator's decision
  // and restarts the run to apply it.
  std::atomic<bool> decided{false};
  std::thread watcher;
  if (plan.held > 0) {
    watcher = std::thread([&] {
      while (!halt.load() && !stop_.load()) {
        for (auto until = Clock::now() + kDecisionPoll;
             Clock::now() < until && !halt.load() && !stop_.load();) {
          std::this_thread::sleep_for(milliseconds(20));
        }
        if (halt.load() || stop_.load()) return;
        auto now = replication::ReadMirrorState(cfg_.target_props, std::chrono::seconds(10));
        if (now && holds_.Decided(*now)) {
          decided = true;
          halt = true;
        }
      }
    });
  }
  // 4. Copy: worker 0 on this thread, the others on their own; the first to stop halts all.
  std::vector<Status> results(n);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) {
    threads.emplace_back([&, i] { results[i] = workers[i]->Copy(); });
  }
  results[0] = workers[0]->Copy();
  for (auto& t : threads) t.join();
  halt = true;
  if (watcher.joinable()) watcher.join();
  for (auto& r : results) {
    if (!r.ok()) return r;
  }
  if (decided.load() && !stop_.load()) {
    return Error(Errc::kConflict, "an operator decided about a held source partition; restarting "
                                  "the flow to apply it");
  }
  return Status::Ok();
}

}  // namespace walrus::mirror
