#pragma once

// GatewayServer: the gateway's one HTTP port, on http::RoutedServer (src/http/routed_server.h,
// over the event-driven http::Server): dispatches to the http::Router, checks the Bearer token of
// write routes (401 + WWW-Authenticate), answers unknown paths 404 and wrong methods 405 (with
// Allow), refuses bodies over kMaxBodyBytes with 413, turns every error into a JSON body, sets
// security headers on every response (a Content-Security-Policy that allows only same-origin
// scripts, styles, images and connections; nosniff; no framing), and counts requests by route and
// status. The limits that keep it answerable under abuse (connection cap, header/body/idle
// deadlines, header size and count, SSE send-buffer bound) come from GatewayConfig.
//
//   GatewayServer server(cfg, router, probe, auth, registry);
//   if (auto st = server.Start(); !st) return Fail(st.error().message);  // names the address
//   ... server.port() ...
//   hub.Close();      // ends the SSE streams
//   server.Stop();
//
// Threads: cfg.http_io_threads I/O threads run every connection and the routes of lane kInline
// (/healthz, /metrics, SSE set-up, static files); cfg.http_threads workers run the rest (produce
// waits for Kafka's ack there), 2 reserved threads /readyz. Handlers must be thread-safe.
// Router, probe, auth and registry are borrowed and must outlive the server.

#include <memory>

#include "core/result.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_probe.h"
#include "gateway/token_auth.h"
#include "http/routed_server.h"
#include "metrics/registry.h"

namespace walrus::gateway {

inline constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

class GatewayServer {
 public:
  GatewayServer(const GatewayConfig& cfg, const http::Router& router, GatewayProbe& probe,
                const TokenAuth& auth, metrics::Registry& registry);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds cfg.http and starts serving; returns once connections are accepted.
  Status Start();
  // Stops accepting, closes connections, lets running handlers finish, joins the threads.
  // Idempotent.
  void Stop();
  // The bound port (the ephemeral one for port 0); 0 when not running.
  int port() const { return server_ ? server_->port() : 0; }

 private:
  http::ServerOptions Options() const;
  http::RoutedServerHooks Hooks() const;

  const GatewayConfig& cfg_;
  const http::Router& router_;
  GatewayProbe& probe_;
  const TokenAuth& auth_;
  metrics::Registry& registry_;
  std::unique_ptr<http::RoutedServer> server_;
};

}  // namespace walrus::gateway
