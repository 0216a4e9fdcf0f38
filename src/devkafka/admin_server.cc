#include "devkafka/admin_server.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>

#include "core/host_port.h"
#include "core/log.h"

namespace walrus::devkafka {
namespace {

using http::Params;
using http::Request;
using http::Response;

bool ParseInt(const std::string& s, int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// What the former regex routes accepted for a number segment ("\d+", "-?\d+").
bool Digits(const std::string& s, bool sign) {
  const size_t from = sign && !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == from) return false;
  return s.find_first_not_of("0123456789", from) == std::string::npos;
}

void Text(Response& res, int status, std::string body) {
  res.status = status;
  res.content_type = "text/plain";
  res.body = std::move(body);
}

void Reply(Response& res, const Status& s) {
  if (s.ok()) return Text(res, 200, "ok\n");
  const Error& e = s.error();
  Text(res, e.Is(Errc::kNotFound) ? 404 : e.Is(Errc::kConflict) ? 409 : 400, e.message + "\n");
}

void NotFound(const Request& req, Response& res) {
  Text(res, 404, "not found: " + req.method + " " + req.path + "\n");
}

http::ServerOptions Options(const HostPort& addr) {
  http::ServerOptions o;
  o.addr = addr;
  o.name = "devkafka-admin";
  o.io_threads = 1;
  o.workers = 2;
  o.worker_queue = 32;
  o.reserved_workers = 1;
  o.max_connections = 64;
  o.max_body_bytes = 64 * 1024;
  return o;
}

void AddRoutes(http::RoutedServer& srv, const AdminServer::Lookup& lookup,
               const std::vector<std::string>& lines) {
  // Resolves the cluster of the request or answers 404.
  auto cluster_of = [lookup](const Params& p, Response& res) -> kafka::MockCluster* {
    kafka::MockCluster* c = lookup(p.at("cluster"));
    if (c == nullptr) Reply(res, Error(Errc::kNotFound, "unknown cluster " + p.at("cluster")));
    return c;
  };

  srv.Add(
      "GET", "/healthz", false,
      [](const Request&, Response& res, const Params&) { Text(res, 200, "ok\n"); },
      http::Lane::kInline);
  srv.Add(
      "GET", "/clusters", false,
      [text = fmt::format("{}\n", fmt::join(lines, "\n"))](const Request&, Response& res,
                                                          const Params&) { Text(res, 200, text); },
      http::Lane::kInline);
  srv.Add("POST", "/clusters/:cluster/brokers/:id/:state", false,
          [cluster_of](const Request& req, Response& res, const Params& p) {
            const std::string& state = p.at("state");
            if (!Digits(p.at("id"), true) || (state != "down" && state != "up")) {
              return NotFound(req, res);
            }
            kafka::MockCluster* c = cluster_of(p, res);
            if (c == nullptr) return;
            int id = 0;
            if (!ParseInt(p.at("id"), id) || id < 1 || id > c->broker_count()) {
              return Reply(res, Error(Errc::kNotFound, "unknown broker " + p.at("id")));
            }
            const bool down = state == "down";
            Logger("devkafka")->info("cluster {} broker {} {}", p.at("cluster"), id,
                                     down ? "down" : "up");
            Reply(res, down ? c->SetBrokerDown(id) : c->SetBrokerUp(id));
          });
  srv.Add("POST", "/clusters/:cluster/topics/:topic/partitions/:partition/leader/:id", false,
          [cluster_of](const Request& req, Response& res, const Params& p) {
            if (!Digits(p.at("partition"), false) || !Digits(p.at("id"), false)) {
              return NotFound(req, res);
            }
            kafka::MockCluster* c = cluster_of(p, res);
            if (c == nullptr) return;
            int partition = 0, id = 0;
            if (!ParseInt(p.at("partition"), partition) || !ParseInt(p.at("id"), id)) {
              return Reply(res, Error(Errc::kInvalidArgument, "bad partition or broker id"));
            }
            Reply(res, c->SetPartitionLeader(p.at("topic"), partition, id));
          });
  srv.Add("POST", "/clusters/:cluster/topics/:topic", false,
          [cluster_of](const Request& req, Response& res, const Params& p) {
            kafka::MockCluster* c = cluster_of(p, res);
            if (c == nullptr) return;
            const std::string* n = req.Param("partitions");
            int partitions = 0;
            if (n == nullptr || !ParseInt(*n, partitions) || partitions < 1) {
              return Reply(res, Error(Errc::kInvalidArgument,
                                      "query parameter partitions=N (N >= 1) required"));
            }
            Reply(res, c->CreateTopic(p.at("topic"), partitions));
          });
}

}  // namespace

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const std::string& host_port,
                                                        Lookup lookup,
                                                        std::vector<std::string> lines) {
  auto addr = ParseHostPort(host_port);
  if (!addr) return Error(Errc::kInvalidArgument, "--admin: expected HOST:PORT, got " + host_port);

  std::unique_ptr<AdminServer> self(new AdminServer());
  http::RoutedServerHooks hooks;
  // As before this server moved onto http::Server: every path it does not take is a 404.
  hooks.unrouted = [](const Request& req, const std::string&, Response& res) {
    NotFound(req, res);
  };
  self->server_ = std::make_unique<http::RoutedServer>(Options(*addr), std::move(hooks));
  AddRoutes(*self->server_, lookup, lines);
  if (auto st = self->server_->Start(); !st) {
    return Error(st.error().code, "--admin: " + st.error().message);
  }
  return self;
}

AdminServer::~AdminServer() = default;

}  // namespace walrus::devkafka
