// ShutdownSignal with real signals sent to the process (each case runs in a death-test child,
// so the test binary's own signal mask is untouched).

#include "core/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace walrus {
namespace {

using namespace std::chrono_literals;

// Polls `flag` for up to 5 s.
bool WaitSet(const std::atomic<bool>& flag) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!flag.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(ShutdownSignalDeathTest, FirstSignalSetsTheFlagAndADuplicateIsIgnored) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ShutdownSignal s;
        kill(getpid(), SIGINT);
        if (!WaitSet(s.flag())) _exit(2);
        kill(getpid(), SIGINT);  // the same signal again at once: still shutting down
        std::this_thread::sleep_for(ShutdownSignal::kRepeatGrace / 2);
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ShutdownSignalDeathTest, SecondSignalAfterTheGraceExitsAt130) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ShutdownSignal s;
        kill(getpid(), SIGTERM);
        if (!WaitSet(s.flag())) _exit(2);
        std::this_thread::sleep_for(ShutdownSignal::kRepeatGrace + 100ms);
        kill(getpid(), SIGTERM);
        std::this_thread::sleep_for(5s);  // the waiter exits the process meanwhile
        _exit(0);
      },
      ::testing::ExitedWithCode(130), "");
}

}  // namespace
}  // namespace walrus
