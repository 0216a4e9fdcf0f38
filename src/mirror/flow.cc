#include "mirror/flow.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "core/log.h"
#include "mirror/flow_run.h"
#include "kafka/mirror_state.h"
#include "mirror/record_copy.h"

namespace walrus::mirror {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Flow::Flow(FlowConfig cfg, MirrorProbe& probe, const std::atomic<bool>& stop)
    : cfg_(std::move(cfg)), probe_(probe), stop_(stop) {}

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
  // 2. The workers' clients: transactional producers fence their previous instances (aborting
  //    open transactions) before the positions are read back.
  const size_t n = std::clamp<size_t>(cfg_.workers, 1, routes->size());
  std::atomic<bool> halt{false};
  std::vector<std::unique_ptr<FlowRun>> workers;
  for (size_t i = 0; i < n; ++i) {
    workers.push_back(std::make_unique<FlowRun>(cfg_, probe_, stop_, halt, i, n));
    if (Status s = workers.back()->Open(); !s.ok()) return s;
  }
  // 3. Positions, from the target; partitions dealt to the workers round-robin.
  auto positions = kafka::ReadMirrorPositions(cfg_.target_props, std::chrono::seconds(30));
  if (!positions) return positions.error();
  std::vector<std::vector<RouteSpec>> shares(n);
  std::vector<std::string> warm = {kOffsetsTopic, kHeartbeatsTopic};
  size_t stored = 0;
  for (size_t i = 0; i < routes->size(); ++i) {
    RouteSpec& r = (*routes)[i];
    auto pos = positions->find(PositionKey(cfg_.source_alias, r.route.topic, r.route.partition));
    if (pos != positions->end()) {
      r.route.start = pos->second;
      r.gauges->position->Set(static_cast<double>(pos->second));
      ++stored;
    }
    if (std::find(warm.begin(), warm.end(), r.route.target_topic) == warm.end()) {
      warm.push_back(r.route.target_topic);
    }
    shares[i % n].push_back(std::move(r));
  }
  for (size_t i = 0; i < n; ++i) {
    if (Status s = workers[i]->Start(std::move(shares[i]), warm); !s.ok()) return s;
  }
  Logger("mirror")->info("flow {}: copying {} partitions ({} with a stored position) into {}{}",
                         cfg_.Name(), routes->size(), stored, cfg_.target_alias,
                         n > 1 ? fmt::format(" with {} workers", n) : "");
  ready_ = true;
  SetDetail(fmt::format("copying {} partitions", routes->size()));
  // 4. Copy: worker 0 on this thread, the others on their own; the first to stop halts all.
  std::vector<Status> results(n);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) {
    threads.emplace_back([&, i] { results[i] = workers[i]->Copy(); });
  }
  results[0] = workers[0]->Copy();
  for (auto& t : threads) t.join();
  for (auto& r : results) {
    if (!r.ok()) return r;
  }
  return Status::Ok();
}

}  // namespace walrus::mirror
