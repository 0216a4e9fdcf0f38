#pragma once

// Server: walrus's event-driven HTTP/1.1 server (Boost.Asio), built to stay answerable under
// abuse: a few I/O threads multiplex every connection; handlers that may block run on a bounded
// worker pool; cheap ones (health, metrics) run on the I/O thread, so they never queue behind
// slow work.
//
//   ServerOptions o;  o.addr = {"127.0.0.1", 0};  o.max_body_bytes = 64 * 1024;
//   Server srv(o, [](const Request& r) { return Response::Json(200, "{}"); },
//              [](const Request& r) { return r.path == "/healthz" ? Lane::kInline : Lane::kWorker; });
//   if (auto st = srv.Start(); !st) return Fail(st.error().message);   // names the address
//   ... srv.port() ...
//   srv.Stop();                                                         // also in ~Server
//
// Defences (each a ServerOptions field, each refusal counted in ServerProbe):
// - at most max_connections open. At the cap a newcomer is still accepted (the listen backlog
//   never fills: accepting never waits for a handler): the connection that has waited longest
//   for a request (idle keep-alive, or a head still incomplete) is closed to make room; when
//   every connection is busy (in a request, a response or a stream) the newcomer gets 503 and
//   is closed at once;
// - a request head must be complete within header_timeout of its first byte (of the accept for
//   a new connection), its body within body_timeout of the head: else 408 and close (slowloris);
//   a keep-alive connection idle for idle_timeout is closed; a response not written within
//   write_timeout closes the connection;
// - heads over max_header_bytes or with more than max_headers fields: 431; bodies over
//   max_body_bytes: 413; strict framing (http/request_parser.h): 400 for duplicate
//   Content-Length, Content-Length with Transfer-Encoding, codings other than chunked, obs-fold,
//   bytes outside the grammar;
// - a lane whose queue is full answers 503 + Retry-After at once instead of queueing;
// - a streaming response (Response::stream, SSE) whose client stops reading is dropped once the
//   bytes waiting for it exceed stream_buffer_bytes, so a non-reading client costs bounded memory.
// Every response carries default_headers; the server's own errors have a JSON body
// {"error": "..."}.
//
// Threading: Start/Stop from one thread. `handler` and `lane_of` run concurrently on I/O
// threads (kInline, and lane_of always) and pool threads and must be thread-safe; kInline
// handlers must not block. Handler, lane_of and the probe's registry must outlive the server.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "http/host_port.h"
#include "http/message.h"
#include "http/stream_source.h"
#include "metrics/registry.h"

namespace walrus::http {

enum class Lane {
  kInline,    // on the connection's I/O thread: must not block (health, metrics, SSE setup)
  kReserved,  // a small pool of its own (readiness checks that do I/O)
  kWorker,    // the worker pool (anything that may block)
};

struct ServerOptions {
  HostPort addr{"127.0.0.1", 0};
  std::string name = "http";  // in log lines and thread names
  int io_threads = 2;
  int workers = 16;
  size_t worker_queue = 256;  // requests waiting for a worker; beyond: 503
  int reserved_workers = 2;
  size_t reserved_queue = 64;
  int max_connections = 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds idle_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
  size_t max_header_bytes = 16 * 1024;
  size_t max_headers = 100;
  size_t max_body_bytes = 1 << 20;
  size_t stream_buffer_bytes = 256 * 1024;
  std::vector<std::pair<std::string, std::string>> default_headers;
  metrics::Registry* registry = nullptr;  // null: no metrics
  std::string metrics_prefix = "walrus_http";
  // Called with the status of every response the server produced itself (errors, 503 busy),
  // from an I/O thread. Optional.
  std::function<void(int status)> on_refusal;
};

class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  using LaneOf = std::function<Lane(const Request&)>;

  Server(ServerOptions opts, Handler handler, LaneOf lane_of);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds opts.addr (port 0: ephemeral) and starts the I/O threads and pools. Errors name the
  // address ("cannot listen on 127.0.0.1:8080: Address already in use").
  Status Start();
  // Closes the listener and every connection (streams get Closed(kStopping)), lets running
  // handlers finish (queued ones are dropped), joins every thread. Idempotent.
  void Stop();
  // The bound port; 0 when not running.
  int port() const { return port_; }

  struct Impl;

 private:
  ServerOptions opts_;
  Handler handler_;
  LaneOf lane_of_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace walrus::http
