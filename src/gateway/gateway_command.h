#pragma once

#include <CLI/CLI.hpp>

namespace walrus::gateway {

// Adds `walrus gateway` to the CLI.
void AddGatewayCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::gateway
