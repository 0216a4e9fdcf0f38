#include "http/admin_server.h"

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace walrus::http {
namespace {

// /metrics is answered on the I/O thread, the checks on a thread of their own, extra routes
// on the workers: a slow status page never delays a health probe.
Lane LaneFor(const std::string& path) {
  if (path == "/metrics") return Lane::kInline;
  if (path == "/healthz" || path == "/readyz") return Lane::kReserved;
  return Lane::kWorker;
}

ServerOptions Options(const HostPort& addr) {
  ServerOptions o;
  o.addr = addr;
  o.name = "admin";
  o.io_threads = 1;
  o.workers = AdminServer::kWorkers;
  o.worker_queue = 64;
  o.reserved_workers = 1;
  o.reserved_queue = 32;
  o.max_connections = AdminServer::kMaxConnections;
  o.idle_timeout = std::chrono::seconds(2);
  o.max_body_bytes = 1 << 20;
  return o;
}

}  // namespace

AdminServer::AdminServer(HostPort addr, std::shared_ptr<metrics::Registry> registry)
    : addr_(std::move(addr)),
      registry_(std::move(registry)),
      server_(std::make_unique<RoutedServer>(Options(addr_))) {
  Handle("GET", "/healthz", [this](const Request&) {
    std::unique_lock lock(mu_);
    Check check = liveness_;
    lock.unlock();
    return RunCheck(check);
  });
  Handle("GET", "/readyz", [this](const Request&) {
    std::unique_lock lock(mu_);
    Check check = readiness_;
    lock.unlock();
    return RunCheck(check);
  });
  Handle("GET", "/metrics", [this](const Request&) {
    Response r = Response::Json(200, registry_ ? registry_->Serialize() : std::string());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });
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
  server_->Add(
      method, path, false,
      [h = std::move(h)](const Request& req, Response& res, const Params&) { res = h(req); },
      LaneFor(path));
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

Status AdminServer::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (port_ != 0) return Error(Errc::kInvalidArgument, "admin server already started");
  if (addr_.port < 0 || addr_.port > 65535) {
    return Error(Errc::kInvalidArgument, "admin server: bad port in " + addr_.ToString());
  }
  if (auto st = server_->Start(); !st) {
    Error e = st.error();
    e.message = "admin server: " + e.message;
    return e;
  }
  port_ = server_->port();
  Logger("http")->info("admin server listening on {}", HostPort{addr_.host, port_}.ToString());
  return Status::Ok();
}

void AdminServer::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  server_->Stop();
  port_ = 0;
}

int AdminServer::port() const { return port_; }

}  // namespace walrus::http
