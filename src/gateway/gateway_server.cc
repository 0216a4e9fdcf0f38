#include "gateway/gateway_server.h"

#include <exception>

#include "core/log.h"
#include "gateway/api_request.h"

namespace walrus::gateway {

GatewayServer::GatewayServer(const GatewayConfig& cfg, const Router& router, GatewayProbe& probe,
                             const TokenAuth& auth, metrics::Registry& registry)
    : cfg_(cfg), router_(router), probe_(probe), auth_(auth), registry_(registry) {}

GatewayServer::~GatewayServer() { Stop(); }

http::Lane GatewayServer::LaneOf(const http::Request& req) const {
  auto m = router_.Find(req.method, req.path);
  // 404/405/401 answers are cheap: no need to queue them behind slow work.
  if (m.route == nullptr) return http::Lane::kInline;
  const std::string* authz = req.Header("authorization");
  if (m.route->needs_auth && !auth_.Allows(authz ? std::string_view(*authz) : "")) {
    return http::Lane::kInline;
  }
  return m.route->lane;
}

http::Response GatewayServer::Serve(const http::Request& req) const {
  http::Response res;
  auto m = router_.Find(req.method, req.path);
  const std::string* authz = req.Header("authorization");
  if (m.route == nullptr) {
    if (m.allow.empty()) {
      ReplyError(res, 404, "no route " + req.method + " " + req.path);
    } else {
      res.SetHeader("Allow", m.allow);
      ReplyError(res, 405, req.method + " not allowed on " + req.path + " (allowed: " + m.allow + ")");
    }
  } else if (m.route->needs_auth && !auth_.Allows(authz ? std::string_view(*authz) : "")) {
    res.SetHeader("WWW-Authenticate", "Bearer realm=\"walrus\"");
    ReplyError(res, 401,
               authz ? "wrong token in Authorization: Bearer" : "missing Authorization: Bearer <token>");
  } else {
    try {
      m.route->handler(req, res, m.params);
    } catch (const std::exception& e) {
      Logger("gateway")->error("{} {} threw: {}", req.method, req.path, e.what());
      res = http::Response();
      ReplyError(res, 500, std::string("internal error: ") + e.what());
    }
  }
  probe_.Request(m.pattern.empty() ? "other" : m.pattern, res.status);
  return res;
}

Status GatewayServer::Start() {
  if (server_) return Error(Errc::kInvalidArgument, "gateway server already started");
  http::ServerOptions o;
  o.addr = cfg_.http;
  o.name = "gateway";
  o.io_threads = cfg_.http_io_threads;
  o.workers = cfg_.http_threads;
  o.worker_queue = static_cast<size_t>(cfg_.http_threads) * 4;
  o.reserved_workers = 2;
  o.max_connections = cfg_.max_connections;
  o.header_timeout = cfg_.header_timeout;
  o.body_timeout = cfg_.body_timeout;
  o.idle_timeout = cfg_.idle_timeout;
  o.write_timeout = cfg_.body_timeout;
  o.max_header_bytes = cfg_.max_header_bytes;
  o.max_headers = cfg_.max_headers;
  o.max_body_bytes = kMaxBodyBytes;
  o.stream_buffer_bytes = cfg_.sse_buffer_bytes;
  o.default_headers = {{"Content-Security-Policy", kContentSecurityPolicy},
                       {"X-Content-Type-Options", "nosniff"},
                       {"X-Frame-Options", "DENY"},
                       {"Referrer-Policy", "no-referrer"}};
  o.registry = &registry_;
  o.metrics_prefix = "walrus_gateway_http";
  // What the server refuses itself (400 framing, 408, 413, 431, 503 over the caps) is counted
  // with the requests, as route "other".
  o.on_refusal = [this](int status) { probe_.Request("other", status); };
  auto s = std::make_unique<http::Server>(
      std::move(o), [this](const http::Request& r) { return Serve(r); },
      [this](const http::Request& r) { return LaneOf(r); });
  if (auto st = s->Start(); !st) return st;
  server_ = std::move(s);
  return Status::Ok();
}

void GatewayServer::Stop() {
  if (!server_) return;
  server_->Stop();
  server_.reset();
}

}  // namespace walrus::gateway
