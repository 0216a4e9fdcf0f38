#pragma once

// `walrus mirror-position`: shows the stored source positions and holds of a mirror flow (in the
// target's walrus-mirror.offsets) against the source log, and records an operator's decision
// about a held source partition (docs/log-gaps.md, "walrus mirror"). One-shot, blocking.

#include <CLI/CLI.hpp>

namespace walrus::mirror {

void AddMirrorPositionCommand(CLI::App& root, int& exit_code);

}  // namespace walrus::mirror
