#include "http/routed_server.h"

#include <nlohmann/json.hpp>

#include "core/log.h"

namespace walrus::http {
namespace {

std::string JsonError(const std::string& error, const Request& req) {
  return nlohmann::json{{"error", error}, {"method", req.method}, {"path", req.path}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void DefaultUnrouted(const Request& req, const std::string& allow, Response& res) {
  if (allow.empty()) {
    res = Response::Json(404, JsonError("not found", req));
    return;
  }
  res = Response::Json(405, JsonError("method not allowed", req));
  res.SetHeader("Allow", allow);
}

void DefaultRefuse(const Request&, Response& res) {
  ReplyError(res, 401, "unauthorized");
}

}  // namespace

RoutedServer::RoutedServer(ServerOptions opts, RoutedServerHooks hooks)
    : opts_(std::move(opts)), hooks_(std::move(hooks)), routes_(std::make_shared<Router>()) {
  if (!hooks_.unrouted) hooks_.unrouted = DefaultUnrouted;
  if (!hooks_.refuse) hooks_.refuse = DefaultRefuse;
  if (!hooks_.failed) {
    hooks_.failed = [name = opts_.name](const Request& req, const std::exception& e,
                                        Response& res) {
      Logger("http")->error("{} handler {} {} threw: {}", name, req.method, req.path, e.what());
      res = Response::Json(500, nlohmann::json{{"error", "internal error"}, {"detail", e.what()}}
                                    .dump(-1, ' ', false,
                                          nlohmann::json::error_handler_t::replace));
    };
  }
}

RoutedServer::~RoutedServer() { Stop(); }

void RoutedServer::Add(std::string method, std::string pattern, bool needs_auth, RouteHandler h,
                       Lane lane) {
  std::lock_guard lock(mu_);
  auto next = std::make_shared<Router>(*routes_);
  next->Add(std::move(method), std::move(pattern), needs_auth, std::move(h), lane);
  routes_ = std::move(next);
}

void RoutedServer::SetRoutes(Router routes) {
  auto next = std::make_shared<const Router>(std::move(routes));
  std::lock_guard lock(mu_);
  routes_ = std::move(next);
}

std::shared_ptr<const Router> RoutedServer::routes() const {
  std::lock_guard lock(mu_);
  return routes_;
}

bool RoutedServer::Allowed(const Route& route, const Request& req) const {
  return !route.needs_auth || !hooks_.allows || hooks_.allows(req);
}

Lane RoutedServer::LaneOf(const Request& req) const {
  const auto table = routes();
  const auto m = table->Find(req.method, req.path);
  // 404/405/401 answers are cheap: no need to queue them behind slow work.
  if (m.route == nullptr || !Allowed(*m.route, req)) return Lane::kInline;
  return m.route->lane;
}

Response RoutedServer::Serve(const Request& req) const {
  const auto table = routes();  // held for the call: m.route points into it
  const auto m = table->Find(req.method, req.path);
  Response res;
  if (m.route == nullptr) {
    hooks_.unrouted(req, m.allow, res);
  } else if (!Allowed(*m.route, req)) {
    hooks_.refuse(req, res);
  } else {
    try {
      m.route->handler(req, res, m.params);
    } catch (const std::exception& e) {
      res = Response();
      hooks_.failed(req, e, res);
    }
  }
  if (hooks_.observe) hooks_.observe(m.pattern, res);
  return res;
}

Status RoutedServer::Start() {
  if (server_) return Error(Errc::kInvalidArgument, opts_.name + " server already started");
  auto s = std::make_unique<Server>(
      opts_, [this](const Request& r) { return Serve(r); },
      [this](const Request& r) { return LaneOf(r); });
  if (auto st = s->Start(); !st) return st;
  server_ = std::move(s);
  return Status::Ok();
}

void RoutedServer::Stop() {
  if (!server_) return;
  server_->Stop();
  server_.reset();
}

}  // namespace walrus::http
