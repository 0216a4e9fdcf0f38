// Process against real children (/bin/sh, sleep): output, env, cwd, exit codes, exec failures,
// process groups, SIGTERM then SIGKILL, StopTogether, and PR_SET_PDEATHSIG when a forked
// intermediate parent dies.

#include "process/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

namespace walrus::process {
namespace {

using namespace std::chrono_literals;

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("walrus-process-" + name + "-" + std::to_string(::getpid()) + ".out"))
      .string();
}

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

// True when no live process has this pid (none at all, or a zombie).
bool Gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

std::unique_ptr<Process> Sh(const std::string& script, SpawnOptions o = {}) {
  o.argv = {"/bin/sh", "-c", script};
  auto p = Process::Start(o);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? std::move(*p) : nullptr;
}

TEST(Process, OutputEnvCwdStdinAndExitCode) {
  const std::string in = TempPath("in");
  std::ofstream(in) << "from-stdin\n";
  SpawnOptions o;
  o.env = {{"WALRUS_T_VAR", "from-env"}};
  o.stdout_path = TempPath("capture");
  o.stdin_path = in;
  o.cwd = "/";
  auto p = Sh("echo out; echo err >&2; echo \"$WALRUS_T_VAR\"; pwd; cat; exit 3", o);
  ASSERT_NE(p, nullptr);
  auto code = p->Wait(10s);
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(p->ReadStdout(), "out\nerr\nfrom-env\n/\nfrom-stdin\n");
  EXPECT_FALSE(p->Running());
  // Appending keeps what was there.
  o.append_stdout = true;
  o.stdin_path.clear();
  auto q = Sh("echo more", o);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Wait(10s).ok());
  EXPECT_EQ(q->ReadStdout(), "out\nerr\nfrom-env\n/\nfrom-stdin\nmore\n");
  std::filesystem::remove(o.stdout_path);
  std::filesystem::remove(in);
}

TEST(Process, MissingProgramAndExecFailure) {
  SpawnOptions o;
  o.argv = {"walrus-no-such-program-xyz"};
  auto p = Process::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.error().Is(Errc::kNotFound));
  EXPECT_NE(p.error().message.find("walrus-no-such-program-xyz: not found on PATH"),
            std::string::npos)
      << p.error().message;
  o.argv = {"/bin/true"};
  o.cwd = "/nonexistent-walrus-dir";
  p = Process::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.error().Is(Errc::kInternal));
  EXPECT_NE(p.error().message.find("No such file"), std::string::npos) << p.error().message;
}

TEST(Process, OwnGroupKilledWithTheShellsChildren) {
  const std::string out = TempPath("group");
  SpawnOptions o;
  o.stdout_path = out;
  auto p = Sh("sleep 60 & echo $!; wait", o);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(::getpgid(p->pid()), p->pid());
  EXPECT_NE(::getpgid(p->pid()), ::getpgid(0));
  pid_t grandchild = 0;
  ASSERT_TRUE(
      Eventually([&] { return std::sscanf(p->ReadStdout().c_str(), "%d", &grandchild) == 1; }));
  EXPECT_FALSE(Gone(grandchild));
  p->Kill(SIGKILL);
  auto code = p->Wait(10s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGKILL);
  // The shell's own child was in the group too (reparented and reaped by init once killed).
  EXPECT_TRUE(Eventually([&] { return Gone(grandchild); })) << grandchild;
  p->Kill(SIGKILL);  // after reaping: a no-op, must not hit a recycled pid
  std::filesystem::remove(out);
}

TEST(Process, WaitTimesOutAndStopEscalates) {
  auto p = Sh("sleep 30");
  ASSERT_NE(p, nullptr);
  auto early = p->Wait(50ms);
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(early.error().Is(Errc::kTimeout));
  EXPECT_TRUE(p->Running());
  EXPECT_EQ(p->Stop(5s), 128 + SIGTERM);
  EXPECT_EQ(p->Stop(5s), std::nullopt);  // already reaped

  const std::string out = TempPath("stubborn");
  SpawnOptions o;
  o.stdout_path = out;
  auto stubborn = Sh("trap '' TERM; echo armed; while :; do sleep 0.05; done", o);
  ASSERT_NE(stubborn, nullptr);
  ASSERT_TRUE(Eventually([&] { return stubborn->ReadStdout() == "armed\n"; }));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(stubborn->Stop(300ms), 128 + SIGKILL);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  std::filesystem::remove(out);
}

TEST(Process, StopTogetherWakesAStoppedChildAndStopsTheBatch) {
  auto a = Sh("sleep 30");
  auto b = Sh("sleep 30");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  b->Kill(SIGSTOP);
  StopTogether({a.get(), nullptr, b.get()}, 5s);
  EXPECT_EQ(a->exit_code(), 128 + SIGTERM);
  EXPECT_EQ(b->exit_code(), 128 + SIGTERM);
}

TEST(Process, CleanSignalStateFromABlockingParent) {
  // A parent that blocks SIGTERM in its threads and ignores SIGINT must not pass either on.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  auto old_int = ::signal(SIGINT, SIG_IGN);
  auto p = Sh("sleep 30");
  ::signal(SIGINT, old_int);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_NE(p, nullptr);
  p->Kill(SIGINT);
  auto code = p->Wait(10s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGINT);
}

TEST(Process, DestructorKillsAndReaps) {
  pid_t pid = 0;
  {
    auto p = Sh("sleep 30");
    ASSERT_NE(p, nullptr);
    pid = p->pid();
  }
  EXPECT_TRUE(Gone(pid));
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);  // already reaped: not our child any more
}

TEST(Process, ChildDiesWithItsParent) {
  // A forked intermediate plays the parent: it starts a child, reports its pid and waits to be
  // killed. The child must not outlive it (PR_SET_PDEATHSIG), even after a kill -9.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    ::close(fds[0]);
    SpawnOptions o;
    o.argv = {"sleep", "60"};  // exec'd directly: a shell might fork it and outlive it
    auto p = Process::Start(o);
    const pid_t child = p.ok() ? (*p)->pid() : -1;
    [[maybe_unused]] auto n = ::write(fds[1], &child, sizeof child);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pid_t child = -1;
  ASSERT_EQ(::read(fds[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ::close(fds[0]);
  ASSERT_GT(child, 0);
  EXPECT_FALSE(Gone(child));
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  EXPECT_TRUE(Eventually([&] { return Gone(child); }))
      << "child " << child << " outlived its parent";
}

TEST(Process, ForkRunsTheBodyInTheChild) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto p = Process::Fork({.name = "helper"}, [&] {
    const pid_t me = ::getpid();
    [[maybe_unused]] auto n = ::write(fds[1], &me, sizeof me);
    return 7;
  });
  ::close(fds[1]);
  ASSERT_TRUE(p.ok()) << p.error().message;
  pid_t reported = 0;
  ASSERT_EQ(::read(fds[0], &reported, sizeof reported), static_cast<ssize_t>(sizeof reported));
  ::close(fds[0]);
  EXPECT_EQ(reported, (*p)->pid());
  auto code = (*p)->Wait(10s);
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 7);
  EXPECT_EQ((*p)->CommandLine(), "helper");
}

TEST(FindExecutable, PathLookupAndErrors) {
  auto sh = FindExecutable("sh");
  ASSERT_TRUE(sh.ok()) << sh.error().message;
  EXPECT_EQ(sh->back(), 'h');
  EXPECT_TRUE(FindExecutable("/bin/sh").ok());
  EXPECT_TRUE(FindExecutable("/tmp").error().Is(Errc::kNotFound));  // a directory
  EXPECT_TRUE(FindExecutable("").error().Is(Errc::kInvalidArgument));
  EXPECT_TRUE(SelfExe().ok());
}

}  // namespace
}  // namespace walrus::process
