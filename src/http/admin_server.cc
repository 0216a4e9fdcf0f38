#include "http/admin_server.h"

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "http/server.h"

namespace walrus::http {
namespace {

std::string RouteKey(const std::string& method, const std::string& path) {
  return method + " " + path;
}

std::string JsonError(const std::string& error, const Request& req) {
  return nlohmann::json{{"error", error}, {"method", req.method}, {"path", req.path}}.dump();
}

}  // namespace

struct AdminServer::Listener {
  std::unique_ptr<Server> server;
};

AdminServer::AdminServer(HostPort addr, std::shared_ptr<metrics::Registry> registry)
    : addr_(std::move(addr)), registry_(std::move(registry)) {
  routes_[RouteKey("GET", "/healthz")] = [this](const Request&) {
    std::unique_lock lock(mu_);
    Check check = liveness_;
    lock.unlock();
    return RunCheck(check);
  };
  routes_[RouteKey("GET", "/readyz")] = [this](const Request&) {
    std::unique_lock lock(mu_);
    Check check = readiness_;
    lock.unlock();
    return RunCheck(check);
  };
  routes_[RouteKey("GET", "/metrics")] = [this](const Request&) {
    Response r = Response::Json(200, registry_ ? registry_->Serialize() : std::string());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  };
}

AdminServer::~AdminServer() { Stop(); }

void AdminServer::SetLiveness(Check c) {
  std::lock_guard lock(mu_);
  liveness_ = std::move(c);
}

void AdminServer::SetReadiness(Check c) {
  std::lock_guard lock(mu_);
  readiness_ = std::move(c);
}

void AdminServer::Handle(const std::string& method, const std::string& path, Handler h) {
  std::lock_guard lock(mu_);
  routes_[RouteKey(method, path)] = std::move(h);
}

Response AdminServer::RunCheck(const Check& check) const {
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
  return Response::Json(ok ? 200 : 503, body.dump());
}

Response AdminServer::Dispatch(const Request& req) const {
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  Handler handler;
  std::string allow;
  {
    std::lock_guard lock(mu_);
    if (auto it = routes_.find(RouteKey(method, req.path)); it != routes_.end()) {
      handler = it->second;
    } else {
      // Collect the methods the path does have, for a 405 with an Allow header.
      for (const auto& [key, h] : routes_) {
        const auto space = key.find(' ');
        if (key.compare(space + 1, std::string::npos, req.path) == 0) {
          allow += (allow.empty() ? "" : ", ") + key.substr(0, space);
        }
      }
    }
  }
  if (!handler) {
    if (allow.empty()) return Response::Json(404, JsonError("not found", req));
    Response r = Response::Json(405, JsonError("method not allowed", req));
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  try {
    return handler(req);
  } catch (const std::exception& e) {
    Logger("http")->error("admin handler {} {} threw: {}", req.method, req.path, e.what());
    return Response::Json(500,
                          nlohmann::json{{"error", "internal error"}, {"detail", e.what()}}.dump());
  }
}

Status AdminServer::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (listener_) return Error(Errc::kInvalidArgument, "admin server already started");
  if (addr_.port < 0 || addr_.port > 65535) {
    return Error(Errc::kInvalidArgument, "admin server: bad port in " + addr_.ToString());
  }
  ServerOptions o;
  o.addr = addr_;
  o.name = "admin";
  o.io_threads = 1;
  o.workers = kWorkers;
  o.worker_queue = 64;
  o.reserved_workers = 1;
  o.reserved_queue = 32;
  o.max_connections = kMaxConnections;
  o.idle_timeout = std::chrono::seconds(2);
  o.max_body_bytes = 1 << 20;
  // /metrics is answered on the I/O thread, the checks on a thread of their own, extra routes
  // on the workers: a slow status page never delays a health probe.
  auto lane = [](const Request& r) {
    if (r.path == "/metrics") return Lane::kInline;
    if (r.path == "/healthz" || r.path == "/readyz") return Lane::kReserved;
    return Lane::kWorker;
  };
  auto l = std::make_unique<Listener>();
  l->server = std::make_unique<Server>(
      std::move(o), [this](const Request& r) { return Dispatch(r); }, lane);
  if (auto st = l->server->Start(); !st) {
    Error e = st.error();
    e.message = "admin server: " + e.message;
    return e;
  }
  port_ = l->server->port();
  listener_ = std::move(l);
  Logger("http")->info("admin server listening on {}", HostPort{addr_.host, port_}.ToString());
  return Status::Ok();
}

void AdminServer::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!listener_) return;
  listener_->server->Stop();
  listener_.reset();
  port_ = 0;
}

int AdminServer::port() const { return port_; }

}  // namespace walrus::http
