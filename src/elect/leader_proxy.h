#pragma once

// LeaderProxy: a TCP listener on every node that forwards each client connection to the current
// leader's Redis, so any Redis client works without Sentinel support.
//
//   LeaderProxy proxy({.listen = *http::ParseHostPort("0.0.0.0:6380")}, probe);
//   if (auto st = proxy.Start(); !st) return Fail(st.error().message);
//   elector.SetTargetCallback([&](const auto& addr) { proxy.SetTarget(addr); });
//
// Behaviour:
//   * a new connection goes to the target (the serving leader's advertise address);
//   * with no target yet (election in progress), or when the target refuses, the client is held
//     (its bytes buffered) for up to wait_for_leader, then forwarded as soon as a leader serves,
//     so a failover looks like a slow first reply rather than a refused connection;
//   * when the target changes, every connection to another address is closed at once: a client
//     never keeps talking to a deposed leader (its next connection reaches the new one);
//   * bytes are copied as they are (no RESP parsing), TCP_NODELAY on both sides.
//
// Threading: one proxy thread (poll over all sockets) owned by the object; SetTarget from any
// thread (it wakes the proxy thread through an eventfd).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/result.h"
#include "elect/elect_probe.h"
#include "http/host_port.h"

namespace walrus::elect {

struct ProxyOptions {
  http::HostPort listen;
  std::chrono::milliseconds wait_for_leader{5000};
  std::chrono::milliseconds connect_timeout{1000};
};

class LeaderProxy {
 public:
  LeaderProxy(ProxyOptions opts, ElectProbe& probe);
  ~LeaderProxy();
  LeaderProxy(const LeaderProxy&) = delete;
  LeaderProxy& operator=(const LeaderProxy&) = delete;

  // Binds the listener and starts the thread. Errors name the address (kIo).
  Status Start();
  // Closes the listener and every connection; joins the thread. Idempotent.
  void Stop();
  int port() const { return port_.load(); }

  // Where connections go from now on ("host:port"); nullopt: hold new clients. Returns once the
  // proxy thread has closed the connections to any other address (or after 1 s if it is stuck).
  void SetTarget(const std::optional<std::string>& addr);

 private:
  struct Conn;
  struct Loop;

  const ProxyOptions opts_;
  ElectProbe& probe_;
  std::mutex mu_;  // guards target_, target_gen_, applied_gen_
  std::condition_variable applied_cv_;
  std::optional<std::string> target_;
  uint64_t target_gen_ = 0;
  uint64_t applied_gen_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> port_{0};
  std::thread thread_;
};

}  // namespace walrus::elect
