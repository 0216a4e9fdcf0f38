#pragma once

// AdminServer: the admin HTTP endpoint of every long-running command (--admin HOST:PORT):
//
//   GET /healthz  liveness:  200 {"status":"ok","detail":...} or 503 {"status":"unavailable",...}
//   GET /readyz   readiness: same shape, from the readiness check
//   GET /metrics  the service's Registry, Prometheus text format 0.0.4
//   anything else registered with Handle(); otherwise 404 (405 for a known path, wrong method),
//   always with a JSON body.
//
//   auto registry = std::make_shared<walrus::metrics::Registry>();
//   walrus::http::AdminServer admin(*walrus::http::ParseHostPort(":9100"), registry);
//   admin.SetReadiness([&] { return std::pair{joined.load(), std::string("consumer group")}; });
//   admin.Handle("GET", "/status", [&](const walrus::http::Request&) {
//     return walrus::http::Response::Json(200, StatusJson());
//   });
//   if (auto st = admin.Start(); !st) return Fail(st.error().message);   // names the address
//   ... admin.port() ...
//   admin.Stop();                                                         // also in ~AdminServer
//
// Threads: on http::RoutedServer (routed_server.h, over the event-driven http::Server): one I/O
// thread owned by the server
// multiplexes every connection and answers /metrics; the checks run on one reserved thread,
// extra routes on a small worker pool (kWorkers), concurrently, so they must be cheap and
// thread-safe. The same limits as the gateway protect it: at most kMaxConnections (then 503 and
// close), header/body deadlines (408), strict framing (400), 1 MiB bodies (413). All public methods
// are thread-safe; routes and checks may be changed while running. Owns its listener; shares the
// Registry with the service.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/result.h"
#include "http/host_port.h"
#include "http/message.h"
#include "http/routed_server.h"
#include "metrics/registry.h"

namespace walrus::http {

using Handler = std::function<Response(const Request&)>;

class AdminServer {
 public:
  // Returns {ok, detail}. Must be cheap and thread-safe; an exception counts as not ok.
  using Check = std::function<std::pair<bool, std::string>()>;

  static constexpr int kWorkers = 4;
  static constexpr int kMaxConnections = 256;

  // `registry` may be null (then /metrics is empty).
  AdminServer(HostPort addr, std::shared_ptr<metrics::Registry> registry);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void SetLiveness(Check c);   // default: always ok
  void SetReadiness(Check c);  // default: always ok
  // Route for a literal path (a ':name' or '*name' segment would be a Router pattern whose
  // parameters this Handler does not see); replaces an earlier handler of the same method and
  // path, including the built-in ones. A GET route also answers HEAD. /metrics runs on the I/O
  // thread, /healthz and /readyz on the checks' thread, every other path on the workers.
  void Handle(const std::string& method, const std::string& path, Handler h);

  // Binds and starts serving; returns once the listener accepts connections. Errors
  // (Errc::kIo / kInvalidArgument) name the address, e.g. "cannot listen on 127.0.0.1:9100:
  // Address already in use". Not re-entrant with Stop(); may be called again after Stop().
  Status Start();
  // Stops accepting, waits for in-flight requests and joins the threads. Idempotent.
  void Stop();
  // The bound port (the ephemeral one if the address had port 0); 0 when not running.
  int port() const;

 private:
  // Runs the current liveness_ or readiness_ (ok when unset); it may throw.
  std::pair<bool, std::string> RunCheck(Check AdminServer::*which) const;

  const HostPort addr_;
  const std::shared_ptr<metrics::Registry> registry_;

  mutable std::mutex mu_;  // guards liveness_, readiness_
  Check liveness_;
  Check readiness_;

  std::mutex lifecycle_mu_;               // serializes Start/Stop
  std::unique_ptr<RoutedServer> server_;  // the routes; serving between Start and Stop
  std::atomic<int> port_{0};
};

}  // namespace walrus::http
