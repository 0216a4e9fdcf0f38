#include "testing/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "testing/free_port.h"

namespace walrus::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "-" + std::to_string(getpid()) + ".out"))
      .string();
}

TEST(ChildProcess, CapturesStdoutAndStderrAndExitCode) {
  ChildOptions o;
  o.argv = {"sh", "-c", "echo out; echo err >&2; echo \"$WALRUS_T_VAR\"; pwd; exit 3"};
  o.env = {{"WALRUS_T_VAR", "from-env"}};
  o.stdout_path = TempPath("capture");
  o.cwd = "/";
  auto p = ChildProcess::Start(o);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_GT((*p)->pid(), 0);
  auto code = (*p)->Wait(seconds(10));
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 3);
  EXPECT_EQ((*p)->ReadStdout(), "out\nerr\nfrom-env\n/\n");
  EXPECT_FALSE((*p)->Running());
  std::filesystem::remove(o.stdout_path);
}

TEST(ChildProcess, WaitTimesOutThenKillReportsSignal) {
  ChildOptions o;
  o.argv = {"sleep", "30"};
  auto p = ChildProcess::Start(o);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto early = (*p)->Wait(milliseconds(50));
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(early.error().Is(Errc::kTimeout));
  EXPECT_TRUE((*p)->Running());
  (*p)->Kill(SIGKILL);
  auto code = (*p)->Wait(seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGKILL);
  (*p)->Kill(SIGKILL);  // after reaping: a no-op, must not hit a recycled pid
}

TEST(ChildProcess, MissingProgramIsNotFound) {
  ChildOptions o;
  o.argv = {"walrus-no-such-program-xyz"};
  auto p = ChildProcess::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.error().Is(Errc::kNotFound));
  EXPECT_NE(p.error().message.find("walrus-no-such-program-xyz"), std::string::npos);
}

TEST(ChildProcess, ExecFailureIsReported) {
  ChildOptions o;
  o.argv = {"/bin/true"};
  o.cwd = "/nonexistent-walrus-dir";
  auto p = ChildProcess::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("No such file"), std::string::npos) << p.error().message;
}

TEST(ChildProcess, DestructorKillsARunningChild) {
  int pid = 0;
  {
    ChildOptions o;
    o.argv = {"sleep", "30"};
    auto p = ChildProcess::Start(o);
    ASSERT_TRUE(p.ok());
    pid = (*p)->pid();
  }
  // Reaped by the destructor: the pid no longer exists (or was recycled to another process,
  // which is not our child either).
  const bool still_our_running_child = kill(pid, 0) == 0 && waitpid(pid, nullptr, WNOHANG) == 0;
  EXPECT_FALSE(still_our_running_child);
}

TEST(RunCommand, ReturnsOutputOrError) {
  auto ok = RunCommand({"printf", "a%sb", "-"}, seconds(10));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, "a-b");
  auto fail = RunCommand({"sh", "-c", "echo bad; exit 2"}, seconds(10));
  ASSERT_FALSE(fail.ok());
  EXPECT_NE(fail.error().message.find("exited with 2: bad"), std::string::npos)
      << fail.error().message;
  auto slow = RunCommand({"sleep", "30"}, milliseconds(100));
  ASSERT_FALSE(slow.ok());
  EXPECT_TRUE(slow.error().Is(Errc::kTimeout));
}

TEST(FreePort, IsBindable) {
  const int port = FreePort();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
}

TEST(Eventually, TrueWhenConditionBecomesTrueFalseOnTimeout) {
  int calls = 0;
  EXPECT_TRUE(Eventually([&] { return ++calls >= 3; }, seconds(5), milliseconds(1)));
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(Eventually([] { return false; }, milliseconds(30)));
}

}  // namespace
}  // namespace walrus::test
