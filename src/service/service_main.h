#pragma once

// ServiceMain: the skeleton every `walrus <command>` runs in. RunCommand initialises logging from
// the common flags, runs the command's body and maps what escapes it to an exit code; the body
// gets a ServiceMain for what long-running services share (signals, the admin endpoint, the wait
// for a stop) and for error lines spelled the same way by every command.
//
//   cmd->callback([flags, &exit_code] {
//     exit_code = service::RunCommand("mirror", flags->log, [&](service::ServiceMain& svc) {
//       auto cfg = BuildConfig(flags->m);               // throws: "walrus mirror: error: ..." exit
//       2 const auto admin_addr = service::ParseAdmin(flags->admin); svc.HandleSignals(); // before
//       any thread Engine engine(cfg, svc.stop_flag()); http::AdminServer admin(admin_addr,
//       registry); admin.SetReadiness(...); svc.StartAdmin(admin, admin_addr, "/healthz /readyz
//       /metrics"); engine.Start(); return svc.WaitForStop([&]() -> std::optional<int> { ... a
//       fatal error: return 2 ... });
//     });
//   });
//
// Exit codes (service/exit_code.h): a CommandError leaves with its code, any other std::exception
// with kExitUsage; both print "walrus <command>: error: <what>" on stderr (nothing for an empty
// message). A body's own return value is the exit code.
//
// Threading: created and used on the main thread (the CLI callback); stop_flag() may be read by
// any thread. The ShutdownSignal it owns outlives the body (so does the flag every thread reads).

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/signals.h"
#include "http/admin_server.h"
#include "http/host_port.h"
#include "service/common_flags.h"
#include "service/exit_code.h"

namespace walrus::service {

class ServiceMain {
 public:
  explicit ServiceMain(std::string command) : command_(std::move(command)) {}
  ServiceMain(const ServiceMain&) = delete;
  ServiceMain& operator=(const ServiceMain&) = delete;

  const std::string& command() const { return command_; }

  // Prints "walrus <command>: error: <message>" on stderr and returns `code`.
  int Fail(int code, std::string_view message) const;

  // Turns SIGTERM/SIGINT into stop_flag() (core/signals.h). Call before starting any thread.
  void HandleSignals();
  // Set by a signal or RequestStop(). Requires HandleSignals().
  const std::atomic<bool>& stop_flag() const { return signals_->flag(); }
  void RequestStop() { signals_->Trigger(); }

  // Starts `admin` (its checks and routes already set) and logs "admin endpoint on HOST:PORT
  // (<routes>)" through the command's logger. Throws CommandError(kExitUsage, "--admin: ...").
  void StartAdmin(http::AdminServer& admin, const http::HostPort& addr, std::string_view routes);

  // Waits (polling every `interval`) until stop_flag() is set or `check` returns an exit code;
  // in the latter case requests the stop itself. Returns kExitOk or that code.
  int WaitForStop(const std::function<std::optional<int>()>& check = {},
                  std::chrono::milliseconds interval = std::chrono::milliseconds(100));

 private:
  std::string command_;
  std::optional<ShutdownSignal> signals_;
};

// "--admin HOST:PORT" → address; throws CommandError(kExitUsage, "--admin: ...").
http::HostPort ParseAdmin(const std::string& value);

// Initialises logging from `log`, runs `body` and maps what escapes it (see above). An invalid
// level or format is a usage error (exit 2).
int RunCommand(const std::string& command, const LogFlags& log,
               const std::function<int(ServiceMain&)>& body);

// Adds `walrus <name>` to `root`: a sub-command whose callback runs `run(*flags, svc)` in
// RunCommand with `flags->log` and stores the exit code in `exit_code` (which, like `flags`, must
// outlive the parse). Returns the sub-command for its own flags.
//
//   auto flags = std::make_shared<Flags>();       // struct Flags { ...; service::LogFlags log; };
//   auto* cmd = service::AddCommand(root, exit_code, flags, "status", "One table of ...", Run);
//   cmd->add_option("--cluster", flags->clusters, "NAME=BOOTSTRAP");
//   service::AddLogFlags(cmd, flags->log);
template <typename Flags, typename Run>
CLI::App* AddCommand(CLI::App& root, int& exit_code, std::shared_ptr<Flags> flags,
                     const std::string& name, const std::string& description, Run run) {
  CLI::App* cmd = root.add_subcommand(name, description);
  cmd->callback([flags, name, run, &exit_code] {
    exit_code = RunCommand(name, flags->log, [&](ServiceMain& svc) { return run(*flags, svc); });
  });
  return cmd;
}

}  // namespace walrus::service
