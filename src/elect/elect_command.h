#pragma once

#include <CLI/CLI.hpp>

namespace walrus::elect {

// Adds `walrus elect` to the CLI.
void AddElectCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::elect
