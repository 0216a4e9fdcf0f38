#pragma once

// `walrus devkafka`: in-memory Kafka clusters (librdkafka's mock cluster) for development and
// tests only. The walrus binary's main calls AddDevkafkaCommand once while building its CLI.
//
//   CLI::App app{"walrus"};
//   int exit_code = 0;
//   walrus::AddDevkafkaCommand(app, exit_code);
//   CLI11_PARSE(app, argc, argv);   // runs the command's callback: blocks until SIGTERM/SIGINT
//   return exit_code;

#include <CLI/CLI.hpp>

namespace walrus {

// Adds the `devkafka` subcommand to `root`. Its callback runs on the calling thread until
// SIGTERM/SIGINT, then sets `exit_code` (0 clean stop, 1 start-up failure, 2 invalid flags).
// `exit_code` must outlive the parse.
void AddDevkafkaCommand(CLI::App& root, int& exit_code);

}  // namespace walrus
