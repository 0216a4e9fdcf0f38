#pragma once

#include <CLI/CLI.hpp>

namespace walrus::produce {

// Adds `walrus produce`: writes ops to a topic, from the command line (CMD KEY ARG...) or as JSON
// lines on stdin. Each op is validated with the applier's own decoder before it is sent, keyed
// and partitioned by its routing key (core/routing.h), and acknowledged (idempotent producer);
// one line per op is printed on acknowledgement. Exit code 1 if any op failed, 2 on bad flags.
void AddProduceCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::produce
