#pragma once

#include <CLI/CLI.hpp>

namespace walrus::mirror {

// Adds `walrus mirror` to the CLI. The callback runs every flow until SIGTERM/SIGINT and stores
// the exit code in `exit_code` (0 clean stop, 2 bad configuration or a flow's fatal error such as
// a missing or too small target topic, 1 runtime error).
//
//   walrus mirror --source $DC --target $DR --source-alias dc --target-alias dr --topics redis-writes
//   walrus mirror --cluster us=$US --cluster eu=$EU --flow us:eu --flow eu:us   # <src>.events
void AddMirrorCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::mirror
