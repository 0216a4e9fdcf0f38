#include "demo/demo_command.h"

namespace walrus::demo {

// Work in progress: the command is registered once its service lands.
void AddDemoCommand(CLI::App& /*root*/, int& /*exit_code*/) {}

}  // namespace walrus::demo
