#include "gateway/gateway_command.h"

namespace walrus::gateway {

// Work in progress: the command is registered once its service lands.
void AddGatewayCommand(CLI::App& /*root*/, int& /*exit_code*/) {}

}  // namespace walrus::gateway
