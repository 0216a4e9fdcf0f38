#include "demo/net.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/host_port.h"

namespace walrus::demo {
namespace {

std::string Where(const std::string& host, int port, const std::string& path) {
  return "http://" + FormatHostPort(host, port) + path;
}

void SetTimeouts(httplib::Client& cli, std::chrono::milliseconds timeout) {
  const auto sec = timeout.count() / 1000;
  const auto usec = (timeout.count() % 1000) * 1000;
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);
}

Result<HttpReply> ToReply(const httplib::Result& res, const std::string& where) {
  if (!res) return Error(Errc::kIo, where + ": " + httplib::to_string(res.error()));
  return HttpReply{res->status, res->body};
}

}  // namespace

Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(Errc::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    return Error(Errc::kIo, std::string("cannot find a free port: ") + std::strerror(err));
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

struct HttpClient::Impl {
  Impl(const std::string& h, int p) : host(h), port(p), cli(h, p) {}
  std::string host;
  int port;
  httplib::Client cli;
};

HttpClient::HttpClient(const std::string& host, int port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(host, port)) {
  SetTimeouts(impl_->cli, timeout);
  impl_->cli.set_keep_alive(true);
}

HttpClient::~HttpClient() = default;

Result<HttpReply> HttpClient::Get(const std::string& path) {
  return ToReply(impl_->cli.Get(path), Where(impl_->host, impl_->port, path));
}

Result<HttpReply> HttpClient::Post(const std::string& path, const std::string& json_body,
                                   const std::string& bearer) {
  httplib::Headers headers;
  if (!bearer.empty()) headers.emplace("Authorization", "Bearer " + bearer);
  return ToReply(impl_->cli.Post(path, headers, json_body, "application/json"),
                 Where(impl_->host, impl_->port, path));
}

Result<HttpReply> HttpGet(const std::string& host, int port, const std::string& path,
                          std::chrono::milliseconds timeout) {
  return HttpClient(host, port, timeout).Get(path);
}

Result<HttpReply> HttpPost(const std::string& host, int port, const std::string& path,
                           const std::string& json_body, const std::string& bearer,
                           std::chrono::milliseconds timeout) {
  return HttpClient(host, port, timeout).Post(path, json_body, bearer);
}

}  // namespace walrus::demo
