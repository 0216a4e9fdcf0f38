#include "http/admin_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/log.h"

namespace walrus::http {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(5);

std::string RouteKey(const std::string& method, const std::string& path) {
  return method + " " + path;
}

std::string JsonError(const std::string& error, const Request& req) {
  return nlohmann::json{{"error", error}, {"method", req.method}, {"path", req.path}}.dump();
}

// httplib's default sets SO_REUSEPORT, which would let a second server silently share the port
// with a running one. SO_REUSEADDR alone still allows a quick restart over TIME_WAIT sockets.
void ListenSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

Request FromHttplib(const httplib::Request& in) {
  Request out;
  out.method = in.method;
  out.path = in.path;
  for (const auto& [k, v] : in.params) out.params.emplace(k, v);
  for (const auto& [k, v] : in.headers) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(std::move(lower), v);
  }
  out.body = in.body;
  out.remote_addr = in.remote_addr;
  return out;
}

}  // namespace

struct AdminServer::Listener {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> returned{false};  // listen_after_bind() came back
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
  auto l = std::make_unique<Listener>();
  auto& srv = l->server;
  srv.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  srv.set_socket_options(ListenSocketOptions);
  srv.set_keep_alive_timeout(2);
  srv.set_read_timeout(5);
  srv.set_write_timeout(5);
  srv.set_payload_max_length(1 << 20);
  // One catch-all route per method; Dispatch() does exact matching. (A pre-routing handler would
  // run before httplib reads the request body.) httplib answers HEAD through the GET route.
  const auto serve = [this](const httplib::Request& in, httplib::Response& out) {
    Response r = Dispatch(FromHttplib(in));
    out.status = r.status;
    for (auto& [k, v] : r.headers) out.set_header(k, v);
    out.set_content(std::move(r.body), r.content_type.c_str());
  };
  const char* kAll = ".*";
  srv.Get(kAll, serve).Post(kAll, serve).Put(kAll, serve).Patch(kAll, serve);
  srv.Delete(kAll, serve).Options(kAll, serve);

  errno = 0;
  int bound = -1;
  if (addr_.port == 0) {
    bound = srv.bind_to_any_port(addr_.host);
  } else if (srv.bind_to_port(addr_.host, addr_.port)) {
    bound = addr_.port;
  }
  if (bound <= 0) {
    const int err = errno;
    return Error(Errc::kIo, "admin server: cannot listen on " + addr_.ToString() + ": " +
                                (err != 0 ? std::strerror(err) : "cannot resolve or bind host"));
  }

  Listener* raw = l.get();
  l->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->returned = true;
  });
  // Wait until the accept loop runs, so that a Stop() right after Start() cannot be missed.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!srv.is_running() && !raw->returned && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!srv.is_running()) {
    srv.stop();
    l->thread.join();
    return Error(Errc::kIo, "admin server: listener on " + addr_.ToString() + " did not start");
  }
  listener_ = std::move(l);
  port_ = bound;
  Logger("http")->info("admin server listening on {}", HostPort{addr_.host, bound}.ToString());
  return Status::Ok();
}

void AdminServer::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!listener_) return;
  listener_->server.stop();
  if (listener_->thread.joinable()) listener_->thread.join();
  listener_.reset();
  port_ = 0;
}

int AdminServer::port() const { return port_; }

}  // namespace walrus::http
