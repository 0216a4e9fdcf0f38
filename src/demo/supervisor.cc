#include "demo/supervisor.h"

#include <algorithm>

namespace walrus::demo {
namespace {

constexpr auto kForever = std::chrono::hours(24 * 365);

}  // namespace

Supervisor::Supervisor(std::chrono::milliseconds stop_grace) : stop_grace_(stop_grace) {}

Supervisor::~Supervisor() { StopAll(); }

Result<pid_t> Supervisor::Start(const ChildSpec& spec) {
  ChildInfo* existing = FindMutable(spec.name);
  if (existing != nullptr && Running(spec.name)) {
    return Error(Errc::kInvalidArgument, spec.name + " is already running");
  }
  if (spec.argv.empty()) return Error(Errc::kInvalidArgument, spec.name + ": empty argv");

  process::SpawnOptions o;
  o.argv = spec.argv;
  o.env = spec.env;
  o.stdout_path = spec.log_path.empty() ? "/dev/null" : spec.log_path;
  o.append_stdout = true;
  o.stdin_path = spec.stdin_path;
  o.new_group = true;
  o.die_with_parent = true;
  auto p = process::Process::Start(o);
  if (!p) {
    Error e = p.error();
    if (e.Is(Errc::kInternal)) e.message = spec.name + ": " + e.message;
    return e;
  }
  const pid_t pid = (*p)->pid();

  ChildInfo info{spec, pid, true, std::nullopt};
  if (existing != nullptr) {
    const size_t i = static_cast<size_t>(existing - children_.data());
    *existing = std::move(info);
    procs_[i] = std::move(*p);
  } else {
    children_.push_back(std::move(info));
    procs_.push_back(std::move(*p));
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

process::Process* Supervisor::ProcessOf(const ChildInfo& c) {
  return procs_[static_cast<size_t>(&c - children_.data())].get();
}

void Supervisor::SetAddress(const std::string& name, std::string address) {
  if (ChildInfo* c = FindMutable(name)) c->spec.address = std::move(address);
}

void Supervisor::Reaped(ChildInfo& c) {
  if (!c.running) return;
  c.running = false;
  c.exit_code = ProcessOf(c)->exit_code();
  const bool expected =
      std::find(stopping_.begin(), stopping_.end(), c.spec.name) != stopping_.end();
  if (!expected) unexpected_.push_back(c);
}

bool Supervisor::Reap(ChildInfo& c) {
  if (!c.running) return true;
  if (ProcessOf(c)->Running()) return false;
  Reaped(c);
  return true;
}

bool Supervisor::Running(const std::string& name) {
  ChildInfo* c = FindMutable(name);
  return c != nullptr && !Reap(*c);
}

void Supervisor::Signal(const std::string& name, int sig) {
  ChildInfo* c = FindMutable(name);
  if (c != nullptr && !Reap(*c)) ProcessOf(*c)->Kill(sig);
}

std::optional<int> Supervisor::Stop(const std::string& name, int sig) {
  ChildInfo* c = FindMutable(name);
  if (c == nullptr || Reap(*c)) return std::nullopt;
  stopping_.push_back(name);
  ProcessOf(*c)->Stop(stop_grace_, sig);
  Reaped(*c);
  return c->exit_code;
}

void Supervisor::Kill(const std::string& name) {
  ChildInfo* c = FindMutable(name);
  if (c == nullptr || Reap(*c)) return;
  stopping_.push_back(name);
  ProcessOf(*c)->Kill(SIGKILL);
  (void)ProcessOf(*c)->Wait(kForever);
  Reaped(*c);
}

Result<int> Supervisor::WaitExit(const std::string& name, std::chrono::milliseconds timeout) {
  ChildInfo* c = FindMutable(name);
  if (c == nullptr) return Error(Errc::kNotFound, "no child named " + name);
  if (!c->running) return *c->exit_code;
  stopping_.push_back(name);  // its exit is awaited, not unexpected
  if (!ProcessOf(*c)->Wait(timeout)) {
    std::erase(stopping_, name);
    return Error(Errc::kTimeout, name + " still running");
  }
  Reaped(*c);
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
    std::vector<process::Process*> batch;
    for (size_t i = begin; i < end; ++i) {
      if (Reap(children_[i])) continue;
      stopping_.push_back(children_[i].spec.name);
      batch.push_back(procs_[i].get());
    }
    process::StopTogether(batch, stop_grace_);
    for (size_t i = begin; i < end; ++i) Reaped(children_[i]);
    end = begin;
  }
}

std::vector<ChildInfo> Supervisor::TakeUnexpectedExits() {
  for (auto& c : children_) Reap(c);
  return std::exchange(unexpected_, {});
}

}  // namespace walrus::demo
