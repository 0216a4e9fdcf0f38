#include "redis/tls_session.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace walrus::redis {
namespace {

using Clock = std::chrono::steady_clock;

// ---- a socket BIO that never raises SIGPIPE (send with MSG_NOSIGNAL) -------------------------

int FdOf(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

int BioWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  const ssize_t rc = send(FdOf(b), data, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(b);
  }
  return static_cast<int>(rc);
}

int BioRead(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  const ssize_t rc = recv(FdOf(b), data, static_cast<size_t>(len), 0);
  if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_read(b);
  }
  return static_cast<int>(rc);
}

long BioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int BioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "walrus-socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

// The OpenSSL error queue as one line (and clears it).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : buf;
  }
  return out;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<SSL_CTX*> MakeContext(const TlsConfig& cfg) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Error(Errc::kInternal, "TLS: SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  auto fail = [ctx](const std::string& what) {
    const std::string why = OpenSslErrors();
    SSL_CTX_free(ctx);
    return Error(Errc::kInvalidArgument, "TLS: " + what + (why.empty() ? "" : ": " + why));
  };
  if (!cfg.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, cfg.ca_file.c_str(), nullptr) != 1) {
      return fail("cannot load CA file '" + cfg.ca_file + "' (--redis-tls-ca)");
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return fail("cannot load the system trust store");
  }
  if (!cfg.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1) {
      return fail("cannot load client certificate '" + cfg.cert_file + "' (--redis-tls-cert)");
    }
    const std::string& key = cfg.key_file.empty() ? cfg.cert_file : cfg.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail("cannot load client key '" + key + "' (--redis-tls-key)");
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return fail("client key '" + key + "' does not match certificate '" + cfg.cert_file + "'");
    }
  }
  SSL_CTX_set_verify(ctx, cfg.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  return ctx;
}

}  // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::Handshake(int fd, const TlsConfig& cfg,
                                                          const std::string& host,
                                                          const std::string& peer,
                                                          Clock::time_point deadline) {
  ERR_clear_error();
  auto ctx = MakeContext(cfg);
  if (!ctx) return ctx.error();
  SSL* ssl = SSL_new(*ctx);
  if (ssl == nullptr) {
    SSL_CTX_free(*ctx);
    return Error(Errc::kInternal, "TLS: SSL_new: " + OpenSslErrors());
  }
  std::unique_ptr<TlsSession> s(new TlsSession(*ctx, ssl, peer));
  BIO* bio = BIO_new(SocketMethod());
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  const std::string& name = cfg.server_name.empty() ? host : cfg.server_name;
  const bool ip = IsIpLiteral(name);
  if (!ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (cfg.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    if (ok != 1) return Error(Errc::kInvalidArgument, "TLS: bad server name '" + name + "'");
  }

  while (true) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl);
    if (rc == 1) return s;
    const int err = SSL_get_error(ssl, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd, static_cast<short>(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0};
      const int prc = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (prc < 0 && errno == EINTR) continue;
      if (prc == 0) return Error(Errc::kTimeout, "TLS handshake with " + peer + " timed out");
      if (prc < 0) return Error(Errc::kIo, "TLS handshake with " + peer + ": poll failed");
      continue;
    }
    std::string why;
    const long vr = SSL_get_verify_result(ssl);
    if (cfg.verify && vr != X509_V_OK) {
      why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(vr) +
            " (check --redis-tls-ca and --redis-tls-server-name; verifying name '" + name + "')";
      OpenSslErrors();
    } else {
      why = OpenSslErrors();
      if (why.empty()) {
        why = err == SSL_ERROR_SYSCALL ? "connection closed by the server (is it a TLS port?)"
                                       : "SSL error " + std::to_string(err);
      }
    }
    return Error(Errc::kIo, "TLS handshake with " + peer + " failed: " + why);
  }
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

Result<size_t> TlsSession::Outcome(int rc, const char* op) {
  want_read_ = want_write_ = false;
  if (rc > 0) return static_cast<size_t>(rc);
  const int err = SSL_get_error(ssl_, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      want_read_ = true;
      return size_t{0};
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      return size_t{0};
    case SSL_ERROR_ZERO_RETURN:
      return Error(Errc::kIo, "TLS connection to " + peer_ + " closed by the server");
    case SSL_ERROR_SYSCALL: {
      const int e = errno;
      OpenSslErrors();
      if (rc == 0 || e == 0) {
        return Error(Errc::kIo, "connection to " + peer_ + " closed by the server");
      }
      return Error(Errc::kIo, std::string("TLS ") + op + " " + peer_ + ": " + std::strerror(e));
    }
    default:
      return Error(Errc::kIo, std::string("TLS ") + op + " " + peer_ + ": " + OpenSslErrors());
  }
}

Result<size_t> TlsSession::Write(const char* data, size_t n) {
  if (n == 0) return size_t{0};
  ERR_clear_error();
  errno = 0;
  return Outcome(SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(n, 1u << 30))), "send to");
}

Result<size_t> TlsSession::Read(char* data, size_t n) {
  ERR_clear_error();
  errno = 0;
  return Outcome(SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(n, 1u << 30))), "recv from");
}

}  // namespace walrus::redis
