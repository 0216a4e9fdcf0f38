// Supervisor against real processes (/bin/sh, sleep): start, logs, env, stdin, exit codes,
// SIGTERM then SIGKILL, reverse-order StopAll, own process groups, and that a kill -9 of the
// supervising process takes its children with it (PR_SET_PDEATHSIG).

#include "demo/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace walrus::demo {
namespace {

using namespace std::chrono_literals;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("walrus-sup-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ChildSpec Sh(const std::string& name, const std::string& script,
               const std::string& component = "") {
    return ChildSpec{.name = name,
                     .component = component.empty() ? name : component,
                     .region = "-",
                     .argv = {"/bin/sh", "-c", script},
                     .log_path = Path(name + ".log")};
  }
  std::string Path(const std::string& f) const { return (dir_ / f).string(); }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Polls until `cond` holds or 10 s pass.
  static bool Eventually(const std::function<bool()>& cond) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return cond();
  }
  // True when no process (not even a zombie) has this pid.
  static bool Gone(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return true;
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
  }

  std::filesystem::path dir_;
};

TEST_F(SupervisorTest, StartsWithLogEnvAndStdin) {
  std::ofstream(Path("in.txt")) << "from-stdin\n";
  Supervisor sup;
  ChildSpec s = Sh("a", "echo out-$FOO; echo err >&2; cat");
  s.env = {{"FOO", "bar"}};
  s.stdin_path = Path("in.txt");
  ASSERT_TRUE(sup.Start(s).ok());
  auto code = sup.WaitExit("a", 10s);
  ASSERT_TRUE(code.ok()) << code.error().message;
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(Read(Path("a.log")), "out-bar\nerr\nfrom-stdin\n");
  EXPECT_TRUE(sup.TakeUnexpectedExits().empty());  // awaited, so not unexpected
}

TEST_F(SupervisorTest, ExitCodeAndUnexpectedExit) {
  Supervisor sup;
  ASSERT_TRUE(sup.Start(Sh("quits", "exit 3")).ok());
  ASSERT_TRUE(Eventually([&] { return !sup.Running("quits"); }));
  auto gone = sup.TakeUnexpectedExits();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].spec.name, "quits");
  EXPECT_EQ(gone[0].exit_code, 3);
}

TEST_F(SupervisorTest, MissingProgramIsNotFound) {
  Supervisor sup;
  ChildSpec s{.name = "x", .argv = {"walrus-no-such-program-here"}};
  auto pid = sup.Start(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_TRUE(pid.error().Is(Errc::kNotFound)) << pid.error().message;
  EXPECT_NE(pid.error().message.find("walrus-no-such-program-here"), std::string::npos);
}

TEST_F(SupervisorTest, OwnProcessGroupAndStopBySigterm) {
  Supervisor sup;
  auto pid = sup.Start(Sh("sleeper", "sleep 30"));
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(::getpgid(*pid), *pid);
  EXPECT_NE(::getpgid(*pid), ::getpgid(0));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(sup.Stop("sleeper"), 128 + SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_FALSE(sup.Running("sleeper"));
  EXPECT_TRUE(Gone(*pid));
  EXPECT_TRUE(sup.TakeUnexpectedExits().empty());
}

TEST_F(SupervisorTest, SigtermIgnoredMeansSigkillAfterGrace) {
  Supervisor sup(300ms);
  ASSERT_TRUE(
      sup.Start(Sh("stubborn", "trap '' TERM; echo armed; while :; do sleep 0.05; done")).ok());
  ASSERT_TRUE(Eventually([&] { return Read(Path("stubborn.log")) == "armed\n"; }));
  EXPECT_EQ(sup.Stop("stubborn"), 128 + SIGKILL);
}

TEST_F(SupervisorTest, ChildrenGetCleanSignalMaskFromBlockingParent) {
  // The demo blocks SIGTERM/SIGINT in its threads (ShutdownSignal); children must not inherit it.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  Supervisor sup(5s);
  auto pid = sup.Start(ChildSpec{.name = "s", .argv = {"sleep", "30"}});
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(sup.Stop("s"), 128 + SIGTERM);
}

TEST_F(SupervisorTest, StopAllInReverseOrderAndRestartKeepsPlace) {
  Supervisor sup;
  const std::string order = Path("order.txt");
  for (const std::string name : {"first", "second", "third"}) {
    ASSERT_TRUE(sup.Start(Sh(name, "trap 'echo " + name + " >> " + order +
                                       "; exit 0' TERM; echo up; while :; do sleep 0.05; done"))
                    .ok());
  }
  for (const std::string name : {"first", "second", "third"}) {
    ASSERT_TRUE(Eventually([&] { return Read(Path(name + ".log")) == "up\n"; }));
  }
  // A restarted child keeps its place in the order.
  sup.Stop("first");
  std::filesystem::remove(order);
  std::filesystem::remove(Path("first.log"));
  ASSERT_TRUE(sup.Start(Sh("first", "trap 'echo first >> " + order +
                                        "; exit 0' TERM; echo up; while :; do sleep 0.05; done"))
                  .ok());
  ASSERT_TRUE(Eventually([&] { return Read(Path("first.log")) == "up\n"; }));
  ASSERT_EQ(sup.children().size(), 3u);
  sup.StopAll();
  EXPECT_EQ(Read(order), "third\nsecond\nfirst\n");
  for (const auto& c : sup.children()) {
    EXPECT_FALSE(c.running);
    EXPECT_EQ(c.exit_code, 0) << c.spec.name;
  }
  EXPECT_TRUE(sup.TakeUnexpectedExits().empty());
}

TEST_F(SupervisorTest, KillNineOfTheSupervisorTakesItsChildren) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {  // the "demo": starts a child, reports its pid, waits to be killed
    ::close(fds[0]);
    Supervisor sup;
    auto pid = sup.Start(ChildSpec{.name = "orphan?", .argv = {"sleep", "60"}});
    const pid_t p = pid.ok() ? *pid : -1;
    [[maybe_unused]] auto n = ::write(fds[1], &p, sizeof p);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pid_t child = -1;
  ASSERT_EQ(::read(fds[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ::close(fds[0]);
  ASSERT_GT(child, 0);
  EXPECT_FALSE(Gone(child));
  ::kill(helper, SIGKILL);
  ::waitpid(helper, nullptr, 0);
  EXPECT_TRUE(Eventually([&] { return Gone(child); }))
      << "child " << child << " outlived its parent";
}

}  // namespace
}  // namespace walrus::demo
