#include "service/decision_flags.h"

#include <unistd.h>

#include <cstdlib>

namespace walrus::service {

std::string DecisionFlags::Operator() const {
  if (!op.empty()) return op;
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "unknown";
}

void AddDecisionFlags(CLI::App* cmd, DecisionFlags& f, const DecisionHelp& help) {
  cmd->add_option("--partition", f.partitions, help.partition)->envname("WALRUS_PARTITION");
  cmd->add_flag("--all-held", f.all_held, help.all_held)->envname("WALRUS_ALL_HELD");
  cmd->add_flag("--accept-gap", f.accept_gap, help.accept_gap);
  cmd->add_flag("--reset-to-log-start", f.to_log_start, help.to_log_start);
  cmd->add_option("--reset-to", f.reset_to, help.reset_to);
  cmd->add_option("--reason", f.reason, "Why (recorded with the decision; required for one)")
      ->envname("WALRUS_REASON");
  cmd->add_option("--operator", f.op, "Who decides (default: $USER)")->envname("WALRUS_OPERATOR");
  cmd->add_option("--timeout-ms", f.timeout_ms, "Per-request timeout")
      ->envname("WALRUS_TIMEOUT_MS")
      ->capture_default_str();
}

std::string HostName() {
  char buf[256] = {0};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

}  // namespace walrus::service
