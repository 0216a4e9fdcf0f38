#pragma once

// RoutedServer: the one HTTP server wrapper of walrus — an http::Server (event-driven, hardened
// against hostile clients, server.h) that dispatches through a Router (router.h). Used by
// AdminServer (every --admin port), devkafka's control port and the gateway.
//
// Per request it finds the route; answers unknown paths and wrong methods through the
// `unrouted` hook (default: 404 / 405 + Allow, JSON), refuses a needs_auth route the `allows`
// hook rejects through `refuse` (default 401), runs the handler on the route's lane, turns a
// handler's exception into the `failed` answer (default: logged, 500 JSON) and reports every
// answer to `observe` (metrics). Unrouted and refused requests are answered on the I/O thread.
//
//   ServerOptions o;  o.addr = {"127.0.0.1", 0};  o.name = "admin";
//   RoutedServer srv(o);
//   srv.Add("GET", "/healthz", false, [](const Request&, Response& res, const Params&) {
//     ReplyJson(res, 200, R"({"status":"ok"})");
//   }, Lane::kInline);
//   if (auto st = srv.Start(); !st) return Fail(st.error().message);   // names the address
//   ... srv.port() ...
//   srv.Stop();                                                         // also in the destructor
//
// Lifecycle: Start() creates and starts a fresh http::Server; Stop() stops and destroys it; the
// routes survive, so Start may follow Stop. Threading: Start/Stop from one thread at a time
// (callers serialize them); Add/SetRoutes from any thread at any time (the table is swapped as a
// whole, a request in flight keeps the table it started with). Hooks and handlers run
// concurrently on I/O and pool threads and must be thread-safe; `unrouted`, `allows` and
// `refuse` run on the I/O thread and must not block.

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"

namespace walrus::http {

struct RoutedServerHooks {
  // Answers a request that no route takes; `allow` lists the methods the path has ("" when
  // none). Default: 404 {"error":"not found","method":…,"path":…}, or 405 {"error":"method not
  // allowed",…} with an Allow header.
  std::function<void(const Request&, const std::string& allow, Response&)> unrouted;
  // Whether a request may run a route added with needs_auth. Null: every request may.
  std::function<bool(const Request&)> allows;
  // The answer to a request `allows` refused. Default: 401 {"error":"unauthorized"}.
  std::function<void(const Request&, Response&)> refuse;
  // The answer when a handler threw (the response it had written is discarded). Default: logs
  // "<name> handler METHOD PATH threw: …" and answers 500 {"error":"internal error","detail":…}.
  std::function<void(const Request&, const std::exception&, Response&)> failed;
  // Sees every answer produced through the router: the matched pattern ("" for none; for a 405
  // a pattern of the path) and the response. Optional.
  std::function<void(const std::string& pattern, const Response&)> observe;
};

class RoutedServer {
 public:
  explicit RoutedServer(ServerOptions opts, RoutedServerHooks hooks = {});
  ~RoutedServer();
  RoutedServer(const RoutedServer&) = delete;
  RoutedServer& operator=(const RoutedServer&) = delete;

  // Adds a route (or replaces the one with the same method and pattern), see Router::Add.
  void Add(std::string method, std::string pattern, bool needs_auth, RouteHandler h,
           Lane lane = Lane::kWorker);
  // Replaces the whole route table.
  void SetRoutes(Router routes);

  // Binds opts.addr and serves; errors name the address ("cannot listen on 127.0.0.1:9100:
  // Address already in use"). kInvalidArgument if already started.
  Status Start();
  // Stops accepting, closes connections, lets running handlers finish, joins. Idempotent.
  void Stop();
  // The bound port (the ephemeral one for port 0); 0 when not running.
  int port() const { return server_ ? server_->port() : 0; }

 private:
  std::shared_ptr<const Router> routes() const;
  Response Serve(const Request& req) const;
  Lane LaneOf(const Request& req) const;
  bool Allowed(const Route& route, const Request& req) const;

  const ServerOptions opts_;
  RoutedServerHooks hooks_;
  mutable std::mutex mu_;                 // guards routes_ (the pointer, not the table)
  std::shared_ptr<const Router> routes_;  // never null; replaced, never changed in place
  std::unique_ptr<Server> server_;
};

}  // namespace walrus::http
