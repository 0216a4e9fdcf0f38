// The JSON API of the gateway (docs/gateway-api.md): produce, regions and their state, keys,
// convergence, flows and the simulator. Registered on the http::Router by AddApiRoutes; run on
// HTTP worker threads.

#include <chrono>

#include "gateway/api_request.h"
#include "gateway/gateway_context.h"

namespace walrus::gateway {
namespace {

// The HTTP status of a produce failure: the client's fault (400) or Kafka's (503).
int ProduceErrorStatus(const Error& e) {
  if (e.Is(Errc::kInvalidArgument) || e.Is(Errc::kRefused) || e.Is(Errc::kDecode)) return 400;
  return 503;
}

Region* RegionOr404(GatewayContext& ctx, const http::Params& p, http::Response& res) {
  Region* r = ctx.FindRegion(p.at("region"));
  if (r == nullptr) http::ReplyError(res, 404, "unknown region '" + p.at("region") + "'");
  return r;
}

void Produce(GatewayContext& ctx, const http::Request& req, http::Response& res) {
  const auto start = std::chrono::steady_clock::now();
  auto pr = ParseProduceRequest(req.body, ctx.cfg.validate_crdt);
  if (!pr) return http::ReplyError(res, 400, pr.error().message);
  Region* region = ctx.FindRegion(pr->region);
  if (region == nullptr) return http::ReplyError(res, 404, "unknown region '" + pr->region + "'");
  auto ack = region->SendSync(std::move(pr->write), ctx.cfg.produce_timeout);
  Status st = ack ? ack->status : Status(ack.error());
  if (!st) {
    const int status = ProduceErrorStatus(st.error());
    return http::ReplyError(
        res, status,
        (status == 503 ? "kafka of region " + region->name() + ": " : std::string()) +
            st.error().message);
  }
  ctx.probe.ProduceSeconds(region->name())
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  http::ReplyJson(res, 200,
                  DumpJson({{"region", region->name()},
                            {"topic", ack->topic},
                            {"partition", ack->partition},
                            {"offset", ack->offset},
                            {"origin", ack->origin},
                            {"hlc", ack->hlc}}));
}

void Regions(GatewayContext& ctx, http::Response& res) {
  nlohmann::json a = nlohmann::json::array();
  for (Region* r : ctx.regions) a.push_back({{"name", r->name()}, {"topic", r->topic()}});
  http::ReplyJson(res, 200, DumpJson({{"regions", std::move(a)}}));
}

void State(GatewayContext& ctx, const http::Params& p, http::Response& res) {
  Region* r = RegionOr404(ctx, p, res);
  if (r == nullptr) return;
  auto snap = r->state().Read(ctx.cfg.state_max_keys);
  if (!snap) {
    return http::ReplyJson(
        res, 503,
        DumpJson({{"error", "redis of region " + r->name() + ": " + snap.error().message},
                  {"region", r->name()},
                  {"reachable", false}}));
  }
  nlohmann::json data = nlohmann::json::object();
  for (const auto& kv : snap->data) data[kv.key] = KeyJson(kv);
  http::ReplyJson(res, 200,
                  DumpJson({{"region", r->name()},
                            {"reachable", true},
                            {"digest", snap->digest},
                            {"keys", snap->keys},
                            {"truncated", snap->truncated},
                            {"data", std::move(data)}}));
}

void Key(GatewayContext& ctx, const http::Params& p, http::Response& res) {
  Region* r = RegionOr404(ctx, p, res);
  if (r == nullptr) return;
  const std::string& key = p.at("key");
  if (!IsUserKey(key)) {
    return http::ReplyError(res, 404, "key '" + key + "' is walrus metadata, not user data");
  }
  auto kv = r->state().ReadKey(key);
  if (!kv) {
    return http::ReplyError(res, 503, "redis of region " + r->name() + ": " + kv.error().message);
  }
  if (!kv->has_value()) {
    return http::ReplyError(res, 404, "no key '" + key + "' in region " + r->name());
  }
  nlohmann::json j = KeyJson(**kv);
  j["region"] = r->name();
  j["key"] = key;
  http::ReplyJson(res, 200, DumpJson(j));
}

void SimStart(GatewayContext& ctx, const http::Request& req, http::Response& res) {
  auto rate = ParseRateBody(req.body, false);
  if (!rate) return http::ReplyError(res, 400, rate.error().message);
  http::ReplyJson(res, 200, ctx.sim.Start(*rate));
}

void SimRate(GatewayContext& ctx, const http::Request& req, http::Response& res) {
  auto rate = ParseRateBody(req.body, true);
  if (!rate) return http::ReplyError(res, 400, rate.error().message);
  http::ReplyJson(res, 200, ctx.sim.SetRate(**rate));
}

}  // namespace

void AddApiRoutes(http::Router& router, GatewayContext& ctx) {
  GatewayContext* c = &ctx;
  router.Add("POST", "/api/produce", true,
             [c](const http::Request& req, http::Response& res, const http::Params&) {
               Produce(*c, req, res);
             });
  router.Add(
      "GET", "/api/regions", false,
      [c](const http::Request&, http::Response& res, const http::Params&) { Regions(*c, res); });
  router.Add(
      "GET", "/api/regions/:region/state", false,
      [c](const http::Request&, http::Response& res, const http::Params& p) { State(*c, p, res); });
  router.Add(
      "GET", "/api/regions/:region/key/*key", false,
      [c](const http::Request&, http::Response& res, const http::Params& p) { Key(*c, p, res); });
  router.Add("GET", "/api/convergence", false,
             [c](const http::Request&, http::Response& res, const http::Params&) {
               http::ReplyJson(res, 200, c->convergence.Json());
             });
  router.Add("GET", "/api/flows", false,
             [c](const http::Request&, http::Response& res, const http::Params&) {
               http::ReplyJson(res, 200, c->flows.Json());
             });
  router.Add("GET", "/api/sim", false,
             [c](const http::Request&, http::Response& res, const http::Params&) {
               http::ReplyJson(res, 200, c->sim.Json());
             });
  router.Add("POST", "/api/sim/start", true,
             [c](const http::Request& req, http::Response& res, const http::Params&) {
               SimStart(*c, req, res);
             });
  router.Add("POST", "/api/sim/stop", true,
             [c](const http::Request&, http::Response& res, const http::Params&) {
               http::ReplyJson(res, 200, c->sim.Stop());
             });
  router.Add("POST", "/api/sim/rate", true,
             [c](const http::Request& req, http::Response& res, const http::Params&) {
               SimRate(*c, req, res);
             });
}

}  // namespace walrus::gateway
