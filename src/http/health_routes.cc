#include "http/health_routes.h"

#include <exception>
#include <nlohmann/json.hpp>

namespace walrus::http {

Response CheckResponse(const HealthCheck& check) {
  bool ok = true;
  std::string detail;
  if (check) {
    try {
      std::tie(ok, detail) = check();
    } catch (const std::exception& e) {
      ok = false;
      detail = std::string("check failed: ") + e.what();
    }
  }
  nlohmann::json body{{"status", ok ? "ok" : "unavailable"}, {"detail", detail}};
  return Response::Json(ok ? 200 : 503,
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void AddHealthRoutes(Router& r, HealthRoutes h) {
  r.Add(
      "GET", "/healthz", false,
      [check = std::move(h.liveness)](const Request&, Response& res, const Params&) {
        res = CheckResponse(check);
      },
      h.liveness_lane);
  r.Add(
      "GET", "/readyz", false,
      [check = std::move(h.readiness)](const Request&, Response& res, const Params&) {
        res = CheckResponse(check);
      },
      h.readiness_lane);
  r.Add(
      "GET", "/metrics", false,
      [metrics = std::move(h.metrics)](const Request&, Response& res, const Params&) {
        res.status = 200;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = metrics ? metrics() : std::string();
      },
      Lane::kInline);
}

}  // namespace walrus::http
