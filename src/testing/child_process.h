#pragma once

// ChildProcess: a program started with fork/exec for tests (redis-server, walrus itself,
// redis-cli, kcat, ...), with its output captured to a file.
//
//   ChildOptions o;
//   o.argv = {"walrus", "apply", "--brokers", brokers, "--topic", "t", "--group", "g"};
//   o.env = {{"WALRUS_LOG_LEVEL", "debug"}};
//   o.stdout_path = dir + "/apply.log";          // stderr goes there too
//   auto p = ChildProcess::Start(o);
//   ASSERT_TRUE(p) << p.error().message;         // e.g. program not found
//   (*p)->Kill(SIGKILL);
//   auto code = (*p)->Wait(std::chrono::seconds(5));   // 128 + 9
//
//   auto out = RunCommand({"redis-cli", "-p", "6379", "PING"}, std::chrono::seconds(5));
//
// Ownership: the object owns the child; the destructor SIGKILLs and reaps it if it still
// runs. By default the child also gets SIGKILL when the thread that started it exits
// (PR_SET_PDEATHSIG), so a crashed test leaves no strays: start children from a thread that
// outlives them (the test's main thread). Threading: one thread uses an object at a time.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace walrus::test {

struct ChildOptions {
  // argv[0] is the program: a path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Added to (or overriding) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  // Where stdout and stderr go; empty: inherited from the parent. stdin is /dev/null.
  std::string stdout_path;
  bool append_stdout = false;  // append instead of truncating
  std::string cwd;             // empty: the parent's
  bool die_with_parent = true;
};

class ChildProcess {
 public:
  // Starts the program. kNotFound if it is not found or not executable, kInternal if exec
  // fails otherwise (the message says why).
  static Result<std::unique_ptr<ChildProcess>> Start(const ChildOptions& opts);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  int pid() const { return pid_; }
  // Sends `sig`; a no-op once the child has been reaped.
  void Kill(int sig);
  // Waits up to `timeout` for the child to exit: its exit code, or 128 + signal number if a
  // signal ended it. kTimeout if it still runs.
  Result<int> Wait(std::chrono::milliseconds timeout);
  // True while the child has not exited (reaps it if it has).
  bool Running();
  // The exit code once reaped (see Wait).
  std::optional<int> exit_code() const { return exit_code_; }

  const std::string& stdout_path() const { return stdout_path_; }
  // The captured output so far ("" if not captured).
  std::string ReadStdout() const;
  // The program and arguments, joined with spaces, for messages.
  std::string CommandLine() const;

 private:
  ChildProcess(int pid, std::vector<std::string> argv, std::string stdout_path)
      : pid_(pid), argv_(std::move(argv)), stdout_path_(std::move(stdout_path)) {}
  void Reaped(int wait_status);

  int pid_;
  std::vector<std::string> argv_;
  std::string stdout_path_;
  std::optional<int> exit_code_;
};

// Runs a program to completion: its stdout (and stderr). Errors: kNotFound (no such
// program), kTimeout (killed after `timeout`), kInternal (non-zero exit; the message holds
// the exit code and the output).
Result<std::string> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Full path of an executable: `name` itself if it contains '/', else the first match in
// PATH. kNotFound otherwise.
Result<std::string> FindExecutable(const std::string& name);

// Reads a whole file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

}  // namespace walrus::test
