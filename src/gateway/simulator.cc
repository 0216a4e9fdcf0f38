#include "gateway/simulator.h"

#include <random>
#include <thread>

#include "core/log.h"
#include "gateway/api_request.h"

namespace walrus::gateway {
namespace {

using namespace std::chrono_literals;

constexpr auto kTick = 5ms;
constexpr auto kRepublish = 2s;

}  // namespace

Simulator::Simulator(const GatewayConfig& cfg, std::vector<Region*> regions, EventHub& hub,
                     GatewayProbe& probe, const std::atomic<bool>& stop)
    : cfg_(cfg), regions_(std::move(regions)), hub_(hub), probe_(probe), stop_(stop),
      rate_(cfg.sim_rate) {
  std::vector<std::string> names;
  for (Region* r : regions_) names.push_back(r->name());
  mix_ = std::make_unique<SimMix>(SimMix::Options{.regions = names, .seed = std::random_device()()});
  running_ = cfg.sim_autostart;
}

std::string Simulator::Json() const {
  nlohmann::json mix = nlohmann::json::object();
  for (size_t k = 0; k < kSimKinds; ++k) {
    mix[std::string(SimKindName(static_cast<SimKind>(k)))] = counters_->mix[k].load();
  }
  return DumpJson({{"running", running_.load()},
                   {"rate", rate_.load()},
                   {"sent", counters_->sent.load()},
                   {"errors", counters_->errors.load()},
                   {"in_flight", counters_->in_flight.load()},
                   {"skipped", counters_->skipped.load()},
                   {"mix", std::move(mix)}});
}

std::string Simulator::Start(std::optional<int> rate) {
  if (rate) rate_ = *rate;
  if (!running_.exchange(true)) Logger("gateway")->info("simulator started at {} ops/s", rate_.load());
  changed_ = true;
  return Json();
}

std::string Simulator::Stop() {
  if (running_.exchange(false)) Logger("gateway")->info("simulator stopped");
  changed_ = true;
  return Json();
}

std::string Simulator::SetRate(int rate) {
  rate_ = rate;
  changed_ = true;
  return Json();
}

void Simulator::PublishState() { hub_.Publish("sim", Json()); }

void Simulator::SendStep(const SimStep& step) {
  const size_t kind = static_cast<size_t>(step.kind);
  for (const auto& op : step.ops) {
    Region* region = nullptr;
    for (Region* r : regions_) {
      if (r->name() == op.region) region = r;
    }
    auto c = counters_;
    ++c->in_flight;
    auto* ops_counter = &probe_.SimOps(SimKindName(step.kind));
    auto* err_counter = &probe_.sim_errors;
    Status st = region->Send(op.write, [c, kind, ops_counter, err_counter](const client::Ack& ack) {
          --c->in_flight;
          if (ack.status) {
            ++c->sent;
            ++c->mix[kind];
            ops_counter->Increment();
          } else {
            ++c->errors;
            err_counter->Increment();
          }
        });
    if (!st) {
      --c->in_flight;
      ++c->errors;
      err_counter->Increment();
      WALRUS_LOG_EVERY_MS(Logger("gateway"), warn, 5000, "simulator: {} refused: {}", op.region,
                          st.error().message);
    }
  }
}

void Simulator::Run() {
  auto last = std::chrono::steady_clock::now();
  auto last_publish = last;
  double budget = 0;
  while (!stop_.load()) {
    std::this_thread::sleep_for(kTick);
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    last = now;
    if (running_.load()) {
      if (!stocked_) {
        stocked_ = true;
        for (const auto& s : mix_->InitialStock()) SendStep(s);
      }
      const double rate = rate_.load();
      // At most 100 ms worth of catch-up after a stall, so a hiccup does not become a burst.
      budget = std::min(budget + rate * dt, std::max(1.0, rate * 0.1));
      while (budget >= 1 && counters_->in_flight.load() < kMaxInFlight) {
        SimStep step = mix_->Next();
        budget -= static_cast<double>(step.ops.size());
        SendStep(step);
      }
      if (counters_->in_flight.load() >= kMaxInFlight && budget >= 1) {
        counters_->skipped += static_cast<int64_t>(budget);  // Kafka cannot keep up
        budget = 0;
      }
    } else {
      budget = 0;
    }
    if (changed_.exchange(false) || now - last_publish >= kRepublish) {
      last_publish = now;
      PublishState();
    }
  }
}

}  // namespace walrus::gateway
