#pragma once

// GuardProcess: the DeadlineGuard of `walrus elect`, a forked child process that demotes the
// local Redis (RedisNode::Fence, i.e. REPLICAOF the fence target) when the lease may run out.
//
// Why a separate process: the sidecar itself cannot fence when it is frozen (SIGSTOP, a stalled
// VM, a long GC-like pause) or killed — exactly the cases where its lease silently expires and
// another node is elected. The guard only waits on a socket, so it keeps its own deadline:
//
//   leader renews at t           -> Arm(t + ttl - fence_margin)    (the guard re-arms)
//   no Arm before the deadline   -> REPLICAOF fence target        (read-only before expiry)
//   the sidecar exits or dies    -> fences at once if armed, then exits (socket EOF)
//   Disarm()                     -> follower: nothing to fence
//
//   auto guard = GuardProcess::Start(node_opts);   // before any thread is started
//   if (!guard) return Fail(guard.error().message);
//   (*guard)->Arm(std::chrono::steady_clock::now() + std::chrono::seconds(1));
//
// Deadlines are CLOCK_MONOTONIC (std::chrono::steady_clock), shared by both processes. The guard
// ignores SIGINT/SIGTERM (a Ctrl-C to the process group must not fence a healthy leader); the
// sidecar's shutdown disarms it and closes the socket. If the guard dies, Alive() turns false
// and the elector steps down (a leader without a guard is not fenced against freezes).
//
// The child is a process::Process (src/process) forked without exec, in our process group and
// without PR_SET_PDEATHSIG. Threading: Start() forks without exec, so it must run before the
// process starts any thread.
// Arm/Disarm are for one thread (the elector thread); Alive may be called from any thread.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "core/result.h"
#include "elect/lease_backend.h"
#include "elect/redis_node.h"
#include "process/process.h"

namespace walrus::elect {

class GuardProcess final : public DeadlineGuard {
 public:
  static Result<std::unique_ptr<GuardProcess>> Start(const RedisNodeOptions& node);

  // Closes the socket (the guard fences if still armed, then exits) and reaps the child.
  ~GuardProcess() override;
  GuardProcess(const GuardProcess&) = delete;
  GuardProcess& operator=(const GuardProcess&) = delete;

  void Arm(std::chrono::steady_clock::time_point deadline) override;
  void Disarm() override;
  bool Alive() override;
  int pid() const { return pid_; }

 private:
  GuardProcess(std::unique_ptr<process::Process> proc, int fd)
      : proc_(std::move(proc)), pid_(proc_->pid()), fd_(fd) {}
  void Send(int64_t deadline_ns);

  std::mutex proc_mu_;  // Alive() may run on any thread; Process is for one at a time
  std::unique_ptr<process::Process> proc_;
  int pid_;
  int fd_;
  std::atomic<bool> alive_{true};
};

// The guard's loop (in the child): returns the exit code. Exposed for the tests.
int RunGuard(int fd, const RedisNodeOptions& node);

}  // namespace walrus::elect
