#pragma once

// CrashHooks: the test hooks of docs/dead-letters.md. The process _exit(86)s right after the Nth
// committed transaction that has dead letters, before producing them
// (WALRUS_TEST_CRASH_AFTER_COMMIT=N), or after their DLQ acks, before their outbox entries are
// deleted (WALRUS_TEST_CRASH_AFTER_DLQ_ACK=N): the two crash windows of a dead letter,
// deterministically. 0 or unset: off. Read only with the hidden flag --enable-test-hooks
// (ApplyConfig::enable_test_hooks); set without it, they are ignored with a warning.
//
// Owned by the Applier; applier thread only.

#include <cstddef>
#include <cstdint>

namespace walrus::apply {

class CrashHooks {
 public:
  // Reads the environment (once).
  explicit CrashHooks(bool enabled);

  // A transaction with `dead` dead letters committed (counted); exits if it is the Nth.
  void AfterCommit(size_t dead);
  // The dead letters of that transaction were acknowledged; exits if it is the Nth.
  void AfterAck(size_t dead);

 private:
  [[noreturn]] void Crash(const char* where, size_t dead);

  int64_t after_commit_ = 0;
  int64_t after_ack_ = 0;
  int64_t commits_with_dead_letters_ = 0;
};

}  // namespace walrus::apply
