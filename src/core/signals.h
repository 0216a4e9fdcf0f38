#pragma once

// ShutdownSignal: turns SIGTERM/SIGINT into a stop flag for long-running commands.
//
// Construct it in the command's callback BEFORE starting any thread: it blocks the signals in the
// calling thread (inherited by threads created later) and a dedicated thread waits for them with
// sigwait, so no code runs in signal-handler context.
//
//   ShutdownSignal shutdown;
//   Service svc(..., shutdown.flag());
//   svc.Run();                      // returns once flag() is set
//
// A second signal while stopping exits the process immediately (exit code 130), unless it comes
// within kRepeatGrace of the first (one signal delivered twice, e.g. by `timeout` to the process
// and to its group).

#include <atomic>
#include <chrono>
#include <thread>

namespace walrus {

class ShutdownSignal {
 public:
  static constexpr std::chrono::milliseconds kRepeatGrace{500};

  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  const std::atomic<bool>& flag() const { return stop_; }
  // Sets the flag as if a signal had arrived (tests, internal fatal errors).
  void Trigger() { stop_.store(true); }

 private:
  std::atomic<bool> stop_{false};
  std::thread waiter_;
};

}  // namespace walrus
