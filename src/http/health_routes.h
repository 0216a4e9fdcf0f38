#pragma once

// The health endpoints of every walrus HTTP port (AdminServer's --admin ports, the gateway),
// defined once:
//
//   GET /healthz  liveness:  200 {"detail":…,"status":"ok"} or 503
//   {"detail":…,"status":"unavailable"} GET /readyz   readiness: the same shape GET /metrics  the
//   exposition text, Content-Type text/plain; version=0.0.4; charset=utf-8
//
//   Router r;
//   AddHealthRoutes(r, {.readiness = [&] { return std::pair{joined.load(), std::string("group")};
//   },
//                       .metrics = [&] { return registry.Serialize(); }});
//
// A check that throws counts as unavailable ("check failed: …"). Checks run on the lane given
// (kReserved by default: they may do I/O; kInline only for a check that never blocks); /metrics
// runs on the I/O thread. Checks must be cheap and thread-safe.

#include <functional>
#include <string>
#include <utility>

#include "http/message.h"
#include "http/router.h"
#include "http/server.h"

namespace walrus::http {

// Returns {ok, detail}.
using HealthCheck = std::function<std::pair<bool, std::string>()>;

struct HealthRoutes {
  HealthCheck liveness;                  // null: always {true, ""}
  HealthCheck readiness;                 // null: always {true, ""}
  std::function<std::string()> metrics;  // null: /metrics answers an empty body
  Lane liveness_lane = Lane::kReserved;
  Lane readiness_lane = Lane::kReserved;
};

// Adds GET /healthz, /readyz and /metrics to `r`.
void AddHealthRoutes(Router& r, HealthRoutes h);

// The answer of a check: 200 / 503 with {"detail","status"}.
Response CheckResponse(const HealthCheck& check);

}  // namespace walrus::http
