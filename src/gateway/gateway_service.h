#pragma once

// GatewayService: the whole `walrus gateway` — regions (producer + Redis reader), the event hub,
// one event consumer per region, the convergence and flows pollers, the simulator and the HTTP
// server — started and stopped in the right order.
//
//   GatewayService svc(BuildConfig(flags));
//   if (auto st = svc.Start(); !st) return Fail(st.error().message);
//   fmt::print("listening on http://127.0.0.1:{}\n", svc.port());
//   while (!shutdown) ...;
//   svc.Stop();           // also in the destructor
//
// Stop order: the stop flag ends the pollers, consumers and simulator; the hub closes (ending
// SSE streams); the server stops; threads are joined; producers flush as the regions go away.
// Threading: Start/Stop from one thread; port()/Readiness() from any.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "gateway/gateway_config.h"

namespace walrus::gateway {

class GatewayService {
 public:
  explicit GatewayService(GatewayConfig cfg);
  ~GatewayService();
  GatewayService(const GatewayService&) = delete;
  GatewayService& operator=(const GatewayService&) = delete;

  // Errors: a producer that cannot be created, the HTTP address not bindable.
  Status Start();
  void Stop();
  int port() const;
  // {ready, detail}: per region, Kafka reachable (flows poller), Redis answers PING, and the
  // event consumer has its own topic assigned.
  std::pair<bool, std::string> Readiness();

 private:
  struct Parts;  // the components, hidden from includers
  GatewayConfig cfg_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<Parts> parts_;
  std::vector<std::thread> threads_;
};

}  // namespace walrus::gateway
