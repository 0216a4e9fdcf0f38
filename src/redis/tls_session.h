#pragma once

// TlsSession: OpenSSL client TLS over an already connected non-blocking socket (RAII over the
// SSL_CTX and SSL handles). TcpSocket owns one when the endpoint is rediss://.
//
//   auto tls = TlsSession::Handshake(fd, cfg, "redis.internal", "10.0.0.5:6380", deadline);
//   if (!tls) return tls.error();   // kIo naming the cause, e.g. "certificate verify failed"
//   auto n = (*tls)->Write(buf, len);  // 0: would block, see wants_read()/wants_write()
//
// Verification (on unless TlsConfig::verify is false): the chain against ca_file (or the
// system store) and the name: server_name if set, else the host (an IP literal is checked
// against the certificate's IP SANs). SNI carries the name unless it is an IP literal.
// I/O goes through send(MSG_NOSIGNAL)/recv, so a closed peer never raises SIGPIPE.
//
// Threading: owned and used by one thread (the owning socket's).

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "redis/endpoint.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace walrus::redis {

class TlsSession {
 public:
  // Runs the client handshake on `fd` (non-blocking, connected) until `deadline`.
  // `peer` ("host:port") is used in messages only. Errors: kIo (handshake or verification
  // failed; the message says why and which flag to check), kTimeout, kInvalidArgument (an
  // unreadable CA/cert/key file).
  static Result<std::unique_ptr<TlsSession>> Handshake(
      int fd, const TlsConfig& cfg, const std::string& host, const std::string& peer,
      std::chrono::steady_clock::time_point deadline);

  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Like TcpSocket::Send/Recv: bytes moved, 0 if it would block, kIo on failure or close.
  Result<size_t> Write(const char* data, size_t n);
  Result<size_t> Read(char* data, size_t n);

  // What the last Write/Read that returned 0 waits for (TLS may need to read to write and
  // vice versa); the caller adds it to its poll set.
  bool wants_read() const { return want_read_; }
  bool wants_write() const { return want_write_; }

 private:
  TlsSession(SSL_CTX* ctx, SSL* ssl, std::string peer) : ctx_(ctx), ssl_(ssl), peer_(std::move(peer)) {}
  // Maps an SSL_* return code; sets the want flags. Returns 0 for would-block.
  Result<size_t> Outcome(int rc, const char* op);

  SSL_CTX* ctx_;
  SSL* ssl_;
  std::string peer_;
  bool want_read_ = false;
  bool want_write_ = false;
};

}  // namespace walrus::redis
