// walrus: one binary, one sub-command per service. This file only wires the commands together;
// every service lives in its own folder under src/ and depends on the core libraries only.

#include <CLI/CLI.hpp>

#include <iostream>

#include "apply/apply_command.h"
#include "apply/position_command.h"
#include "demo/demo_command.h"
#include "devkafka/devkafka_command.h"
#include "elect/elect_command.h"
#include "gateway/gateway_command.h"
#include "mirror/mirror_command.h"
#include "produce/produce_command.h"
#include "verify/verify_command.h"
#include "status/status_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "walrus keeps Redis datasets in several places identical, using Kafka as the write-ahead "
      "log.\nSee `walrus <command> --help`."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("walrus ") + WALRUS_VERSION);
  int exit_code = 0;
  walrus::apply::AddApplyCommand(app, exit_code);
  walrus::apply::AddPositionCommand(app, exit_code);
  walrus::produce::AddProduceCommand(app, exit_code);
  walrus::AddDevkafkaCommand(app, exit_code);
  walrus::verify::AddVerifyCommand(app, exit_code);
  walrus::mirror::AddMirrorCommand(app, exit_code);
  walrus::status::AddStatusCommand(app, exit_code);
  walrus::gateway::AddGatewayCommand(app, exit_code);
  walrus::demo::AddDemoCommand(app, exit_code);
  walrus::elect::AddElectCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
