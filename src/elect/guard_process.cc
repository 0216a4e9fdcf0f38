#include "elect/guard_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "core/log.h"
#include "process/process.h"

namespace walrus::elect {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;

constexpr int64_t kDisarm = 0;

int64_t Ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint FromNs(int64_t ns) { return TimePoint(std::chrono::nanoseconds(ns)); }

// Demotes the local Redis; retried by the caller while it fails.
bool Fence(RedisNode& node, const char* why) {
  auto st = node.Fence();
  if (st) {
    Logger("elect-guard")->warn("fenced the local Redis (REPLICAOF the fence target): {}", why);
    return true;
  }
  WALRUS_LOG_EVERY_MS(Logger("elect-guard"), error, 1000, "cannot fence the local Redis ({}): {}",
                      why, st.error().message);
  return false;
}

}  // namespace

int RunGuard(int fd, const RedisNodeOptions& opts) {
  RedisNode node(opts);
  int64_t deadline = kDisarm;  // steady-clock nanoseconds; kDisarm: not armed
  bool pending = false;        // fired, but the fence has not succeeded yet
  for (;;) {
    int timeout_ms = -1;
    const TimePoint now = std::chrono::steady_clock::now();
    if (pending) {
      timeout_ms = 100;
    } else if (deadline != kDisarm) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(FromNs(deadline) - now).count();
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left));
    }
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) return 2;
    if (n > 0) {
      int64_t msg = 0;
      const ssize_t got = recv(fd, &msg, sizeof msg, 0);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        // The sidecar is gone (exited, killed): nobody renews the lease any more.
        if (deadline != kDisarm || pending) {
          for (int i = 0; i < 20 && !Fence(node, "the sidecar exited while leading"); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
        }
        return 0;
      }
      if (got == static_cast<ssize_t>(sizeof msg)) {
        const bool was_armed = deadline != kDisarm;
        deadline = msg;
        pending = false;
        // Warm the connection when armed, so that the fence is one round trip.
        if (deadline != kDisarm && !was_armed) (void)node.Probe();
      }
      continue;
    }
    if (pending || (deadline != kDisarm && Ns(std::chrono::steady_clock::now()) >= deadline)) {
      deadline = kDisarm;
      pending = !Fence(node, "the lease was not renewed before its deadline");
    }
  }
}

Result<std::unique_ptr<GuardProcess>> GuardProcess::Start(const RedisNodeOptions& node) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Error(Errc::kInternal, std::string("socketpair: ") + std::strerror(errno));
  }
  // No PR_SET_PDEATHSIG and no group of its own: the guard must outlive a killed sidecar (to
  // fence) and ignores the terminal's Ctrl-C.
  auto child = process::Process::Fork({.name = "walrus-guard"}, [&] {
    close(sv[0]);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    prctl(PR_SET_NAME, "walrus-guard");
    return RunGuard(sv[1], node);
  });
  close(sv[1]);
  if (!child) {
    close(sv[0]);
    return child.error();
  }
  return std::unique_ptr<GuardProcess>(new GuardProcess(std::move(*child), sv[0]));
}

GuardProcess::~GuardProcess() {
  close(fd_);
  // The guard may be fencing: up to ~3 s; then the Process destructor SIGKILLs and reaps it.
  (void)proc_->Wait(std::chrono::seconds(3));
}

void GuardProcess::Send(int64_t deadline_ns) {
  if (!alive_) return;
  if (send(fd_, &deadline_ns, sizeof deadline_ns, MSG_NOSIGNAL | MSG_DONTWAIT) !=
      static_cast<ssize_t>(sizeof deadline_ns)) {
    Logger("elect")->error("the fence guard (pid {}) is gone: {}", pid_, std::strerror(errno));
    alive_ = false;
  }
}

void GuardProcess::Arm(TimePoint deadline) { Send(std::max<int64_t>(1, Ns(deadline))); }

void GuardProcess::Disarm() { Send(kDisarm); }

bool GuardProcess::Alive() {
  std::lock_guard lock(proc_mu_);
  if (alive_ && !proc_->Running()) {
    Logger("elect")->error("the fence guard (pid {}) exited", pid_);
    alive_ = false;
  }
  return alive_;
}

}  // namespace walrus::elect
