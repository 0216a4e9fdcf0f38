#include "http/admin_server.h"

#include <chrono>

#include "core/log.h"
#include "http/health_routes.h"

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
  // The checks are read at each request: SetLiveness/SetReadiness may change them any time.
  Router routes;
  AddHealthRoutes(
      routes, {.liveness = [this] { return RunCheck(&AdminServer::liveness_); },
               .readiness = [this] { return RunCheck(&AdminServer::readiness_); },
               .metrics = [this] { return registry_ ? registry_->Serialize() : std::string(); }});
  server_->SetRoutes(std::move(routes));
}

AdminServer::~AdminServer() { Stop(); }

std::pair<bool, std::string> AdminServer::RunCheck(Check AdminServer::*which) const {
  std::unique_lock lock(mu_);
  Check check = this->*which;
  lock.unlock();
  return check ? check() : std::pair{true, std::string()};
}

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
