// Stand-alone entry point running only `devkafka` (the `walrus` binary in src/cli/ is the real
// one): `walrus_devkafka_main devkafka --cluster us ...`.

#include <CLI/CLI.hpp>

#include "devkafka/devkafka_command.h"

int main(int argc, char** argv) {
  CLI::App app{"walrus devkafka (stand-alone)"};
  app.require_subcommand(1);
  int exit_code = 0;
  walrus::AddDevkafkaCommand(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
