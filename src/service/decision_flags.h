#pragma once

// The flags of the commands that record an operator's decision about a held partition
// (`walrus position` for an applier, `walrus mirror-position` for a mirror flow;
// docs/log-gaps.md), registered once so that both spell them the same way.
//
//   service::DecisionFlags d;
//   service::AddDecisionFlags(cmd, d, {.accept_gap = "...", .to_log_start = "...",
//                                      .reset_to = "...", .partition_default = ""});
//   if (d.ActionCount() > 1) ...;   d.Operator();   // --operator, else $USER, else "unknown"
//
// The decision itself (--accept-gap, --reset-to-log-start, --reset-to) is deliberately read from
// the command line only: a leftover environment variable must never turn a look into a decision.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace walrus::service {

struct DecisionFlags {
  std::vector<int32_t> partitions;  // --partition P, repeatable
  bool all_held = false;            // --all-held
  bool accept_gap = false;          // --accept-gap
  bool to_log_start = false;        // --reset-to-log-start
  std::optional<int64_t> reset_to;  // --reset-to OFFSET
  std::string reason;               // --reason (recorded; required for a decision)
  std::string op;                   // --operator (default: $USER)
  int timeout_ms = 5000;            // --timeout-ms (the command's default as given)

  // How many of --accept-gap, --reset-to-log-start, --reset-to were given.
  int ActionCount() const {
    return int(accept_gap) + int(to_log_start) + int(reset_to.has_value());
  }
  // --operator, else $USER, else "unknown".
  std::string Operator() const;
};

// The help of the flags whose meaning differs between the commands.
struct DecisionHelp {
  std::string partition;
  std::string all_held;
  std::string accept_gap;
  std::string to_log_start;
  std::string reset_to;
};

// --partition, --all-held (env WALRUS_PARTITION / WALRUS_ALL_HELD), the three decision flags
// (command line only), --reason (WALRUS_REASON), --operator (WALRUS_OPERATOR), --timeout-ms
// (WALRUS_TIMEOUT_MS).
void AddDecisionFlags(CLI::App* cmd, DecisionFlags& flags, const DecisionHelp& help);

// This host's name (recorded with a decision), "unknown" if it cannot be read.
std::string HostName();

}  // namespace walrus::service
