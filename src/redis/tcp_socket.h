#pragma once

// TcpSocket: a connected, non-blocking TCP socket (RAII over the fd) with deadline-bounded
// connect and readiness waits, optionally wrapped in TLS (StartTls). Never raises SIGPIPE.
//
//   auto s = TcpSocket::Connect("127.0.0.1", 6379, std::chrono::milliseconds(2000));
//   if (!s) return s.error();                       // kIo (refused, unreachable) or kTimeout
//   auto n = s->Send(buf, len);                     // bytes taken now; 0 if the buffer is full
//
// Move-only; owned and used by one thread (the owning Connection's).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/result.h"
#include "redis/endpoint.h"
#include "redis/tls_session.h"

namespace walrus::redis {

class TcpSocket {
 public:
  // Resolves `host` (name, IPv4 or IPv6 literal) and connects to the first address that
  // accepts within `timeout` overall. Sets TCP_NODELAY and TCP keepalive.
  static Result<TcpSocket> Connect(const std::string& host, int port,
                                   std::chrono::milliseconds timeout);

  TcpSocket(TcpSocket&& o) noexcept
      : fd_(o.fd_), peer_(std::move(o.peer_)), tls_(std::move(o.tls_)) {
    o.fd_ = -1;
  }
  TcpSocket& operator=(TcpSocket&& o) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;
  ~TcpSocket();

  // Runs a TLS client handshake (see TlsSession); afterwards Send/Recv/Wait speak TLS.
  // `host` is the name given to Connect (verified unless cfg.server_name overrides it).
  Status StartTls(const TlsConfig& cfg, const std::string& host, std::chrono::milliseconds timeout);
  bool tls() const { return tls_ != nullptr; }

  // Sends what the kernel takes now: bytes sent (0 if it would block), or kIo.
  Result<size_t> Send(const char* data, size_t n);
  // Receives what is there now: bytes received (0 if it would block), or kIo (also on EOF).
  Result<size_t> Recv(char* data, size_t n);

  // Waits until readable (if `want_read`) or writable (if `want_write`). kTimeout after
  // `timeout` without either; kIo on a poll failure.
  Status Wait(bool want_read, bool want_write, std::chrono::milliseconds timeout);

  int fd() const { return fd_; }
  // "host:port" as given to Connect, for messages.
  const std::string& peer() const { return peer_; }

 private:
  TcpSocket(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}

  int fd_ = -1;
  std::string peer_;
  std::unique_ptr<TlsSession> tls_;  // set by StartTls
};

}  // namespace walrus::redis
