#pragma once

// Connection: one blocking, pipelining connection to a Redis server.
//
//   auto conn = Connection::Connect(*ParseRedisUrl("redis://127.0.0.1:6379"));
//   if (!conn) return conn.error();                   // kIo / kTimeout / kAuth / kInvalidArgument
//   auto pong = (*conn)->Command({"PING"});           // one round trip
//
//   // A pipelined batch: nothing is sent until ReadReplies.
//   (*conn)->Append({"MULTI"});
//   for (const auto& [k, v] : items) (*conn)->AppendArgs("SET", k, v);
//   (*conn)->Append({"EXEC"});
//   auto replies = (*conn)->ReadReplies((*conn)->pending());   // sends all, reads all
//   if (!replies) { /* kIo or kTimeout: (*conn)->broken(), Connect again */ }
//   // replies->back() is EXEC's array (or an EXECABORT error reply).
//
// Server error replies (-ERR, -WRONGTYPE, ...) are ordinary Replies (IsError()); only
// transport failures are Errors. After any transport failure or timeout the connection is
// broken() for good: the reply stream can no longer be trusted, so replace it.
//
// Threading: not thread-safe; one thread owns a Connection at a time.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.h"
#include "redis/endpoint.h"
#include "redis/reply.h"
#include "redis/resp_parser.h"
#include "redis/resp_writer.h"
#include "redis/tcp_socket.h"

namespace walrus::redis {

struct ConnectOptions {
  std::chrono::milliseconds connect_timeout{2000};
  // A read or write that makes no progress for this long fails with kTimeout.
  std::chrono::milliseconds io_timeout{5000};
  // CLIENT SETNAME on connect (no spaces allowed); empty: none.
  std::string client_name = "walrus";
};

class Connection {
 public:
  // Connects, then (pipelined, one round trip) AUTH [user] password if a password is set,
  // SELECT db if db != 0, CLIENT SETNAME if a name is set. Errors: kIo/kTimeout (transport),
  // kAuth (AUTH refused, or NOAUTH because no password was given), kInvalidArgument (an
  // unreadable TLS CA/cert/key file), or the mapped error of a failed SELECT/SETNAME. A rediss://
  // endpoint runs a TLS handshake (ep.tls_config) first; its failures are kIo naming the cause.
  static Result<std::unique_ptr<Connection>> Connect(const Endpoint& ep,
                                                     const ConnectOptions& opts = {});

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One command, one round trip. Precondition: pending() == 0 (else kInvalidArgument).
  Result<Reply> Command(std::initializer_list<std::string_view> argv);
  Result<Reply> Command(std::span<const std::string_view> argv);
  Result<Reply> Command(const std::vector<std::string>& argv);
  // Like Command, but an error reply becomes its Error (Reply::ToError).
  Result<Reply> CommandOk(std::initializer_list<std::string_view> argv);

  // Buffers one command; nothing is sent until ReadReplies. Arguments are binary safe.
  void Append(std::initializer_list<std::string_view> argv) {
    out_.Command(argv);
    ++pending_;
  }
  void Append(std::span<const std::string_view> argv) {
    out_.Command(argv);
    ++pending_;
  }
  void Append(const std::vector<std::string>& argv) {
    out_.Command(argv);
    ++pending_;
  }
  // Buffers one command from string-like or integer arguments, without building an array:
  //   AppendArgs("SET", key, value, "PXAT", expire_at_ms);
  template <typename... Args>
  void AppendArgs(const Args&... args) {
    out_.Array(sizeof...(Args));
    (AppendArg(args), ...);
    ++pending_;
  }

  // Commands appended but whose replies have not been read yet (0 once broken).
  size_t pending() const { return pending_; }

  // Sends everything buffered, then reads the next n replies (in command order).
  // Precondition: n <= pending() (else kInvalidArgument). Errors: kIo (transport or protocol),
  // kTimeout (no progress for io_timeout); both leave the connection broken().
  Result<std::vector<Reply>> ReadReplies(size_t n);
  // The same, into *out (cleared first) so a caller can reuse its capacity across batches.
  Status ReadReplies(size_t n, std::vector<Reply>* out);
  // Sends everything buffered without reading replies (they stay pending). Lets a caller keep
  // two batches in flight: Append(b1); Flush(); Append(b2); Flush(); ReadReplies(|b1|); ...
  // so Redis executes one batch while the caller encodes the next and parses the previous.
  Status Flush();

  // Pub/sub: waits up to `timeout` for one reply the server pushed on its own (a SUBSCRIBE
  // confirmation or message). kTimeout if none arrived, which leaves the connection usable;
  // transport errors break it. Precondition: pending() == 0 (else kInvalidArgument).
  Result<Reply> ReadPushed(std::chrono::milliseconds timeout);

  bool broken() const { return broken_; }
  const Endpoint& endpoint() const { return ep_; }
  const ConnectOptions& options() const { return opts_; }

 private:
  Connection(const Endpoint& ep, const ConnectOptions& opts, TcpSocket sock)
      : ep_(ep), opts_(opts), sock_(std::move(sock)) {}

  template <typename T>
  void AppendArg(const T& a) {
    static_assert(!std::is_same_v<T, char>, "pass a string, not a char");
    if constexpr (std::is_integral_v<T>) {
      out_.Bulk(static_cast<int64_t>(a));
    } else {
      out_.Bulk(std::string_view(a));
    }
  }

  Status Handshake();
  Result<Reply> ReadOne();
  // Marks the connection broken and returns `err` with the endpoint for context.
  Error Break(const Error& err);

  Endpoint ep_;
  ConnectOptions opts_;
  TcpSocket sock_;
  RespWriter out_;
  size_t sent_ = 0;  // bytes of out_ already sent
  size_t pending_ = 0;
  RespParser parser_;
  std::unique_ptr<char[]> rbuf_;
  std::vector<Reply> scratch_;
  bool broken_ = false;
};

}  // namespace walrus::redis
