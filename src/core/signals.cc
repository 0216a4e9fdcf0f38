#include "core/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "core/log.h"

namespace walrus {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);  // internal wake-up used by the destructor
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  waiter_ = std::thread([this, set] {
    std::chrono::steady_clock::time_point first{};
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR2) return;
      const auto now = std::chrono::steady_clock::now();
      if (stop_.exchange(true)) {
        // The same signal delivered twice at once (`timeout`, or a supervisor signalling the
        // process and its group) is not an operator insisting.
        if (now - first < kRepeatGrace) {
          Logger("main")->info("signal {} again within {} ms: already shutting down", sig,
                               kRepeatGrace.count());
          continue;
        }
        Logger("main")->warn("second signal {}: exiting immediately", sig);
        _exit(130);
      }
      first = now;
      Logger("main")->info("signal {} received: shutting down", sig);
    }
  });
}

ShutdownSignal::~ShutdownSignal() {
  pthread_kill(waiter_.native_handle(), SIGUSR2);
  waiter_.join();
}

}  // namespace walrus
