#include "redis/tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace walrus::redis {
namespace {

using Clock = std::chrono::steady_clock;

// Keepalive so a peer that vanished without a FIN (host down, network cut) is noticed even
// on an idle connection: first probe after 15 s idle, then every 5 s, 3 probes.
constexpr int kKeepIdleS = 15;
constexpr int kKeepIntervalS = 5;
constexpr int kKeepCount = 3;

std::string Errno(int err) { return std::strerror(err); }

int PollMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

void SetOptions(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepIdleS, sizeof(kKeepIdleS));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepIntervalS, sizeof(kKeepIntervalS));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepCount, sizeof(kKeepCount));
}

// Connects one address before `deadline`: the fd, or -1 with *err (errno, or ETIMEDOUT).
int ConnectOne(const addrinfo* ai, Clock::time_point deadline, int* err) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    *err = errno;
    close(fd);
    return -1;
  }
  while (true) {
    pollfd p{fd, POLLOUT, 0};
    const int rc = poll(&p, 1, PollMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      *err = rc == 0 ? ETIMEDOUT : errno;
      close(fd);
      return -1;
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      *err = so_error;
      close(fd);
      return -1;
    }
    return fd;
  }
}

}  // namespace

Result<TcpSocket> TcpSocket::Connect(const std::string& host, int port,
                                     std::chrono::milliseconds timeout) {
  const std::string peer =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  const auto deadline = Clock::now() + timeout;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  const int gai = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (gai != 0) {
    return Error(Errc::kIo, "connect to " + peer + ": cannot resolve host: " + gai_strerror(gai));
  }

  int err = 0;
  int fd = -1;
  for (const addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ConnectOne(ai, deadline, &err);
    if (err == ETIMEDOUT) break;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (err == ETIMEDOUT) {
      return Error(Errc::kTimeout, "connect to " + peer + ": timed out after " +
                                       std::to_string(timeout.count()) + " ms");
    }
    return Error(Errc::kIo, "connect to " + peer + ": " + Errno(err));
  }
  SetOptions(fd);
  return TcpSocket(fd, peer);
}

TcpSocket& TcpSocket::operator=(TcpSocket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    tls_ = std::move(o.tls_);
    fd_ = o.fd_;
    peer_ = std::move(o.peer_);
    o.fd_ = -1;
  }
  return *this;
}

TcpSocket::~TcpSocket() {
  tls_.reset();
  if (fd_ >= 0) close(fd_);
}

Status TcpSocket::StartTls(const TlsConfig& cfg, const std::string& host,
                           std::chrono::milliseconds timeout) {
  auto s = TlsSession::Handshake(fd_, cfg, host, peer_, Clock::now() + timeout);
  if (!s) return s.error();
  tls_ = std::move(*s);
  return Status::Ok();
}

Result<size_t> TcpSocket::Send(const char* data, size_t n) {
  if (tls_) return tls_->Write(data, n);
  while (true) {
    const ssize_t rc = send(fd_, data, n, MSG_NOSIGNAL);
    if (rc >= 0) return static_cast<size_t>(rc);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return Error(Errc::kIo, "send to " + peer_ + ": " + Errno(errno));
  }
}

Result<size_t> TcpSocket::Recv(char* data, size_t n) {
  if (tls_) return tls_->Read(data, n);
  while (true) {
    const ssize_t rc = recv(fd_, data, n, 0);
    if (rc > 0) return static_cast<size_t>(rc);
    if (rc == 0) return Error(Errc::kIo, "connection to " + peer_ + " closed by the server");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return Error(Errc::kIo, "recv from " + peer_ + ": " + Errno(errno));
  }
}

Status TcpSocket::Wait(bool want_read, bool want_write, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (tls_) {  // TLS may have to read to write, or write to read
    want_read = want_read || tls_->wants_read();
    want_write = want_write || tls_->wants_write();
  }
  while (true) {
    pollfd p{fd_, static_cast<short>((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0};
    const int rc = poll(&p, 1, PollMs(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Error(Errc::kIo, "poll on " + peer_ + ": " + Errno(errno));
    if (rc == 0) {
      return Error(Errc::kTimeout, "no progress on the connection to " + peer_ + " for " +
                                       std::to_string(timeout.count()) + " ms");
    }
    // POLLERR/POLLHUP: the following send/recv reports the precise error.
    return Status::Ok();
  }
}

}  // namespace walrus::redis
