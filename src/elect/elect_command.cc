#include "elect/elect_command.h"

namespace walrus::elect {

// Work in progress: the command is registered once its service lands.
void AddElectCommand(CLI::App& /*root*/, int& /*exit_code*/) {}

}  // namespace walrus::elect
