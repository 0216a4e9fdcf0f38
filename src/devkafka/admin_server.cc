#include "devkafka/admin_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <charconv>
#include <chrono>

#include "core/log.h"

namespace walrus::devkafka {
namespace {

bool ParseInt(const std::string& s, int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

void Reply(httplib::Response& res, const Status& s) {
  if (s.ok()) {
    res.set_content("ok\n", "text/plain");
    return;
  }
  const Error& e = s.error();
  res.status = e.Is(Errc::kNotFound) ? 404 : e.Is(Errc::kConflict) ? 409 : 400;
  res.set_content(e.message + "\n", "text/plain");
}

}  // namespace

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const std::string& host_port,
                                                        Lookup lookup,
                                                        std::vector<std::string> lines) {
  const size_t colon = host_port.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !ParseInt(host_port.substr(colon + 1), port)) {
    return Error(Errc::kInvalidArgument, "--admin: expected HOST:PORT, got " + host_port);
  }
  const std::string host = host_port.substr(0, colon);

  std::unique_ptr<AdminServer> self(new AdminServer());
  self->server_ = std::make_unique<httplib::Server>();
  httplib::Server& svr = *self->server_;

  // Resolves the cluster of the request (first capture) or answers 404.
  auto cluster_of = [lookup](const httplib::Request& req,
                             httplib::Response& res) -> kafka::MockCluster* {
    kafka::MockCluster* c = lookup(req.matches[1]);
    if (c == nullptr) Reply(res, Error(Errc::kNotFound, "unknown cluster " + std::string(req.matches[1])));
    return c;
  };

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  svr.Get("/clusters", [lines](const httplib::Request&, httplib::Response& res) {
    res.set_content(fmt::format("{}\n", fmt::join(lines, "\n")), "text/plain");
  });
  svr.Post(R"(/clusters/([^/]+)/brokers/(-?\d+)/(down|up))",
           [cluster_of](const httplib::Request& req, httplib::Response& res) {
             kafka::MockCluster* c = cluster_of(req, res);
             if (c == nullptr) return;
             int id = 0;
             if (!ParseInt(req.matches[2], id) || id < 1 || id > c->broker_count()) {
               Reply(res, Error(Errc::kNotFound, "unknown broker " + std::string(req.matches[2])));
               return;
             }
             const bool down = req.matches[3] == "down";
             Logger("devkafka")->info("cluster {} broker {} {}", std::string(req.matches[1]), id,
                                      down ? "down" : "up");
             Reply(res, down ? c->SetBrokerDown(id) : c->SetBrokerUp(id));
           });
  svr.Post(R"(/clusters/([^/]+)/topics/([^/]+)/partitions/(\d+)/leader/(\d+))",
           [cluster_of](const httplib::Request& req, httplib::Response& res) {
             kafka::MockCluster* c = cluster_of(req, res);
             if (c == nullptr) return;
             int partition = 0, id = 0;
             if (!ParseInt(req.matches[3], partition) || !ParseInt(req.matches[4], id)) {
               Reply(res, Error(Errc::kInvalidArgument, "bad partition or broker id"));
               return;
             }
             Reply(res, c->SetPartitionLeader(req.matches[2], partition, id));
           });
  svr.Post(R"(/clusters/([^/]+)/topics/([^/]+))",
           [cluster_of](const httplib::Request& req, httplib::Response& res) {
             kafka::MockCluster* c = cluster_of(req, res);
             if (c == nullptr) return;
             int partitions = 0;
             if (!ParseInt(req.get_param_value("partitions"), partitions) || partitions < 1) {
               Reply(res, Error(Errc::kInvalidArgument, "query parameter partitions=N (N >= 1) required"));
               return;
             }
             Reply(res, c->CreateTopic(req.matches[2], partitions));
           });

  if (port == 0) {
    self->port_ = svr.bind_to_any_port(host);
    if (self->port_ <= 0) return Error(Errc::kIo, "--admin: cannot bind " + host_port);
  } else {
    if (!svr.bind_to_port(host, port)) return Error(Errc::kIo, "--admin: cannot bind " + host_port);
    self->port_ = port;
  }
  self->thread_ = std::thread([&svr] { svr.listen_after_bind(); });
  // stop() is a no-op until the loop runs: wait for it so that destruction cannot hang.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!svr.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return self;
}

AdminServer::~AdminServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace walrus::devkafka
