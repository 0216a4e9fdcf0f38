#pragma once

#include <CLI/CLI.hpp>

namespace walrus::demo {

// Adds `walrus demo` to the CLI.
void AddDemoCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::demo
