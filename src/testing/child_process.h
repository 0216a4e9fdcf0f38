#pragma once

// ChildProcess: a program started with fork/exec for tests (redis-server, walrus itself,
// redis-cli, kcat, ...), with its output captured to a file. It is process::Process
// (src/process/process.h, the one fork/exec stack, shared with `walrus demo`); this header keeps
// the test-side names and adds RunCommand.
//
//   ChildOptions o;
//   o.argv = {"walrus", "apply", "--brokers", brokers, "--topic", "t", "--group", "g"};
//   o.env = {{"WALRUS_LOG_LEVEL", "debug"}};
//   o.stdout_path = dir + "/apply.log";          // stderr goes there too
//   auto p = ChildProcess::Start(o);
//   ASSERT_TRUE(p) << p.error().message;         // e.g. program not found
//   (*p)->Kill(SIGKILL);                         // to its process group
//   auto code = (*p)->Wait(std::chrono::seconds(5));   // 128 + 9
//
//   auto out = RunCommand({"redis-cli", "-p", "6379", "PING"}, std::chrono::seconds(5));
//
// Ownership: the object owns the child; the destructor SIGKILLs and reaps it if it still
// runs. By default the child runs in a process group of its own and gets SIGKILL when the thread
// that started it exits (PR_SET_PDEATHSIG), so a crashed test leaves no strays: start children
// from a thread that outlives them (the test's main thread). Threading: one thread uses an
// object at a time.

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"
#include "process/process.h"

namespace walrus::test {

using ChildOptions = process::SpawnOptions;
using ChildProcess = process::Process;
using process::FindExecutable;
using process::ReadFile;

// Runs a program to completion: its stdout (and stderr). Errors: kNotFound (no such
// program), kTimeout (killed after `timeout`), kInternal (non-zero exit; the message holds
// the exit code and the output).
Result<std::string> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace walrus::test
