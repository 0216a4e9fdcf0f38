#pragma once

// Connection: one accepted socket of http::Server (internal to src/http). Reads and parses
// requests (request_parser.h) under the header/body deadlines, hands each to its lane, writes
// the response, keeps the connection alive or closes it, and drives streaming responses.
//
// Lifecycle: created by the accept loop and kept alive by its own pending operations
// (shared_from_this); registered in ServerCore so Stop() can close it; destroyed when the last
// operation completes after the socket closed. Threading: everything runs on the connection's
// strand, except the handler of a kReserved/kWorker request (on a pool thread, posting its
// Response back) and a stream's wake function (any thread, posts to the strand).

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "http/request_parser.h"
#include "http/server.h"
#include "http/server_probe.h"
#include "http/worker_pool.h"

namespace walrus::http {

class Connection;

// What every connection of one server shares; owned by Server::Impl, outlives the connections.
struct ServerCore {
  ServerCore(const ServerOptions& o, Server::Handler h, Server::LaneOf l);

  const ServerOptions& opts;
  const Server::Handler handler;
  const Server::LaneOf lane_of;
  const ParseLimits limits;
  const std::string default_headers;  // preformatted "Name: value\r\n" lines
  std::unique_ptr<ServerProbe> probe;  // null without a registry
  WorkerPool workers;
  WorkerPool reserved;
  std::atomic<int> open{0};

  std::mutex mu;  // guards live
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, boost::asio::ip::tcp::socket socket);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Any thread, once, right after accept: starts reading on the connection's strand.
  void Start();
  // Any thread: close soon (server stopping).
  void Shutdown();
  // Any thread: steady-clock ns since the connection began waiting for a request (new or idle
  // keep-alive, head incomplete); 0 while a request is in progress, streaming or closing.
  int64_t waiting_since() const { return waiting_since_.load(std::memory_order_relaxed); }
  // Any thread: close it if it is still waiting for a request (the server is at its connection
  // cap and a newcomer needs the slot). Counted in the probe.
  void Evict();

 private:
  enum class Phase { kIdle, kHeader, kBody, kHandling, kWriting, kStreaming, kLinger, kClosed };
  class Writer;

  void Begin();
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void Process();
  void Dispatch();
  Response Invoke(const Request& req) const;
  void Respond(Response r);
  void Reject(int status, const std::string& why);
  void Queue(std::string bytes);
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  void Linger();
  void StartStream(Response& r);
  void PumpStream();
  void EndStream(StreamSource::CloseReason why);
  void Close(StreamSource::CloseReason why);
  void Arm(std::chrono::milliseconds d);
  void OnTimer();

  void SetWaiting(bool waiting);

  ServerCore& core_;
  std::atomic<int64_t> waiting_since_{0};
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  std::string remote_;
  Phase phase_ = Phase::kHeader;
  bool reading_ = false;
  bool writing_ = false;
  bool keep_alive_ = true;
  std::array<char, 4096> rbuf_{};
  std::string in_;
  RequestHead head_;
  std::optional<ChunkedDecoder> chunked_;
  std::string body_;
  std::deque<std::string> out_;
  std::vector<std::string> inflight_;
  size_t out_bytes_ = 0;  // queued + in flight
  std::chrono::steady_clock::time_point write_started_;
  std::shared_ptr<StreamSource> stream_;
  std::string heartbeat_;
  std::chrono::milliseconds heartbeat_interval_{5000};
  std::chrono::steady_clock::time_point last_stream_write_;
};

}  // namespace walrus::http
