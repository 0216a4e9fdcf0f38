#include "service/service_main.h"

#include <iostream>
#include <thread>

#include "core/log.h"

namespace walrus::service {

int ServiceMain::Fail(int code, std::string_view message) const {
  std::cerr << "walrus " << command_ << ": error: " << message << "\n";
  return code;
}

void ServiceMain::HandleSignals() {
  if (!signals_) signals_.emplace();
}

void ServiceMain::StartAdmin(http::AdminServer& admin, const http::HostPort& addr,
                             std::string_view routes) {
  if (auto st = admin.Start(); !st)
    throw CommandError(kExitUsage, "--admin: " + st.error().message);
  Logger(command_)->info("admin endpoint on {}:{} ({})", addr.host, admin.port(), routes);
}

int ServiceMain::WaitForStop(const std::function<std::optional<int>()>& check,
                             std::chrono::milliseconds interval) {
  while (!stop_flag().load()) {
    if (check) {
      if (auto code = check()) {
        RequestStop();
        return *code;
      }
    }
    std::this_thread::sleep_for(interval);
  }
  return kExitOk;
}

http::HostPort ParseAdmin(const std::string& value) {
  auto addr = http::ParseHostPort(value);
  if (!addr) throw CommandError(kExitUsage, "--admin: " + addr.error().message);
  return *addr;
}

int RunCommand(const std::string& command, const LogFlags& log,
               const std::function<int(ServiceMain&)>& body) {
  ServiceMain svc(command);
  try {
    InitLogging(log);
    return body(svc);
  } catch (const CommandError& e) {
    if (*e.what() != '\0') svc.Fail(e.code(), e.what());
    return e.code();
  } catch (const std::exception& e) {
    return svc.Fail(kExitUsage, e.what());
  }
}

}  // namespace walrus::service
