#include "process/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace walrus::process {
namespace {

using Clock = std::chrono::steady_clock;

// A descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The environment of a child: ours, with `extra` added or overriding.
std::vector<std::string> ChildEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const std::string_view key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& [k, v] : extra) overridden = overridden || k == key;
    if (!overridden) env.emplace_back(kv);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Everything the forked child needs, prepared before fork.
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  int in_fd;
  int out_fd;       // -1: inherit
  const char* cwd;  // nullptr: ours
  bool die_with_parent;
  bool new_group;
  pid_t parent;
  int report_fd;  // errno goes here if exec (or chdir) fails
};

[[noreturn]] void Report(int fd) {
  const int err = errno;
  [[maybe_unused]] auto n = ::write(fd, &err, sizeof err);
  ::_exit(127);
}

// Runs in the forked child: only async-signal-safe calls until execve. Never returns.
[[noreturn]] void ExecChild(const ChildPlan& p) {
  if (p.new_group) ::setpgid(0, 0);
  if (p.die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != p.parent) ::_exit(127);  // the parent died before prctl took effect
  }
  ::dup2(p.in_fd, STDIN_FILENO);
  if (p.out_fd >= 0) {
    ::dup2(p.out_fd, STDOUT_FILENO);
    ::dup2(p.out_fd, STDERR_FILENO);
  }
  // Ignored signals survive execve: reset every disposition, then the mask.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (p.cwd != nullptr && ::chdir(p.cwd) != 0) Report(p.report_fd);
  // Every other inherited descriptor (sockets, files of ours) is closed by execve.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(p.path, p.argv, p.envp);
  Report(p.report_fd);
}

}  // namespace

Result<std::string> FindExecutable(const std::string& name) {
  if (name.empty()) return Error(Errc::kInvalidArgument, "empty program name");
  if (name.find('/') != std::string::npos) {
    if (IsExecutable(name)) return name;
    return Error(Errc::kNotFound, name + ": not found or not executable");
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (IsExecutable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return Error(Errc::kNotFound, name + ": not found on PATH");
}

Result<std::string> SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Error(Errc::kInternal, "cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::unique_ptr<Process>> Process::Start(const SpawnOptions& opts) {
  if (opts.argv.empty()) return Error(Errc::kInvalidArgument, "empty argv");
  auto path = FindExecutable(opts.argv[0]);
  if (!path) return path.error();

  // Everything the child needs is prepared before fork: after it only async-signal-safe calls
  // are allowed (we may have threads).
  std::vector<std::string> argv_s = opts.argv;
  std::vector<std::string> env_s = ChildEnv(opts.env);
  auto argv = CArray(argv_s);
  auto envp = CArray(env_s);

  const std::string in_path = opts.stdin_path.empty() ? "/dev/null" : opts.stdin_path;
  Fd in(::open(in_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Error(Errc::kIo, "open " + in_path + ": " + std::strerror(errno));
  const int mode = opts.append_stdout ? O_APPEND : O_TRUNC;
  Fd out(opts.stdout_path.empty()
             ? -1
             : ::open(opts.stdout_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644));
  if (!opts.stdout_path.empty()) {
    if (out.get() < 0) {
      return Error(Errc::kIo, "open " + opts.stdout_path + ": " + std::strerror(errno));
    }
  }
  int report[2];  // the child writes errno here if exec fails; EOF means exec succeeded
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return Error(Errc::kInternal, std::string("pipe2: ") + std::strerror(errno));
  }
  Fd report_read(report[0]);
  Fd report_write(report[1]);

  const ChildPlan plan{.path = path->c_str(),
                       .argv = argv.data(),
                       .envp = envp.data(),
                       .in_fd = in.get(),
                       .out_fd = out.get(),
                       .cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str(),
                       .die_with_parent = opts.die_with_parent,
                       .new_group = opts.new_group,
                       .parent = ::getpid(),
                       .report_fd = report_write.get()};
  const pid_t pid = ::fork();
  if (pid < 0) return Error(Errc::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) ExecChild(plan);
  // Also from this side, so that signals to the group work as soon as Start returns.
  if (opts.new_group) ::setpgid(pid, pid);
  report_write.Reset();
  in.Reset();
  out.Reset();

  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  std::unique_ptr<Process> child(new Process(pid, opts.new_group, opts.argv, opts.stdout_path));
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    (void)child->Wait(std::chrono::seconds(5));
    return Error(Errc::kInternal, "cannot start " + *path + ": " + std::strerror(child_errno));
  }
  return child;
}

Result<std::unique_ptr<Process>> Process::Fork(const ForkOptions& opts,
                                               const std::function<int()>& body) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error(Errc::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (opts.new_group) ::setpgid(0, 0);
    if (opts.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
    }
    ::_exit(body());
  }
  if (opts.new_group) ::setpgid(pid, pid);
  return std::unique_ptr<Process>(new Process(pid, opts.new_group, {opts.name}, ""));
}

Process::~Process() {
  if (!exit_code_) {
    Kill(SIGKILL);
    WaitUntil(Clock::time_point::max());
  }
}

void Process::Kill(int sig) {
  if (exit_code_) return;
  ::kill(group_ ? -pid_ : pid_, sig);
}

void Process::Reaped(int wait_status) {
  if (WIFEXITED(wait_status)) {
    exit_code_ = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    exit_code_ = 128 + WTERMSIG(wait_status);
  } else {
    exit_code_ = -1;
  }
}

bool Process::Running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t rc = ::waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    Reaped(status);
    return false;
  }
  if (rc < 0 && errno == ECHILD) {  // reaped elsewhere: gone, code unknown
    exit_code_ = -1;
    return false;
  }
  return true;
}

bool Process::WaitUntil(Clock::time_point deadline) {
  // A pidfd becomes readable when the child exits, so no sleeping in a loop; short sleeps where
  // pidfd_open is unavailable. (glibc 2.36's <sys/pidfd.h> lacks extern "C": raw syscall.)
  const int pidfd = exit_code_ ? -1 : static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  bool reaped = true;
  while (Running()) {
    const auto now = Clock::now();
    if (now >= deadline) {
      reaped = false;
      break;
    }
    const auto left = deadline == Clock::time_point::max()
                          ? std::chrono::milliseconds(1000)
                          : std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  return reaped;
}

Result<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (!WaitUntil(Clock::now() + timeout)) {
    return Error(Errc::kTimeout, "process " + std::to_string(pid_) + " (" + argv_[0] +
                                     ") still running after " + std::to_string(timeout.count()) +
                                     " ms");
  }
  return *exit_code_;
}

std::optional<int> Process::Stop(std::chrono::milliseconds grace, int sig) {
  if (!Running()) return std::nullopt;
  StopTogether({this}, grace, sig);
  return exit_code_;
}

void StopTogether(const std::vector<Process*>& batch, std::chrono::milliseconds grace, int sig) {
  std::vector<Process*> running;
  for (Process* p : batch) {
    if (p == nullptr || !p->Running()) continue;
    p->Kill(sig);
    p->Kill(SIGCONT);  // a stopped (SIGSTOP) child must run to handle the signal
    running.push_back(p);
  }
  const auto deadline = Clock::now() + grace;
  for (Process* p : running) {
    const auto left =
        std::max(std::chrono::milliseconds(0),
                 std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!p->Wait(left)) {
      p->Kill(SIGKILL);
      (void)p->Wait(std::chrono::hours(24 * 365));
    }
  }
}

std::string Process::ReadStdout() const {
  return stdout_path_.empty() ? std::string() : ReadFile(stdout_path_);
}

std::string Process::CommandLine() const {
  std::string out;
  for (const std::string& a : argv_) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

}  // namespace walrus::process
