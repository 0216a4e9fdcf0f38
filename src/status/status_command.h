#pragma once

#include <CLI/CLI.hpp>

namespace walrus::status {

// Adds `walrus status` to the CLI: prints one table (or --json) of end offsets, mirror lag,
// applier lag and Redis health for the given clusters. Exit code 0, or 1 when something could
// not be read (the table still shows the rest), 2 on bad flags.
//
//   walrus status --cluster dc=$DC --cluster dr=$DR --group dc1 --redis dr=redis://127.0.0.1:6391
void AddStatusCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::status
