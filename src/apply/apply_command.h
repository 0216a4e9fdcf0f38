#pragma once

#include <CLI/CLI.hpp>

namespace walrus::apply {

// Adds `walrus apply` to the CLI. The callback runs the applier until SIGTERM/SIGINT and stores
// the process exit code in `exit_code` (0 clean stop, 2 bad configuration, 1 fatal runtime error).
void AddApplyCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::apply
