#include "gateway/gateway_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>

#include "core/log.h"
#include "gateway/api_request.h"

namespace walrus::gateway {
namespace {

// No SO_REUSEPORT (httplib's default): a second gateway must not share a running one's port.
void ListenSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

std::string DefaultMessage(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 413: return "request body larger than " + std::to_string(kMaxBodyBytes) + " bytes";
    case 414: return "request URI too long";
    default: return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

struct GatewayServer::Listener {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> returned{false};
};

GatewayServer::GatewayServer(const GatewayConfig& cfg, const Router& router, GatewayProbe& probe,
                             const TokenAuth& auth)
    : cfg_(cfg), router_(router), probe_(probe), auth_(auth) {}

GatewayServer::~GatewayServer() { Stop(); }

void GatewayServer::Serve(const httplib::Request& req, httplib::Response& res) {
  auto m = router_.Find(req.method, req.path);
  if (m.route == nullptr) {
    if (m.allow.empty()) {
      ReplyError(res, 404, "no route " + req.method + " " + req.path);
    } else {
      res.set_header("Allow", m.allow);
      ReplyError(res, 405, req.method + " not allowed on " + req.path + " (allowed: " + m.allow + ")");
    }
  } else if (m.route->needs_auth && !auth_.Allows(req.get_header_value("Authorization"))) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"walrus\"");
    ReplyError(res, 401,
               req.has_header("Authorization") ? "wrong token in Authorization: Bearer"
                                               : "missing Authorization: Bearer <token>");
  } else {
    try {
      m.route->handler(req, res, m.params);
    } catch (const std::exception& e) {
      Logger("gateway")->error("{} {} threw: {}", req.method, req.path, e.what());
      ReplyError(res, 500, std::string("internal error: ") + e.what());
    }
  }
  probe_.Request(m.pattern.empty() ? "other" : m.pattern, res.status);
}

Status GatewayServer::Start() {
  if (listener_) return Error(Errc::kInvalidArgument, "gateway server already started");
  auto l = std::make_unique<Listener>();
  auto& srv = l->server;
  const int threads = cfg_.http_threads;
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  srv.set_socket_options(ListenSocketOptions);
  srv.set_keep_alive_max_count(100000);
  srv.set_keep_alive_timeout(5);
  srv.set_read_timeout(5);
  srv.set_write_timeout(5);
  srv.set_payload_max_length(kMaxBodyBytes);
  srv.set_tcp_nodelay(true);
  srv.set_default_headers({{"Content-Security-Policy", kContentSecurityPolicy},
                           {"X-Content-Type-Options", "nosniff"},
                           {"X-Frame-Options", "DENY"},
                           {"Referrer-Policy", "no-referrer"}});
  // Errors httplib produces itself (413, malformed requests) get a JSON body too; our own
  // handlers' error responses already have one.
  srv.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(ErrorJson(DefaultMessage(res.status)), "application/json");
        probe_.Request("other", res.status);
        return httplib::Server::HandlerResponse::Handled;
      }));
  const auto serve = [this](const httplib::Request& req, httplib::Response& res) {
    Serve(req, res);
  };
  const char* kAll = ".*";
  srv.Get(kAll, serve).Post(kAll, serve).Put(kAll, serve).Patch(kAll, serve);
  srv.Delete(kAll, serve).Options(kAll, serve);

  errno = 0;
  int bound = -1;
  if (cfg_.http.port == 0) {
    bound = srv.bind_to_any_port(cfg_.http.host);
  } else if (srv.bind_to_port(cfg_.http.host, cfg_.http.port)) {
    bound = cfg_.http.port;
  }
  if (bound <= 0) {
    const int err = errno;
    return Error(Errc::kIo, "cannot listen on " + cfg_.http.ToString() + ": " +
                                (err != 0 ? std::strerror(err) : "cannot resolve or bind host"));
  }
  Listener* raw = l.get();
  l->thread = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->returned = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!srv.is_running() && !raw->returned && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!srv.is_running()) {
    srv.stop();
    l->thread.join();
    return Error(Errc::kIo, "listener on " + cfg_.http.ToString() + " did not start");
  }
  listener_ = std::move(l);
  port_ = bound;
  return Status::Ok();
}

void GatewayServer::Stop() {
  if (!listener_) return;
  listener_->server.stop();
  if (listener_->thread.joinable()) listener_->thread.join();
  listener_.reset();
  port_ = 0;
}

}  // namespace walrus::gateway
