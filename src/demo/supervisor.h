#pragma once

// Supervisor: starts the demo's child processes (walrus itself, redis-server) and stops them
// again, so that none outlives the demo. Each child is a process::Process (src/process); the
// Supervisor adds names, the table, restarts in place, unexpected exits and the stop order.
//
//   Supervisor sup;
//   ChildSpec s{.name = "redis-us", .component = "redis", .region = "us",
//               .argv = {"/usr/bin/redis-server", "--port", "7001"}, .log_path = dir +
//               "/redis-us.log"};
//   auto pid = sup.Start(s);                  // fork + exec; kNotFound if the program is missing
//   if (!sup.Running("redis-us")) ...;        // reaps it if it exited
//   sup.Stop("redis-us");                     // SIGTERM, SIGKILL after the grace period, reaped
//   auto code = sup.WaitExit("verify", 30s);  // for short-lived children: exit code or kTimeout
//   sup.StopAll();                            // reverse start order (also in ~Supervisor)
//
// Every child (process/process.h)
//   - runs in a process group of its own: a Ctrl-C in the terminal reaches only the demo, which
//     then stops the children in reverse order; signals go to the whole group;
//   - gets SIGKILL when the demo dies (PR_SET_PDEATHSIG), even by kill -9, so no orphan stays;
//   - has stdout and stderr appended to its log file and stdin from /dev/null (or a file);
//   - starts with the default signal mask and dispositions and no inherited descriptors.
// PR_SET_PDEATHSIG fires when the *thread* that forked exits: call Start from the thread that
// lives as long as the children (the demo's main thread).
//
// Ownership: owns its children (by pid). Threading: one thread uses a Supervisor.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "process/process.h"

namespace walrus::demo {

struct ChildSpec {
  std::string name;       // unique, e.g. "apply-us"
  std::string component;  // e.g. "apply": the table's first column; StopAll stops a run of
                          // neighbours with the same component together
  std::string region;     // "us", or "-"
  // argv[0] is the program: an absolute path, or a name looked up in PATH.
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // added to / overriding the demo's env
  std::string log_path;    // stdout+stderr are appended here; empty: /dev/null
  std::string stdin_path;  // empty: /dev/null
  std::string address;     // what it serves, for the table (free text)
};

// One child as the table shows it.
struct ChildInfo {
  ChildSpec spec;
  pid_t pid = -1;
  bool running = false;
  std::optional<int> exit_code;  // once reaped: exit code, or 128 + signal
};

class Supervisor {
 public:
  explicit Supervisor(std::chrono::milliseconds stop_grace = std::chrono::seconds(5));
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts a child. A name seen before (a stopped child) is restarted in its old place, which
  // StopAll respects. Errors: kNotFound (program not found / not executable), kInvalidArgument
  // (name already running), kIo (log file), kInternal (fork/exec failed, with the reason).
  Result<pid_t> Start(const ChildSpec& spec);
  // True while the child runs; reaps it if it has exited.
  bool Running(const std::string& name);
  // Sends `sig` to the child's process group (no-op if it is not running).
  void Signal(const std::string& name, int sig);
  // SIGTERM (or `sig`), waits up to the grace period, then SIGKILL; reaps. Returns the exit
  // code (128 + signal when a signal ended it); nullopt if the child was not running.
  std::optional<int> Stop(const std::string& name, int sig = SIGTERM);
  // SIGKILL and reap at once (fault injection).
  void Kill(const std::string& name);
  // Waits up to `timeout` for a child to exit on its own: exit code, kTimeout if it still
  // runs, kNotFound if no such child.
  Result<int> WaitExit(const std::string& name, std::chrono::milliseconds timeout);
  // Stops every running child in reverse start order; neighbours with the same component are
  // signalled together and then awaited (grace, then SIGKILL). Idempotent.
  void StopAll();

  // Children that exited since the last call without having been stopped through this object.
  std::vector<ChildInfo> TakeUnexpectedExits();
  // Every child ever started, in start order (the table).
  const std::vector<ChildInfo>& children() const { return children_; }
  const ChildInfo* Find(const std::string& name) const;
  // Sets the ADDRESS column of a child (known only once it runs, e.g. Kafka's bootstrap).
  void SetAddress(const std::string& name, std::string address);

 private:
  ChildInfo* FindMutable(const std::string& name);
  process::Process* ProcessOf(const ChildInfo& c);
  // Non-blocking reap of one child; true if it is (now) not running.
  bool Reap(ChildInfo& c);
  // Updates the table once the child's process has been reaped.
  void Reaped(ChildInfo& c);

  std::chrono::milliseconds stop_grace_;
  std::vector<ChildInfo> children_;
  std::vector<std::unique_ptr<process::Process>> procs_;  // procs_[i] runs children_[i]
  std::vector<std::string> stopping_;  // names being stopped by us (not "unexpected")
  std::vector<ChildInfo> unexpected_;
};

// Full path of an executable: `name` itself if it contains '/', else the first match in PATH.
// kNotFound otherwise. (process::FindExecutable.)
inline Result<std::string> FindProgram(const std::string& name) {
  return process::FindExecutable(name);
}

// The path of the running binary (/proc/self/exe resolved).
using process::SelfExe;

}  // namespace walrus::demo
