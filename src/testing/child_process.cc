#include "testing/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace walrus::test {
namespace {

using Clock = std::chrono::steady_clock;

// The environment for the child: the parent's, with `extra` added or overriding.
std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    const std::string_view key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& [k, v] : extra) overridden = overridden || k == key;
    if (!overridden) env.emplace_back(kv);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until execve. Never returns.
[[noreturn]] void ExecChild(const char* path, char* const* argv, char* const* envp, int in_fd,
                            int out_fd, const char* cwd, bool die_with_parent, pid_t parent,
                            int report_fd) {
  if (die_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
  }
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  signal(SIGPIPE, SIG_DFL);
  dup2(in_fd, STDIN_FILENO);
  if (out_fd >= 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
  }
  if (cwd != nullptr && chdir(cwd) != 0) {
    const int err = errno;
    (void)!write(report_fd, &err, sizeof(err));
    _exit(127);
  }
  execve(path, argv, envp);
  const int err = errno;
  (void)!write(report_fd, &err, sizeof(err));
  _exit(127);
}

}  // namespace

Result<std::string> FindExecutable(const std::string& name) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "empty program name");
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return Error(Errc::kNotFound, "program " + name + " is not executable: " + strerror(errno));
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (access(full.c_str(), X_OK) == 0 && !std::filesystem::is_directory(full)) return full;
  }
  return Error(Errc::kNotFound, "program '" + name + "' not found in PATH");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const ChildOptions& opts) {
  if (opts.argv.empty()) return Error(Errc::kInvalidArgument, "ChildProcess: empty argv");
  auto path = FindExecutable(opts.argv[0]);
  if (!path) return path.error();

  // Everything the child needs is prepared before fork: after it only async-signal-safe
  // calls are allowed (the test process may have threads).
  std::vector<std::string> argv_store = opts.argv;
  std::vector<std::string> env_store = BuildEnv(opts.env);
  std::vector<char*> argv = CStrings(argv_store);
  std::vector<char*> envp = CStrings(env_store);

  const int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) return Error(Errc::kInternal, std::string("open /dev/null: ") + strerror(errno));
  int out_fd = -1;
  if (!opts.stdout_path.empty()) {
    const int mode = opts.append_stdout ? O_APPEND : O_TRUNC;
    out_fd = open(opts.stdout_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644);
    if (out_fd < 0) {
      const int err = errno;
      close(in_fd);
      return Error(Errc::kInternal, "open " + opts.stdout_path + ": " + strerror(err));
    }
  }
  int report[2];  // the child writes errno here if exec fails; EOF means exec succeeded
  if (pipe2(report, O_CLOEXEC) != 0) {
    const int err = errno;
    close(in_fd);
    if (out_fd >= 0) close(out_fd);
    return Error(Errc::kInternal, std::string("pipe2: ") + strerror(err));
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    ExecChild(path->c_str(), argv.data(), envp.data(), in_fd, out_fd,
              opts.cwd.empty() ? nullptr : opts.cwd.c_str(), opts.die_with_parent, parent,
              report[1]);
  }
  const int fork_err = errno;
  close(in_fd);
  if (out_fd >= 0) close(out_fd);
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return Error(Errc::kInternal, std::string("fork: ") + strerror(fork_err));
  }

  int child_err = 0;
  ssize_t n;
  do {
    n = read(report[0], &child_err, sizeof(child_err));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  std::unique_ptr<ChildProcess> child(new ChildProcess(pid, opts.argv, opts.stdout_path));
  if (n > 0) {
    (void)child->Wait(std::chrono::seconds(5));
    return Error(Errc::kInternal, "cannot start " + *path + ": " + strerror(child_err));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    Kill(SIGKILL);
    (void)Wait(std::chrono::seconds(10));
  }
}

void ChildProcess::Kill(int sig) {
  if (!exit_code_) kill(pid_, sig);
}

void ChildProcess::Reaped(int wait_status) {
  if (WIFEXITED(wait_status)) {
    exit_code_ = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit_code_ = 128 + WTERMSIG(wait_status);
  } else {
    exit_code_ = 255;
  }
}

bool ChildProcess::Running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t rc = waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    Reaped(status);
    return false;
  }
  return rc == 0;
}

Result<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // A pidfd becomes readable when the child exits, so no sleeping in a loop; fall back to
  // short sleeps where pidfd_open is unavailable.
  // (glibc 2.36's <sys/pidfd.h> lacks extern "C", hence the raw syscall.)
  const int pidfd = exit_code_ ? -1 : static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  while (Running()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      if (pidfd >= 0) close(pidfd);
      return Error(Errc::kTimeout, "process " + std::to_string(pid_) + " (" + argv_[0] +
                                       ") still running after " + std::to_string(timeout.count()) +
                                       " ms");
    }
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(left.count()));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
  if (pidfd >= 0) close(pidfd);
  if (!exit_code_) return Error(Errc::kInternal, "process " + std::to_string(pid_) + " lost");
  return *exit_code_;
}

std::string ChildProcess::ReadStdout() const {
  return stdout_path_.empty() ? std::string() : ReadFile(stdout_path_);
}

std::string ChildProcess::CommandLine() const {
  std::string out;
  for (const std::string& a : argv_) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

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
