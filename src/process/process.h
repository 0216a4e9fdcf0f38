#pragma once

// Process: one child program started with fork/exec — the one process library of walrus, used by
// `walrus demo` (demo/supervisor.h) and the test helpers (testing/child_process.h,
// testing/redis_server.h).
//
//   SpawnOptions o;
//   o.argv = {"redis-server", "--port", "7001"};   // argv[0]: a path, or a name in PATH
//   o.env = {{"WALRUS_LOG_LEVEL", "debug"}};        // added to / overriding ours
//   o.stdout_path = dir + "/redis.log";             // stdout and stderr; empty: inherited
//   auto p = Process::Start(o);                     // kNotFound: no such program
//   if (!p) return p.error();
//   (*p)->Kill(SIGHUP);                             // to its process group
//   int code = (*p)->Stop(std::chrono::seconds(5)); // SIGTERM, SIGKILL after 5 s; 128 + signal
//
// Every child
//   - runs in a process group of its own (new_group, default): a Ctrl-C in our terminal reaches
//     only us; Kill/Stop signal the whole group (a shell's children too);
//   - gets SIGKILL when the thread that started it exits (die_with_parent: PR_SET_PDEATHSIG),
//     even by kill -9, so no orphan stays: start children from a thread that outlives them;
//   - has stdin from stdin_path (default /dev/null), stdout+stderr to stdout_path (truncated or
//     appended), cwd as given;
//   - starts with every signal at its default disposition, an empty signal mask and no
//     inherited descriptor beyond 0, 1 and 2.
// A failed exec (or chdir) is reported by Start with errno's reason, not as exit code 127.
//
// Ownership: the object owns the child; the destructor SIGKILLs the group and reaps it if it
// still runs. Threading: one thread uses an object at a time. Once reaped, no signal is sent
// again (the pid may be recycled).

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace walrus::process {

struct SpawnOptions {
  // argv[0] is the program: a path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Added to (or overriding) our environment.
  std::vector<std::pair<std::string, std::string>> env;
  // Where stdout and stderr go; empty: inherited from us.
  std::string stdout_path;
  bool append_stdout = false;   // append instead of truncating
  std::string cwd;              // empty: ours
  bool die_with_parent = true;  // PR_SET_PDEATHSIG SIGKILL
  std::string stdin_path;       // empty: /dev/null
  bool new_group = true;        // a process group of its own; signals go to the group
};

// For Process::Fork: a child that runs our own code instead of a program.
struct ForkOptions {
  std::string name;              // for messages (CommandLine())
  bool new_group = false;        // a process group of its own
  bool die_with_parent = false;  // PR_SET_PDEATHSIG SIGKILL
};

class Process {
 public:
  // Starts the program. Errors: kNotFound (not found / not executable), kInvalidArgument (empty
  // argv), kIo (stdin/stdout file), kInternal (fork, exec or chdir failed; says why).
  static Result<std::unique_ptr<Process>> Start(const SpawnOptions& opts);

  // Forks a child that runs `body` and _exits with its return value (no exec; stdio, signal
  // dispositions and descriptors are inherited, `body` sets what it needs). Only before the
  // process starts any thread: the child has only the forking thread, and a lock another thread
  // held stays locked in it. Errors: kInternal (fork failed).
  static Result<std::unique_ptr<Process>> Fork(const ForkOptions& opts,
                                               const std::function<int()>& body);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  // Sends `sig` to the child's group (or the child, without new_group); no-op once reaped.
  void Kill(int sig);
  // Waits up to `timeout` for the child to exit: its exit code, or 128 + signal number if a
  // signal ended it. kTimeout if it still runs.
  Result<int> Wait(std::chrono::milliseconds timeout);
  // True while the child has not exited (reaps it if it has; never blocks).
  bool Running();
  // `sig` (and SIGCONT, so a stopped child handles it), up to `grace` to exit, then SIGKILL; reaps.
  // The exit code (128 + signal when one ended it); nullopt if it had already been reaped.
  std::optional<int> Stop(std::chrono::milliseconds grace, int sig = SIGTERM);
  // The exit code once reaped (see Wait); -1 if it was reaped elsewhere.
  std::optional<int> exit_code() const { return exit_code_; }

  const std::string& stdout_path() const { return stdout_path_; }
  // The captured output so far ("" if not captured).
  std::string ReadStdout() const;
  // The program and arguments, joined with spaces, for messages.
  std::string CommandLine() const;

 private:
  Process(pid_t pid, bool group, std::vector<std::string> argv, std::string stdout_path)
      : pid_(pid), group_(group), argv_(std::move(argv)), stdout_path_(std::move(stdout_path)) {}
  void Reaped(int wait_status);
  // Blocks until reaped or `deadline`; true if reaped.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);

  pid_t pid_;
  bool group_;
  std::vector<std::string> argv_;
  std::string stdout_path_;
  std::optional<int> exit_code_;
};

// Signals every running process in `batch` with `sig` (+ SIGCONT) at once, gives them `grace`
// together, then SIGKILLs and reaps the rest: one step of stopping a system in order (callers
// stop their batches in reverse start order). Null entries are skipped.
void StopTogether(const std::vector<Process*>& batch, std::chrono::milliseconds grace,
                  int sig = SIGTERM);

// Full path of an executable regular file: `name` itself if it contains '/', else the first
// match in PATH. kNotFound otherwise (kInvalidArgument for an empty name).
Result<std::string> FindExecutable(const std::string& name);

// The path of the running binary (/proc/self/exe resolved).
Result<std::string> SelfExe();

// Reads a whole file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

}  // namespace walrus::process
