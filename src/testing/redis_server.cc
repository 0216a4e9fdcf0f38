#include "testing/redis_server.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>

#include "testing/free_port.h"

namespace walrus::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPortAttempts = 5;
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr size_t kLogTail = 2000;

Result<std::string> FindRedisServer(const std::string& configured) {
  if (!configured.empty()) return FindExecutable(configured);
  if (access("/usr/bin/redis-server", X_OK) == 0) return std::string("/usr/bin/redis-server");
  return FindExecutable("redis-server");
}

Result<std::string> MakeTempDir() {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string tmpl = (base / "walrus-redis-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return Error(Errc::kInternal, "mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  return tmpl;
}

std::string Tail(const std::string& s) {
  return s.size() <= kLogTail ? s : "..." + s.substr(s.size() - kLogTail);
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions opts) {
  auto binary = FindRedisServer(opts.binary);
  if (!binary) return binary.error();
  auto dir = MakeTempDir();
  if (!dir) return dir.error();
  std::unique_ptr<RedisServer> srv(new RedisServer(std::move(opts), *binary, *dir));
  // FreePort() can race with other processes: retry with a new port if it was taken.
  Status st;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    srv->port_ = FreePort();
    st = srv->Launch();
    if (st || !st.error().Is(Errc::kUnavailable)) break;
  }
  if (!st) return st.error();
  return srv;
}

RedisServer::~RedisServer() {
  (void)Stop(std::chrono::seconds(5));
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

redis::Endpoint RedisServer::endpoint() const {
  redis::Endpoint ep;
  ep.host = host();
  ep.port = port_;
  return ep;
}

Status RedisServer::Launch() {
  ChildOptions co;
  co.argv = {binary_,        "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_,
             "--appendonly", "no",     "--daemonize",         "no",     "--logfile", ""};
  if (!opts_.persistence) {
    co.argv.push_back("--save");
    co.argv.push_back("");
  }
  co.argv.insert(co.argv.end(), opts_.args.begin(), opts_.args.end());
  co.stdout_path = log_path_;
  co.append_stdout = true;
  co.cwd = dir_;
  const size_t log_start = ReadLog().size();

  auto child = ChildProcess::Start(co);
  if (!child) return child.error();
  child_ = std::move(*child);
  Status st = WaitReady(Clock::now() + opts_.start_timeout);
  if (!st) {
    const std::string log = ReadLog().substr(log_start);
    child_->Kill(SIGKILL);
    (void)child_->Wait(std::chrono::seconds(5));
    child_.reset();
    const Errc code = log.find("Address already in use") != std::string::npos
                          ? Errc::kUnavailable
                          : static_cast<Errc>(st.error().code.value());
    return Error(code, "redis-server on port " + std::to_string(port_) + ": " + st.error().message +
                           "\n--- log ---\n" + Tail(log));
  }
  return Status::Ok();
}

Status RedisServer::WaitReady(Clock::time_point deadline) {
  redis::ConnectOptions co;
  co.client_name.clear();
  co.connect_timeout = std::chrono::milliseconds(500);
  co.io_timeout = std::chrono::milliseconds(2000);
  std::string last = "no attempt";
  while (Clock::now() < deadline) {
    if (!child_->Running()) {
      return Error(Errc::kInternal,
                   "exited with code " + std::to_string(*child_->exit_code()) + " while starting");
    }
    auto conn = redis::Connection::Connect(endpoint(), co);
    if (conn) {
      auto pong = (*conn)->Command({"PING"});
      if (pong) {
        if (!opts_.wait_until_loaded || pong->ErrorPrefix() != "LOADING") return Status::Ok();
        last = std::string(pong->str());
      } else {
        last = pong.error().message;
      }
    } else {
      last = conn.error().message;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return Error(Errc::kTimeout, "not ready after " + std::to_string(opts_.start_timeout.count()) +
                                   " ms (last: " + last + ")");
}

void RedisServer::Kill9() {
  if (!child_) return;
  child_->Kill(SIGKILL);
  (void)child_->Wait(std::chrono::seconds(10));
}

Status RedisServer::Stop(std::chrono::milliseconds timeout) {
  if (!child_ || !child_->Running()) return Status::Ok();
  child_->Kill(SIGTERM);
  auto code = child_->Wait(timeout);
  if (!code) {
    child_->Kill(SIGKILL);
    (void)child_->Wait(std::chrono::seconds(10));
    return Error(Errc::kTimeout, "redis-server (pid " + std::to_string(child_->pid()) +
                                     ") ignored SIGTERM for " + std::to_string(timeout.count()) +
                                     " ms; killed");
  }
  return Status::Ok();
}

Status RedisServer::Restart() {
  if (Status st = Stop(); !st) return st;
  // The old socket may linger briefly; redis binds with SO_REUSEADDR, and a start that still
  // loses the port is retried until the start deadline.
  const auto deadline = Clock::now() + opts_.start_timeout;
  Status st;
  while (true) {
    st = Launch();
    if (st || !st.error().Is(Errc::kUnavailable) || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return st;
}

Result<std::unique_ptr<redis::Connection>> RedisServer::Connect() const {
  redis::ConnectOptions co;
  co.client_name.clear();
  return redis::Connection::Connect(endpoint(), co);
}

}  // namespace walrus::test
