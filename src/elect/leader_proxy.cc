#include "elect/leader_proxy.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/log.h"

namespace walrus::elect {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;
constexpr size_t kMaxBuffer = 1 << 20;  // per direction; reading pauses when full
constexpr size_t kChunk = 64 * 1024;

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Starts a non-blocking connect to "host:port": the fd, or -1 (errno set).
int StartConnect(const std::string& addr, bool* connected) {
  auto hp = http::ParseHostPort(addr);
  if (!hp) {
    errno = EINVAL;
    return -1;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(hp->host.c_str(), std::to_string(hp->port).c_str(), &hints, &res) != 0 || !res) {
    errno = EHOSTUNREACH;
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    NoDelay(fd);
    *connected = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
    if (!*connected && errno != EINPROGRESS) {
      const int e = errno;
      close(fd);
      fd = -1;
      errno = e;
    }
  }
  freeaddrinfo(res);
  return fd;
}

}  // namespace

struct LeaderProxy::Conn {
  enum State { kWaiting, kConnecting, kOpen };
  int client = -1;
  int upstream = -1;
  State state = kWaiting;
  std::string target;  // upstream address while connecting/open
  std::string failed;  // a target that refused this client: wait for another one
  std::string to_up, to_client;
  TimePoint since{}, connect_deadline{};
  bool closing = false;  // a side ended: flush what is pending to the other, then close
  bool dead = false;
};

// The proxy thread's state.
struct LeaderProxy::Loop {
  LeaderProxy& p;
  std::vector<std::unique_ptr<Conn>> conns;
  std::optional<std::string> target;

  void Close(Conn& c) {
    if (c.client >= 0) close(c.client);
    if (c.upstream >= 0) close(c.upstream);
    c.client = c.upstream = -1;
    c.dead = true;
  }

  void Connect(Conn& c) {
    bool connected = false;
    const int fd = StartConnect(*target, &connected);
    if (fd < 0) {
      c.failed = *target;
      return;
    }
    c.upstream = fd;
    c.target = *target;
    c.state = connected ? Conn::kOpen : Conn::kConnecting;
    c.connect_deadline = std::chrono::steady_clock::now() + p.opts_.connect_timeout;
  }

  // The target refused or timed out: hold the client until another target appears.
  void Refused(Conn& c) {
    WALRUS_LOG_EVERY_MS(Logger("elect"), info, 1000,
                        "proxy: leader {} refused a connection; holding the client", c.target);
    close(c.upstream);
    c.upstream = -1;
    c.failed = c.target;
    c.state = Conn::kWaiting;
  }

  // Moves bytes from `from` into `buf`; false on EOF or error.
  static bool Read(int from, std::string& buf) {
    char tmp[kChunk];
    for (;;) {
      if (buf.size() >= kMaxBuffer) return true;
      const ssize_t n = recv(from, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf.append(tmp, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  }

  // Sends what `to` takes now; false on error.
  bool Write(int to, std::string& buf) {
    while (!buf.empty()) {
      const ssize_t n = send(to, buf.data(), buf.size(), MSG_NOSIGNAL);
      if (n > 0) {
        p.probe_.proxy_bytes.Increment(static_cast<double>(n));
        buf.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    return true;
  }

  void Accept() {
    for (;;) {
      const int fd = accept4(p.listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      NoDelay(fd);
      auto c = std::make_unique<Conn>();
      c->client = fd;
      c->since = std::chrono::steady_clock::now();
      p.probe_.proxy_accepted.Increment();
      if (target) Connect(*c);
      conns.push_back(std::move(c));
    }
  }

  void ApplyTarget() {
    std::optional<std::string> t;
    uint64_t gen;
    {
      std::lock_guard lock(p.mu_);
      t = p.target_;
      gen = p.target_gen_;
    }
    struct Ack {  // tells SetTarget the change is applied, whatever path returns
      LeaderProxy& p;
      uint64_t gen;
      ~Ack() {
        std::lock_guard lock(p.mu_);
        p.applied_gen_ = gen;
        p.applied_cv_.notify_all();
      }
    } ack{p, gen};
    if (t == target) return;
    target = t;
    int dropped = 0;
    for (auto& c : conns) {
      if (c->state != Conn::kWaiting && (!target || c->target != *target)) {
        Close(*c);
        ++dropped;
      }
    }
    p.probe_.proxy_dropped.Increment(dropped);
    Logger("elect")->info(
        "proxy: forwarding to {}{}", target ? *target : "nobody (holding clients)",
        dropped ? fmt::format("; closed {} connections to the old leader", dropped) : "");
  }

  void Timers(TimePoint now) {
    for (auto& c : conns) {
      if (c->dead) continue;
      if (c->state == Conn::kWaiting) {
        if (now - c->since > p.opts_.wait_for_leader) {
          Close(*c);
        } else if (target && *target != c->failed) {
          Connect(*c);
        }
      } else if (c->state == Conn::kConnecting && now > c->connect_deadline) {
        Refused(*c);
      }
    }
  }

  void Run() {
    std::vector<pollfd> fds;
    std::vector<std::pair<Conn*, bool>> owners;  // per fds entry from index 2: (conn, upstream?)
    while (!p.stop_.load()) {
      ApplyTarget();
      Timers(std::chrono::steady_clock::now());
      std::erase_if(conns, [](const auto& c) { return c->dead; });
      p.probe_.proxy_connections.Set(static_cast<double>(conns.size()));
      fds.assign({{p.listen_fd_, POLLIN, 0}, {p.wake_fd_, POLLIN, 0}});
      owners.clear();
      bool timed = false;
      for (auto& c : conns) {
        short ce = 0, ue = 0;
        if (!c->closing && c->to_up.size() < kMaxBuffer) ce |= POLLIN;
        if (!c->to_client.empty()) ce |= POLLOUT;
        if (c->state == Conn::kConnecting) ue = POLLOUT;
        if (c->state == Conn::kOpen) {
          if (!c->closing && c->to_client.size() < kMaxBuffer) ue |= POLLIN;
          if (!c->to_up.empty()) ue |= POLLOUT;
        }
        timed = timed || c->state != Conn::kOpen;
        fds.push_back({c->client, ce, 0});
        owners.emplace_back(c.get(), false);
        if (c->upstream >= 0) {
          fds.push_back({c->upstream, ue, 0});
          owners.emplace_back(c.get(), true);
        }
      }
      if (poll(fds.data(), fds.size(), timed ? 50 : 1000) < 0 && errno != EINTR) return;
      if (fds[1].revents) {
        uint64_t v;
        (void)!read(p.wake_fd_, &v, sizeof v);
      }
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 2; i < fds.size(); ++i) {
        auto [c, up] = owners[i - 2];
        const short ev = fds[i].revents;
        if (c->dead || ev == 0) continue;
        if (up && c->state == Conn::kConnecting) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c->upstream, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            Refused(*c);
          } else {
            c->state = Conn::kOpen;
          }
          continue;
        }
        const int fd = up ? c->upstream : c->client;
        if (ev & (POLLIN | POLLHUP | POLLERR)) {
          if (!Read(fd, up ? c->to_client : c->to_up)) c->closing = true;
        }
      }
      for (auto& c : conns) {
        if (c->dead) continue;
        bool ok = Write(c->client, c->to_client);
        if (c->state == Conn::kOpen) ok = Write(c->upstream, c->to_up) && ok;
        const bool flushed = c->to_client.empty() && (c->state != Conn::kOpen || c->to_up.empty());
        if (!ok || (c->closing && flushed)) Close(*c);
      }
    }
  }
};

LeaderProxy::LeaderProxy(ProxyOptions opts, ElectProbe& probe)
    : opts_(std::move(opts)), probe_(probe) {}

LeaderProxy::~LeaderProxy() { Stop(); }

Status LeaderProxy::Start() {
  const std::string where = opts_.listen.ToString();
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(opts_.listen.host.c_str(), std::to_string(opts_.listen.port).c_str(), &hints,
                  &res) != 0 ||
      !res) {
    return Error(Errc::kInvalidArgument, "proxy: cannot resolve " + where);
  }
  listen_fd_ = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = listen_fd_ >= 0 && bind(listen_fd_, res->ai_addr, res->ai_addrlen) == 0 &&
                  listen(listen_fd_, 128) == 0;
  const int err = errno;
  freeaddrinfo(res);
  if (!ok) {
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    return Error(Errc::kIo, "proxy: cannot listen on " + where + ": " + std::strerror(err));
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  stop_ = false;
  thread_ = std::thread([this] {
    Loop loop{*this, {}, {}};
    loop.Run();
    for (auto& c : loop.conns) loop.Close(*c);
  });
  return {};
}

void LeaderProxy::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  thread_.join();
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  port_ = 0;
}

void LeaderProxy::SetTarget(const std::optional<std::string>& addr) {
  std::unique_lock lock(mu_);
  target_ = addr;
  const uint64_t gen = ++target_gen_;
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  applied_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return applied_gen_ >= gen; });
}

}  // namespace walrus::elect
