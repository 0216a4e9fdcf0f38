#pragma once

// Router: the gateway's route table — method + path pattern -> handler, with path parameters,
// the route label used in metrics, and whether the route needs the Bearer token.
//
//   Router r;
//   r.Add("GET", "/api/regions/:region/key/*key", false, handler);
//   auto m = r.Find("GET", "/api/regions/us/key/cart:a/b");
//   // m.route->pattern == "/api/regions/:region/key/*key"; m.params["key"] == "cart:a/b"
//   r.Find("POST", "/api/regions/us/key/x").allow;   // "GET": a 405 with Allow: GET
//
// Patterns: literal segments; ":name" matches one non-empty segment; "*name" (last only) matches
// the non-empty rest of the path, slashes included. Paths arrive URL-decoded (http::Server).
// Each route names the http::Lane its handler runs on: kWorker (default: may block), kInline
// (the I/O thread: must never block; health, metrics, SSE set-up), kReserved (cheap-but-I/O
// checks such as /readyz, on a pool of their own).
// Threading: built at start-up, then read-only; Find from any thread.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/server.h"

namespace walrus::gateway {

using Params = std::map<std::string, std::string>;
using RouteHandler =
    std::function<void(const http::Request&, http::Response&, const Params&)>;

struct Route {
  std::string method;
  std::string pattern;  // also the metrics label
  bool needs_auth = false;
  RouteHandler handler;
  http::Lane lane = http::Lane::kWorker;
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
           http::Lane lane = http::Lane::kWorker);
  // HEAD is matched as GET.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  static bool MatchPath(const Route& r, const std::vector<std::string_view>& parts, Params& out);
  std::vector<Route> routes_;
};

// Sets a JSON body with `status`.
void ReplyJson(http::Response& res, int status, std::string body);
// {"error": message} with `status`.
void ReplyError(http::Response& res, int status, std::string_view message);

}  // namespace walrus::gateway
