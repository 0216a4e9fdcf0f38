#pragma once

// Small network helpers of the demo: a free local port, one-shot HTTP requests to the children
// (readiness probes, devkafka's control endpoint, the gateway's API).
//
//   auto port = FreePort();                                   // 127.0.0.1, ephemeral
//   auto r = HttpGet("127.0.0.1", 9100, "/readyz", 1s);      // {status, body}; kIo if refused
//   auto p = HttpPost("127.0.0.1", 8080, "/api/produce", body, token, 10s);
//   HttpClient gw("127.0.0.1", 8080, 10s);                    // keep-alive, one per thread
//   for (...) gw.Post("/api/produce", body, token);
//
// Threading: the free functions are thread-safe (each request opens its own connection);
// an HttpClient belongs to one thread.

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"

namespace walrus::demo {

struct HttpReply {
  int status = 0;
  std::string body;
};

// A keep-alive connection to one HTTP server, for many requests in a row (the gateway's
// /api/produce). Not thread-safe: one per thread.
class HttpClient {
 public:
  HttpClient(const std::string& host, int port, std::chrono::milliseconds timeout);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpReply> Get(const std::string& path);
  // POST a JSON body; `bearer` (if not empty) goes in an Authorization: Bearer header.
  Result<HttpReply> Post(const std::string& path, const std::string& json_body,
                         const std::string& bearer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it back, close).
Result<int> FreePort();

// GET http://host:port/path. kIo (connection refused, reset, timed out) names the address.
Result<HttpReply> HttpGet(const std::string& host, int port, const std::string& path,
                          std::chrono::milliseconds timeout);

// One POST on a fresh connection (see HttpClient::Post).
Result<HttpReply> HttpPost(const std::string& host, int port, const std::string& path,
                           const std::string& json_body, const std::string& bearer,
                           std::chrono::milliseconds timeout);

}  // namespace walrus::demo
