#pragma once

// Router: a route table — method + path pattern -> handler, with path parameters, the pattern
// (also a metrics label), whether the route needs the server's authorization, and the http::Lane
// its handler runs on. Served by http::RoutedServer (routed_server.h): the admin endpoints, the
// devkafka control port and the gateway.
//
//   Router r;
//   r.Add("GET", "/api/regions/:region/key/*key", false, handler);
//   auto m = r.Find("GET", "/api/regions/us/key/cart:a/b");
//   // m.route->pattern == "/api/regions/:region/key/*key"; m.params["key"] == "cart:a/b"
//   r.Find("POST", "/api/regions/us/key/x").allow;   // "GET": a 405 with Allow: GET
//
// Patterns: literal segments; ":name" matches one non-empty segment; "*name" (last only) matches
// the non-empty rest of the path, slashes included. Paths arrive URL-decoded (http::Server).
// The first route that matches wins; adding a route with the method and pattern of an earlier
// one replaces it. Lanes: kWorker (default: may block), kInline (the I/O thread: must never
// block; health, metrics, SSE set-up), kReserved (cheap-but-I/O checks such as /readyz).
// Threading: a value type; Add while nobody reads, Find from any thread (RoutedServer swaps
// whole tables to change routes while serving).

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/server.h"

namespace walrus::http {

using Params = std::map<std::string, std::string>;
using RouteHandler = std::function<void(const Request&, Response&, const Params&)>;

struct Route {
  std::string method;
  std::string pattern;  // also the metrics label
  bool needs_auth = false;
  RouteHandler handler;
  Lane lane = Lane::kWorker;
  std::vector<std::string> segments;  // the pattern split at '/'
};

class Router {
 public:
  struct Match {
    const Route* route = nullptr;  // nullptr: no route for this method
    Params params;
    std::string allow;    // when route is null: methods the path has ("" -> 404)
    std::string pattern;  // the matched pattern, also for 405s ("" when none)
  };

  void Add(std::string method, std::string pattern, bool needs_auth, RouteHandler h,
           Lane lane = Lane::kWorker);
  // HEAD is matched as GET.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  static bool MatchPath(const Route& r, const std::vector<std::string_view>& parts, Params& out);
  std::vector<Route> routes_;
};

// Sets a JSON body with `status`.
void ReplyJson(Response& res, int status, std::string body);
// {"error": message} with `status` (invalid UTF-8 in `message` is replaced, never thrown on).
void ReplyError(Response& res, int status, std::string_view message);

}  // namespace walrus::http
