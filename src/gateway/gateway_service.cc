#include "gateway/gateway_service.h"

#include <fmt/format.h>

#include <chrono>

#include "core/log.h"
#include "gateway/convergence_monitor.h"
#include "gateway/event_hub.h"
#include "gateway/flow_monitor.h"
#include "gateway/gateway_context.h"
#include "gateway/gateway_probe.h"
#include "gateway/gateway_server.h"
#include "gateway/region.h"
#include "gateway/region_events.h"
#include "gateway/simulator.h"
#include "gateway/token_auth.h"
#include "metrics/registry.h"

namespace walrus::gateway {
namespace {

uint64_t FirstEventId() {
  // Unix ms * 1000: a restarted gateway's ids are above any it issued before (< 1000 events/ms).
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) *
         1000;
}

}  // namespace

struct GatewayService::Parts {
  explicit Parts(const GatewayConfig& cfg)
      : registry(std::make_shared<metrics::Registry>()),
        probe(*registry),
        hub({.ring = cfg.event_buffer, .client_queue = cfg.client_queue, .first_id = FirstEventId()}),
        auth(cfg.no_auth ? std::string() : cfg.token) {}

  std::shared_ptr<metrics::Registry> registry;
  GatewayProbe probe;
  EventHub hub;
  TokenAuth auth;
  // Declared before the regions, so destroyed after them: a producer flushing in its
  // destructor may still run the ack hook into its RegionEvents (and the hub, the probe).
  std::vector<std::unique_ptr<RegionEvents>> events;
  std::vector<std::unique_ptr<Region>> regions;
  std::vector<Region*> region_ptrs;
  std::unique_ptr<ConvergenceMonitor> convergence;
  std::unique_ptr<FlowMonitor> flows;
  std::unique_ptr<Simulator> sim;
  std::unique_ptr<GatewayContext> ctx;
  http::Router router;
  std::unique_ptr<GatewayServer> server;
};

GatewayService::GatewayService(GatewayConfig cfg) : cfg_(std::move(cfg)) {}

GatewayService::~GatewayService() { Stop(); }

int GatewayService::port() const { return parts_ && parts_->server ? parts_->server->port() : 0; }

std::pair<bool, std::string> GatewayService::Readiness() {
  if (!parts_) return {false, "not started"};
  bool ok = true;
  std::string detail;
  for (size_t i = 0; i < parts_->regions.size(); ++i) {
    Region& r = *parts_->regions[i];
    auto [kafka_ok, kafka_detail] = r.Kafka();
    Status redis = r.state().Ping();
    const bool events_ok = parts_->events[i]->Ready();
    ok = ok && kafka_ok && redis && events_ok;
    detail += fmt::format("{}{}: kafka {}, redis {}, events {}", detail.empty() ? "" : "; ",
                          r.name(), kafka_ok ? "ok" : kafka_detail,
                          redis ? "ok" : redis.error().message,
                          events_ok ? "ok" : parts_->events[i]->Detail());
  }
  return {ok, detail};
}

Status GatewayService::Start() {
  if (parts_) return Error(Errc::kInvalidArgument, "gateway already started");
  auto p = std::make_unique<Parts>(cfg_);
  std::vector<std::string> names;
  for (const auto& rc : cfg_.regions) {
    auto r = Region::Create(rc, cfg_);
    if (!r) return r.error();
    p->region_ptrs.push_back(r->get());
    p->regions.push_back(std::move(*r));
    names.push_back(rc.name);
  }
  for (Region* r : p->region_ptrs) {
    p->events.push_back(std::make_unique<RegionEvents>(cfg_, *r, names, p->hub, p->probe, stop_));
    RegionEvents* ev = p->events.back().get();
    r->SetAckHook([ev](const Write& w, const client::Ack& a) { ev->PublishAcked(w, a); });
  }
  p->convergence =
      std::make_unique<ConvergenceMonitor>(cfg_, p->region_ptrs, p->hub, p->probe, stop_);
  p->flows = std::make_unique<FlowMonitor>(cfg_, p->region_ptrs, p->hub, p->probe, stop_);
  p->sim = std::make_unique<Simulator>(cfg_, p->region_ptrs, p->hub, p->probe, stop_);
  p->ctx.reset(new GatewayContext{.cfg = cfg_,
                                  .regions = p->region_ptrs,
                                  .hub = p->hub,
                                  .probe = p->probe,
                                  .registry = *p->registry,
                                  .sim = *p->sim,
                                  .convergence = *p->convergence,
                                  .flows = *p->flows,
                                  .readiness = [this] { return Readiness(); }});
  AddApiRoutes(p->router, *p->ctx);
  AddEventRoute(p->router, *p->ctx);
  AddOpsRoutes(p->router, *p->ctx);
  AddStaticRoutes(p->router);
  p->server = std::make_unique<GatewayServer>(cfg_, p->router, p->probe, p->auth, *p->registry);
  parts_ = std::move(p);
  for (auto& e : parts_->events) threads_.emplace_back([&e] { e->Run(); });
  threads_.emplace_back([this] { parts_->convergence->Run(); });
  threads_.emplace_back([this] { parts_->flows->Run(); });
  threads_.emplace_back([this] { parts_->sim->Run(); });
  if (auto st = parts_->server->Start(); !st) {
    Stop();
    return st;
  }
  return Status::Ok();
}

void GatewayService::Stop() {
  if (!parts_) return;
  stop_ = true;
  parts_->hub.Close();
  if (parts_->server) parts_->server->Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (auto& r : parts_->regions) {
    if (auto st = r->producer().Flush(std::chrono::seconds(5)); !st) {
      Logger("gateway")->warn("region {}: unacknowledged writes at exit: {}", r->name(),
                              st.error().message);
    }
  }
  parts_.reset();
}

}  // namespace walrus::gateway
