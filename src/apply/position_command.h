#pragma once

#include <CLI/CLI.hpp>

namespace walrus::apply {

// Adds `walrus position` to the CLI: shows, and on an operator's decision rewrites, the stored
// position of an applier's partition in its Redis (walrus:pos:<topic>:<partition>), lifting the
// hold the applier put on a partition whose position is outside the log (docs/log-gaps.md).
// Every decision is one MULTI/EXEC (WATCHed): SET the position, DEL walrus:hold:<topic>:<p>,
// XADD walrus:decisions (who, when, why, old, new, the log bounds), and one log line. A running
// applier picks the decision up within seconds, without restart.
// Exit 0 done (or shown), 1 refused / failed, 2 bad flags.
//
//   walrus position --redis redis://10.0.0.5:6379 --brokers $KAFKA --topic redis-writes
//       --partition 3 --reset-to-log-start --reason "cluster replaced, CHG-1234"
void AddPositionCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::apply
