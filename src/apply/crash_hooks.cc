#include "apply/crash_hooks.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "core/log.h"

namespace walrus::apply {

CrashHooks::CrashHooks(bool enabled) {
  for (auto [name, target] : {std::pair{"WALRUS_TEST_CRASH_AFTER_COMMIT", &after_commit_},
                              std::pair{"WALRUS_TEST_CRASH_AFTER_DLQ_ACK", &after_ack_}}) {
    const char* n = std::getenv(name);
    if (n != nullptr && *n != '\0' && !enabled) {
      Logger("apply")->warn("{} is set but ignored: test hooks need --enable-test-hooks", name);
    } else if (n != nullptr && *n != '\0') {
      *target = std::atoll(n);
      Logger("apply")->warn("test hook {}={}: the applier will exit on purpose", name, *target);
    }
  }
}

void CrashHooks::AfterCommit(size_t dead) {
  ++commits_with_dead_letters_;
  if (after_commit_ == commits_with_dead_letters_) {
    Crash("committed transaction with dead letters", dead);
  }
}

void CrashHooks::AfterAck(size_t dead) {
  if (after_ack_ == commits_with_dead_letters_) {
    Crash("acknowledged dead letters still in the outbox", dead);
  }
}

void CrashHooks::Crash(const char* where, size_t dead) {
  Logger("apply")->warn("test hook: exiting after {} #{} ({} dead letters)", where,
                        commits_with_dead_letters_, dead);
  spdlog::shutdown();
  _exit(86);
}

}  // namespace walrus::apply
