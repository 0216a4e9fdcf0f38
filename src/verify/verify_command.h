#pragma once

// `walrus verify URL URL [URL...]`: are these Redis datasets identical?
// Exit 0 identical, 1 divergent, 2 usage or connection errors.
//
//   CLI::App app;
//   int exit_code = 0;
//   walrus::verify::AddVerifyCommand(app, exit_code);

#include <CLI/CLI.hpp>

namespace walrus::verify {

void AddVerifyCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::verify
