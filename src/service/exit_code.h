#pragma once

// The exit codes every `walrus <command>` shares, and the exception that carries one out of a
// command's start-up.
//
//   throw CommandError(kExitUsage, "--topic is required");   // "walrus apply: error: ..." exit 2
//
// Exceptions are for start-up and configuration only (style.md): RunCommand maps a CommandError to
// its code and any other std::exception to kExitUsage; runtime failures are returned as codes.

#include <stdexcept>
#include <string>

namespace walrus::service {

inline constexpr int kExitOk = 0;             // done, or a clean stop on SIGTERM/SIGINT
inline constexpr int kExitFailed = 1;         // a runtime failure (refused, not converged, down)
inline constexpr int kExitUsage = 2;          // bad flags or configuration, start-up failure
inline constexpr int kExitInterrupted = 130;  // a second signal while stopping (core/signals.h)

class CommandError : public std::runtime_error {
 public:
  CommandError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace walrus::service
