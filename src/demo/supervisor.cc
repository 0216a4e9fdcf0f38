#include "demo/supervisor.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

extern char** environ;

namespace walrus::demo {
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

// The environment of a child: the demo's, with `overrides` replacing or adding entries.
std::vector<std::string> ChildEnv(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::set<std::string> replaced;
  for (const auto& [k, v] : overrides) replaced.insert(k);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && replaced.count(std::string(entry.substr(0, eq)))) continue;
    env.emplace_back(entry);
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> CArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void ExecChild(pid_t parent, int in_fd, int out_fd, int err_pipe, const char* path,
                            char* const* argv, char* const* envp) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the demo died before prctl took effect
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2}) {
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Every other inherited descriptor (sockets, files of the demo) is closed by execve.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(path, argv, envp);
  const int err = errno;
  [[maybe_unused]] auto n = ::write(err_pipe, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

Result<std::string> FindProgram(const std::string& name) {
  if (name.empty()) return Error(Errc::kNotFound, "empty program name");
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

Supervisor::Supervisor(std::chrono::milliseconds stop_grace) : stop_grace_(stop_grace) {}

Supervisor::~Supervisor() { StopAll(); }

Result<pid_t> Supervisor::Start(const ChildSpec& spec) {
  ChildInfo* existing = FindMutable(spec.name);
  if (existing != nullptr && Running(spec.name)) {
    return Error(Errc::kInvalidArgument, spec.name + " is already running");
  }
  if (spec.argv.empty()) return Error(Errc::kInvalidArgument, spec.name + ": empty argv");
  auto path = FindProgram(spec.argv[0]);
  if (!path) return path.error();

  std::vector<std::string> argv_s = spec.argv;
  std::vector<std::string> env_s = ChildEnv(spec.env);
  auto argv = CArray(argv_s);
  auto envp = CArray(env_s);

  const std::string out_path = spec.log_path.empty() ? "/dev/null" : spec.log_path;
  Fd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (out.get() < 0) return Error(Errc::kIo, out_path + ": " + std::strerror(errno));
  const std::string in_path = spec.stdin_path.empty() ? "/dev/null" : spec.stdin_path;
  Fd in(::open(in_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Error(Errc::kIo, in_path + ": " + std::strerror(errno));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Error(Errc::kInternal, std::string("pipe2: ") + std::strerror(errno));
  }
  Fd err_read(pipe_fds[0]);
  Fd err_write(pipe_fds[1]);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error(Errc::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ExecChild(parent, in.get(), out.get(), err_write.get(), path->c_str(), argv.data(),
              envp.data());
  }
  ::setpgid(pid, pid);  // also from this side, so signals to the group work at once
  err_write.Reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_read.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    return Error(Errc::kInternal,
                 spec.name + ": cannot exec " + *path + ": " + std::strerror(child_errno));
  }

  ChildInfo info{spec, pid, true, std::nullopt};
  if (existing != nullptr) {
    *existing = std::move(info);
  } else {
    children_.push_back(std::move(info));
  }
  std::erase(stopping_, spec.name);
  return pid;
}

ChildInfo* Supervisor::FindMutable(const std::string& name) {
  for (auto& c : children_) {
    if (c.spec.name == name) return &c;
  }
  return nullptr;
}

const ChildInfo* Supervisor::Find(const std::string& name) const {
  for (const auto& c : children_) {
    if (c.spec.name == name) return &c;
  }
  return nullptr;
}

void Supervisor::SetAddress(const std::string& name, std::string address) {
  if (ChildInfo* c = FindMutable(name)) c->spec.address = std::move(address);
}

void Supervisor::Reaped(ChildInfo& c, int wait_status) {
  c.running = false;
  if (WIFEXITED(wait_status)) {
    c.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    c.exit_code = 128 + WTERMSIG(wait_status);
  } else {
    c.exit_code = -1;
  }
  const bool expected =
      std::find(stopping_.begin(), stopping_.end(), c.spec.name) != stopping_.end();
  if (!expected) unexpected_.push_back(c);
}

bool Supervisor::Reap(ChildInfo& c) {
  if (!c.running) return true;
  int st = 0;
  const pid_t r = ::waitpid(c.pid, &st, WNOHANG);
  if (r == c.pid) {
    Reaped(c, st);
    return true;
  }
  if (r < 0 && errno == ECHILD) {  // reaped elsewhere; treat as gone
    c.running = false;
    c.exit_code = -1;
    return true;
  }
  return false;
}

bool Supervisor::WaitUntil(ChildInfo& c, Clock::time_point deadline) {
  auto pause = std::chrono::milliseconds(2);
  while (!Reap(c)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return true;
}

bool Supervisor::Running(const std::string& name) {
  ChildInfo* c = FindMutable(name);
  return c != nullptr && !Reap(*c);
}

void Supervisor::Signal(const std::string& name, int sig) {
  ChildInfo* c = FindMutable(name);
  if (c != nullptr && !Reap(*c)) ::kill(-c->pid, sig);
}

std::optional<int> Supervisor::Stop(const std::string& name, int sig) {
  ChildInfo* c = FindMutable(name);
  if (c == nullptr || Reap(*c)) return std::nullopt;
  stopping_.push_back(name);
  ::kill(-c->pid, sig);
  ::kill(-c->pid, SIGCONT);  // a stopped (SIGSTOP) child must run to handle the signal
  if (!WaitUntil(*c, Clock::now() + stop_grace_)) {
    ::kill(-c->pid, SIGKILL);
    WaitUntil(*c, Clock::time_point::max());
  }
  return c->exit_code;
}

void Supervisor::Kill(const std::string& name) {
  ChildInfo* c = FindMutable(name);
  if (c == nullptr || Reap(*c)) return;
  stopping_.push_back(name);
  ::kill(-c->pid, SIGKILL);
  WaitUntil(*c, Clock::time_point::max());
}

Result<int> Supervisor::WaitExit(const std::string& name, std::chrono::milliseconds timeout) {
  ChildInfo* c = FindMutable(name);
  if (c == nullptr) return Error(Errc::kNotFound, "no child named " + name);
  stopping_.push_back(name);  // its exit is awaited, not unexpected
  if (!WaitUntil(*c, Clock::now() + timeout)) {
    std::erase(stopping_, name);
    return Error(Errc::kTimeout, name + " still running");
  }
  return *c->exit_code;
}

void Supervisor::StopAll() {
  size_t end = children_.size();
  while (end > 0) {
    // The run of neighbours [begin, end) with the same component stops together.
    size_t begin = end - 1;
    while (begin > 0 && children_[begin - 1].spec.component == children_[end - 1].spec.component) {
      --begin;
    }
    std::vector<ChildInfo*> batch;
    for (size_t i = begin; i < end; ++i) {
      ChildInfo& c = children_[i];
      if (Reap(c)) continue;
      stopping_.push_back(c.spec.name);
      ::kill(-c.pid, SIGTERM);
      ::kill(-c.pid, SIGCONT);
      batch.push_back(&c);
    }
    const auto deadline = Clock::now() + stop_grace_;
    for (ChildInfo* c : batch) {
      if (!WaitUntil(*c, deadline)) {
        ::kill(-c->pid, SIGKILL);
        WaitUntil(*c, Clock::time_point::max());
      }
    }
    end = begin;
  }
}

std::vector<ChildInfo> Supervisor::TakeUnexpectedExits() {
  for (auto& c : children_) Reap(c);
  return std::exchange(unexpected_, {});
}

}  // namespace walrus::demo
