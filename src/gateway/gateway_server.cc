#include "gateway/gateway_server.h"

#include <exception>

#include "core/log.h"

namespace walrus::gateway {

GatewayServer::GatewayServer(const GatewayConfig& cfg, const http::Router& router,
                             GatewayProbe& probe, const TokenAuth& auth,
                             metrics::Registry& registry)
    : cfg_(cfg), router_(router), probe_(probe), auth_(auth), registry_(registry) {}

GatewayServer::~GatewayServer() { Stop(); }

http::RoutedServerHooks GatewayServer::Hooks() const {
  http::RoutedServerHooks h;
  h.unrouted = [](const http::Request& req, const std::string& allow, http::Response& res) {
    if (allow.empty()) {
      http::ReplyError(res, 404, "no route " + req.method + " " + req.path);
      return;
    }
    res.SetHeader("Allow", allow);
    http::ReplyError(res, 405,
                     req.method + " not allowed on " + req.path + " (allowed: " + allow + ")");
  };
  h.allows = [this](const http::Request& req) {
    const std::string* authz = req.Header("authorization");
    return auth_.Allows(authz ? std::string_view(*authz) : "");
  };
  h.refuse = [](const http::Request& req, http::Response& res) {
    res.SetHeader("WWW-Authenticate", "Bearer realm=\"walrus\"");
    http::ReplyError(res, 401,
                     req.Header("authorization") ? "wrong token in Authorization: Bearer"
                                                 : "missing Authorization: Bearer <token>");
  };
  h.failed = [](const http::Request& req, const std::exception& e, http::Response& res) {
    Logger("gateway")->error("{} {} threw: {}", req.method, req.path, e.what());
    http::ReplyError(res, 500, std::string("internal error: ") + e.what());
  };
  h.observe = [this](const std::string& pattern, const http::Response& res) {
    probe_.Request(pattern.empty() ? "other" : pattern, res.status);
  };
  return h;
}

http::ServerOptions GatewayServer::Options() const {
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
  return o;
}

Status GatewayServer::Start() {
  if (server_) return Error(Errc::kInvalidArgument, "gateway server already started");
  auto s = std::make_unique<http::RoutedServer>(Options(), Hooks());
  s->SetRoutes(router_);
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
