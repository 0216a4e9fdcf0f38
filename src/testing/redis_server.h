#pragma once

// RedisServer: a real redis-server child process for tests, on 127.0.0.1 and a free port,
// in a fresh temporary directory that is removed afterwards.
//
//   auto srv = RedisServer::Start({.args = {"--requirepass", "pw"}});
//   ASSERT_TRUE(srv) << srv.error().message;
//   auto ep = (*srv)->endpoint();  ep.password = "pw";
//   auto conn = redis::Connection::Connect(ep);
//   (*srv)->Kill9();                                 // crash it
//   ASSERT_TRUE((*srv)->Restart());                  // same port and dir: an RDB there is loaded
//
//   auto replica = RedisServer::Start({.args = {"--replicaof", "127.0.0.1",
//                                               std::to_string((*srv)->port())}});
//
// Ownership: owns the process and the directory; the destructor stops the server (SIGTERM,
// then SIGKILL) and removes the directory. Threading: one thread uses an object at a time.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "redis/connection.h"
#include "redis/endpoint.h"
#include "testing/child_process.h"

namespace walrus::test {

struct RedisServerOptions {
  // Extra redis-server arguments, e.g. {"--requirepass", "pw"} or {"--replicaof", host, port}.
  std::vector<std::string> args;
  // false: --save "" (no RDB snapshots, none on shutdown); true: redis' default save points.
  bool persistence = false;
  // Start/Restart return once PING answers anything but -LOADING (a server that requires a
  // password answers -NOAUTH, which counts as up). false: once it answers at all.
  bool wait_until_loaded = true;
  std::chrono::milliseconds start_timeout{10000};
  // Empty: /usr/bin/redis-server if present, else redis-server from PATH.
  std::string binary;
};

class RedisServer {
 public:
  static Result<std::unique_ptr<RedisServer>> Start(RedisServerOptions opts = {});

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  int pid() const { return child_ ? child_->pid() : -1; }
  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  // redis://127.0.0.1:<port> (no credentials).
  std::string url() const;
  redis::Endpoint endpoint() const;
  const std::string& dir() const { return dir_; }
  // The server's log (its stdout) across all starts.
  std::string ReadLog() const { return ReadFile(log_path_); }

  // SIGKILL by pid and reap: a crash, nothing saved.
  void Kill9();
  // SIGTERM and wait (SIGKILL after `timeout`). With persistence, redis saves on SIGTERM.
  Status Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Stops the server if it runs, then starts it again on the same port and directory.
  Status Restart();
  bool running() { return child_ && child_->Running(); }

  // A new client connection to endpoint() (no credentials, no CLIENT SETNAME).
  Result<std::unique_ptr<redis::Connection>> Connect() const;

 private:
  RedisServer(RedisServerOptions opts, std::string binary, std::string dir)
      : opts_(std::move(opts)),
        binary_(std::move(binary)),
        dir_(std::move(dir)),
        log_path_(dir_ + "/redis.log") {}

  // Starts the process on port_ and waits until it answers. kUnavailable if the port was
  // taken (the caller may pick another).
  Status Launch();
  Status WaitReady(std::chrono::steady_clock::time_point deadline);

  RedisServerOptions opts_;
  std::string binary_;
  std::string dir_;
  std::string log_path_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace walrus::test
