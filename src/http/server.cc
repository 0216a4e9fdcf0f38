#include "http/server.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <optional>
#include <thread>

#include "core/log.h"
#include "http/connection.h"

namespace walrus::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kStopGrace = 3s;
constexpr auto kAcceptRetry = 100ms;

// Raises the soft open-files limit to the hard one (once per process), so max_connections is
// not cut short by a default soft limit of 1024. Returns the soft limit now in force.
rlim_t RaiseFileLimit() {
  static const rlim_t limit = [] {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return rlim_t{1024};
    if (rl.rlim_cur < rl.rlim_max) {
      rlimit want = rl;
      want.rlim_cur = rl.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    return rl.rlim_cur;
  }();
  return limit;
}

}  // namespace

struct Server::Impl {
  Impl(const ServerOptions& o, Handler h, LaneOf l) : core(o, std::move(h), std::move(l)) {}

  void Accept();
  void OnAccept(const boost::system::error_code& ec, tcp::socket s);
  void RefuseOverCap(tcp::socket& s);
  bool EvictOldestWaiting();

  ServerCore core;            // declared first: outlives the io_context and every connection
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer retry{ioc};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::vector<std::thread> threads;
  std::string refusal;  // the canned 503 over the connection cap
};

void Server::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [this](const boost::system::error_code& ec, tcp::socket s) {
                          OnAccept(ec, std::move(s));
                        });
}

void Server::Impl::RefuseOverCap(tcp::socket& s) {
  // Best effort, never blocking: a fresh socket's send buffer takes these few hundred bytes.
  boost::system::error_code ec;
  s.non_blocking(true, ec);
  s.write_some(asio::buffer(refusal), ec);
  s.shutdown(tcp::socket::shutdown_both, ec);
  s.close(ec);
}

// At the cap: rather than refusing the newcomer, close the connection that has waited longest for
// a request (idle keep-alive, or a head still incomplete: slowloris), so a flood of idle or slow
// connections cannot lock out a client that sends its request at once. Connections in a request,
// a response or a stream are never evicted.
bool Server::Impl::EvictOldestWaiting() {
  std::shared_ptr<Connection> oldest;
  int64_t since = 0;
  {
    std::lock_guard lock(core.mu);
    for (auto& [raw, weak] : core.live) {
      const int64_t w = raw->waiting_since();
      if (w != 0 && (since == 0 || w < since)) {
        if (auto c = weak.lock()) {
          oldest = std::move(c);
          since = w;
        }
      }
    }
  }
  if (!oldest) return false;
  WALRUS_LOG_EVERY_MS(Logger("http"), warn, 5000,
                      "{}: {} connections open (the cap): closing the one that waited longest "
                      "for a request to make room",
                      core.opts.name, core.opts.max_connections);
  oldest->Evict();
  return true;
}

void Server::Impl::OnAccept(const boost::system::error_code& ec, tcp::socket s) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // EMFILE/ENFILE and friends: back off a little instead of spinning.
    WALRUS_LOG_EVERY_MS(Logger("http"), warn, 5000, "{}: accept failed: {}", core.opts.name,
                        ec.message());
    retry.expires_after(kAcceptRetry);
    retry.async_wait([this](const boost::system::error_code& e) {
      if (!e) Accept();
    });
    return;
  }
  if (core.open.load() >= core.opts.max_connections && EvictOldestWaiting()) {
    std::make_shared<Connection>(core, std::move(s))->Start();
  } else if (core.open.load() >= core.opts.max_connections) {
    if (core.probe) core.probe->refused.Increment();
    if (core.opts.on_refusal) core.opts.on_refusal(503);
    WALRUS_LOG_EVERY_MS(Logger("http"), warn, 5000,
                        "{}: {} connections open (the cap): refusing new ones with 503",
                        core.opts.name, core.opts.max_connections);
    RefuseOverCap(s);
  } else {
    std::make_shared<Connection>(core, std::move(s))->Start();
  }
  Accept();
}

Server::Server(ServerOptions opts, Handler handler, LaneOf lane_of)
    : opts_(std::move(opts)), handler_(std::move(handler)), lane_of_(std::move(lane_of)) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  if (impl_) return Error(Errc::kInvalidArgument, opts_.name + " server already started");
  const std::string where = opts_.addr.ToString();
  if (opts_.addr.port < 0 || opts_.addr.port > 65535) {
    return Error(Errc::kInvalidArgument, "bad port in " + where);
  }
  const rlim_t files = RaiseFileLimit();
  if (static_cast<rlim_t>(opts_.max_connections) + 64 > files) {
    Logger("http")->warn("{}: max connections {} is close to the open-files limit {}", opts_.name,
                         opts_.max_connections, static_cast<uint64_t>(files));
  }
  auto impl = std::make_unique<Impl>(opts_, handler_, lane_of_);
  impl->refusal =
      "HTTP/1.1 503 Service Unavailable\r\n" + impl->core.default_headers +
      "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
      "Content-Length: 45\r\n\r\n{\"error\":\"too many connections: try again\"}\n";
  boost::system::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto results = resolver.resolve(opts_.addr.host, std::to_string(opts_.addr.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error(Errc::kIo, "cannot listen on " + where + ": " +
                                (ec ? ec.message() : std::string("cannot resolve host")));
  }
  const tcp::endpoint ep = results.begin()->endpoint();
  auto& a = impl->acceptor;
  a.open(ep.protocol(), ec);
  // SO_REUSEADDR (restart over TIME_WAIT), never SO_REUSEPORT: a second server must not share
  // a running one's port.
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error(Errc::kIo, "cannot listen on " + where + ": " + ec.message());
  port_ = a.local_endpoint().port();
  impl->guard.emplace(impl->ioc.get_executor());
  impl->Accept();
  for (int i = 0; i < std::max(1, opts_.io_threads); ++i) {
    impl->threads.emplace_back([io = &impl->ioc] { io->run(); });
  }
  impl_ = std::move(impl);
  return Status::Ok();
}

void Server::Stop() {
  if (!impl_) return;
  Impl& im = *impl_;
  asio::post(im.ioc, [&im] {
    boost::system::error_code ec;
    im.acceptor.close(ec);
    im.retry.cancel();
  });
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(im.core.mu);
    for (auto& [raw, weak] : im.core.live) {
      if (auto c = weak.lock()) conns.push_back(std::move(c));
    }
  }
  for (auto& c : conns) c->Shutdown();
  conns.clear();
  // Running handlers finish (their answers go to closed connections); queued ones are dropped.
  im.core.workers.Stop();
  im.core.reserved.Stop();
  im.guard.reset();
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  while (im.core.open.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  im.ioc.stop();
  for (auto& t : im.threads) t.join();
  impl_.reset();  // the io_context goes (and any connection still held by a handler), then core
  port_ = 0;
}

}  // namespace walrus::http
