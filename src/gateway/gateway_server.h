#pragma once

// GatewayServer: the gateway's one HTTP port (cpp-httplib): dispatches to the Router, checks
// the Bearer token of write routes (401 + WWW-Authenticate), answers unknown paths 404 and wrong
// methods 405 (with Allow), refuses bodies over kMaxBodyBytes with 413, turns every error into
// a JSON body, sets security headers on every response (a Content-Security-Policy that allows
// only same-origin scripts, styles, images and connections; nosniff; no framing), and counts
// requests by route and status.
//
//   GatewayServer server(cfg, router, probe, auth);
//   if (auto st = server.Start(); !st) return Fail(st.error().message);  // names the address
//   ... server.port() ...
//   hub.Close();      // ends the SSE streams, which would otherwise hold workers
//   server.Stop();
//
// Threads: one listener thread plus cfg.http_threads workers, owned by the server. Each
// keep-alive connection holds a worker while open; an SSE client holds one for its lifetime
// (hence cfg.max_sse_clients). Handlers must be thread-safe. Router, probe and auth are
// borrowed and must outlive the server.

#include <memory>

#include "core/result.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_probe.h"
#include "gateway/http_router.h"
#include "gateway/token_auth.h"

namespace walrus::gateway {

inline constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

class GatewayServer {
 public:
  GatewayServer(const GatewayConfig& cfg, const Router& router, GatewayProbe& probe,
                const TokenAuth& auth);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds cfg.http and starts serving; returns once connections are accepted.
  Status Start();
  // Stops accepting, finishes in-flight requests, joins the threads. Idempotent.
  void Stop();
  // The bound port (the ephemeral one for port 0); 0 when not running.
  int port() const { return port_; }

 private:
  void Serve(const httplib::Request& req, httplib::Response& res);

  struct Listener;
  const GatewayConfig& cfg_;
  const Router& router_;
  GatewayProbe& probe_;
  const TokenAuth& auth_;
  std::unique_ptr<Listener> listener_;
  int port_ = 0;
};

}  // namespace walrus::gateway
