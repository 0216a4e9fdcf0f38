#pragma once

// AdminServer: the optional HTTP control endpoint of `walrus devkafka` (--admin HOST:PORT), for
// fault-injection tests. On http::RoutedServer (src/http/routed_server.h, the event-driven
// http::Server): one I/O thread answers /healthz and /clusters, two workers run the cluster
// controls, which only call thread-safe MockCluster methods.
//
//   GET  /healthz                                                      -> 200 ok
//   GET  /clusters                                                     -> NAME=bootstraps lines
//   POST /clusters/NAME/brokers/ID/down | /up                          -> broker down / up
//   POST /clusters/NAME/topics/TOPIC/partitions/P/leader/ID            -> move partition leader
//   POST /clusters/NAME/topics/TOPIC?partitions=N                      -> create a topic
//
// Answers (text/plain): 200 "ok", 400 bad request, 404 unknown cluster/broker/topic or path (also
// for a known path with another method), 409 topic exists.
//
//   auto admin = AdminServer::Start("127.0.0.1:0", lookup, lines);
//   int port = (*admin)->port();

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/routed_server.h"
#include "kafka/mock_cluster.h"

namespace walrus::devkafka {

class AdminServer {
 public:
  using Lookup = std::function<kafka::MockCluster*(const std::string& name)>;

  // Binds `host_port` (port 0: any free port) and starts serving. `lookup` must stay valid
  // while the server lives.
  static Result<std::unique_ptr<AdminServer>> Start(const std::string& host_port, Lookup lookup,
                                                    std::vector<std::string> lines);
  ~AdminServer();  // stops serving and joins the threads
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  int port() const { return server_ ? server_->port() : 0; }

 private:
  AdminServer() = default;
  std::unique_ptr<http::RoutedServer> server_;
};

}  // namespace walrus::devkafka
