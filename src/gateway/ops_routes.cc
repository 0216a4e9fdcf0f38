// /healthz, /readyz and /metrics on the gateway's HTTP port (http/health_routes.h, the same
// answers as every admin port), and the dashboard's static files (built in when src/gateway/web/
// exists: WALRUS_GATEWAY_HAS_WEB).
// Lanes (http/server.h): /healthz, /metrics and the static files run on the I/O thread (no
// blocking, never queued behind produce requests); /readyz pings every region's Redis, so it
// runs on the reserved lane, also never behind the worker queue.

#include "gateway/gateway_context.h"
#include "http/health_routes.h"

#ifdef WALRUS_GATEWAY_HAS_WEB
#include "gateway/web/assets.h"
#endif

namespace walrus::gateway {
namespace {

constexpr const char* kNoWebPage =
    "walrus gateway\n\n"
    "This binary was built without the dashboard (src/gateway/web). The API is served:\n"
    "  GET  /api/regions, /api/regions/<r>/state, /api/regions/<r>/key/<k>\n"
    "  GET  /api/convergence, /api/flows, /api/sim, /api/events (SSE)\n"
    "  POST /api/produce, /api/sim/start, /api/sim/stop, /api/sim/rate (Bearer token)\n"
    "  GET  /healthz, /readyz, /metrics\n";

void ServeAsset(const http::Request& req, http::Response& res) {
#ifdef WALRUS_GATEWAY_HAS_WEB
  const std::string path = req.path == "/" ? "/index.html" : req.path;
  if (const auto* a = web::FindAsset(path)) {
    res.status = 200;
    res.SetHeader("Cache-Control", "no-cache");
    res.content_type = std::string(a->content_type);
    res.body = std::string(a->body);
    return;
  }
  http::ReplyError(res, 404, "not found: " + req.path);
#else
  if (req.path != "/") return http::ReplyError(res, 404, "not found: " + req.path);
  res.status = 200;
  res.SetHeader("Cache-Control", "no-cache");
  res.content_type = "text/plain; charset=utf-8";
  res.body = kNoWebPage;
#endif
}

}  // namespace

void AddOpsRoutes(http::Router& router, GatewayContext& ctx) {
  GatewayContext* c = &ctx;
  http::AddHealthRoutes(router, {.liveness =
                                     [] {
                                       return std::pair{true, std::string("serving")};
                                     },
                                 .readiness = [c] { return c->readiness(); },
                                 .metrics = [c] { return c->registry.Serialize(); },
                                 .liveness_lane = http::Lane::kInline});
}

void AddStaticRoutes(http::Router& router) {
  router.Add(
      "GET", "/", false,
      [](const http::Request& req, http::Response& res, const http::Params&) {
        ServeAsset(req, res);
      },
      http::Lane::kInline);
#ifdef WALRUS_GATEWAY_HAS_WEB
  for (size_t i = 0; i < web::AssetCount(); ++i) {
    router.Add(
        "GET", "/" + std::string(web::AssetPath(i)), false,
        [](const http::Request& req, http::Response& res, const http::Params&) {
          ServeAsset(req, res);
        },
        http::Lane::kInline);
  }
#endif
}

}  // namespace walrus::gateway
