#pragma once

// Request / Response: the HTTP messages handlers of walrus's HTTP servers see (AdminServer,
// http::Server), independent of the server library underneath.
//
//   Response Handle(const Request& req) {
//     if (const std::string* ct = req.Header("content-type")) ...   // names are lower-case
//     return Response::Json(200, R"({"ok":true})");
//   }
//
// A Response with `stream` set is a long-lived body (Server-Sent Events): http::Server sends the
// head and then whatever the StreamSource produces (http/stream_source.h). Plain value types;
// no threading of their own.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace walrus::http {

class StreamSource;

// A request as seen by a handler. Header names are lower-cased; for repeated query parameters or
// headers the first one wins. `path` is percent-decoded, without the query string.
struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> params;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_addr;

  // nullptr when absent; `lower_name` must be lower-case.
  const std::string* Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
  const std::string* Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? nullptr : &it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Long-lived body instead of `body` (sent with Transfer-Encoding: chunked; the connection
  // closes when the stream ends). http::Server only; AdminServer ignores it.
  std::shared_ptr<StreamSource> stream;
  // With `stream`: written when nothing else was written for `heartbeat_interval` (e.g. an SSE
  // comment), so proxies keep the stream and dead clients are noticed. Empty: none.
  std::string heartbeat;
  std::chrono::milliseconds heartbeat_interval{5000};

  static Response Json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace walrus::http
