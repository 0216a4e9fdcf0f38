#include "testing/child_process.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace walrus::test {

Result<std::string> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout) {
  char tmpl[] = "/tmp/walrus-run-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return Error(Errc::kInternal, std::string("mkstemp: ") + strerror(errno));
  close(fd);
  const std::string out_path = tmpl;

  ChildOptions opts;
  opts.argv = argv;
  opts.stdout_path = out_path;
  auto child = ChildProcess::Start(opts);
  if (!child) {
    std::remove(out_path.c_str());
    return child.error();
  }
  auto code = (*child)->Wait(timeout);
  if (!code) {
    (*child)->Kill(SIGKILL);
    (void)(*child)->Wait(std::chrono::seconds(5));
  }
  std::string output = ReadFile(out_path);
  std::remove(out_path.c_str());
  if (!code) return Error(code.error().code, (*child)->CommandLine() + ": " + code.error().message);
  if (*code != 0) {
    return Error(Errc::kInternal,
                 (*child)->CommandLine() + " exited with " + std::to_string(*code) + ": " + output);
  }
  return output;
}

}  // namespace walrus::test
