#pragma once

// GatewayContext: what the HTTP routes of the gateway work with — references to the service's
// components, built once by GatewayService and borrowed by every handler.
//
//   http::Router router;
//   AddApiRoutes(router, ctx);      // api_routes.h
//   AddEventRoute(router, ctx);     // GET /api/events
//   AddOpsRoutes(router, ctx);      // /healthz /readyz /metrics
//   AddStaticRoutes(router);        // the dashboard
//
// Ownership: owns nothing; GatewayService keeps every referenced component alive until the HTTP
// server has stopped. Threading: the components are thread-safe; HTTP workers share the context.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/convergence_monitor.h"
#include "gateway/event_hub.h"
#include "gateway/flow_monitor.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_probe.h"
#include "gateway/region.h"
#include "gateway/simulator.h"
#include "http/router.h"
#include "metrics/registry.h"

namespace walrus::gateway {

struct GatewayContext {
  const GatewayConfig& cfg;
  std::vector<Region*> regions;
  EventHub& hub;
  GatewayProbe& probe;
  metrics::Registry& registry;
  Simulator& sim;
  ConvergenceMonitor& convergence;
  FlowMonitor& flows;
  // {ready, detail}: every region's Kafka and Redis reachable, event consumers assigned.
  std::function<std::pair<bool, std::string>()> readiness;

  Region* FindRegion(std::string_view name) const {
    for (Region* r : regions) {
      if (r->name() == name) return r;
    }
    return nullptr;
  }
};

void AddApiRoutes(http::Router& router, GatewayContext& ctx);
void AddEventRoute(http::Router& router, GatewayContext& ctx);
void AddOpsRoutes(http::Router& router, GatewayContext& ctx);
void AddStaticRoutes(http::Router& router);

}  // namespace walrus::gateway
