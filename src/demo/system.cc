#include "demo/system.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "demo/net.h"
#include "http/host_port.h"
#include "protocol/topics.h"
#include "redis/endpoint.h"

namespace walrus::demo {
namespace {

using namespace std::chrono_literals;

constexpr auto kKafkaTimeout = 30s;
constexpr auto kRedisTimeout = 20s;
constexpr auto kServiceTimeout = 60s;

// Kafka client settings for every walrus child: quick group rebalances on the mock (it waits
// session.timeout.ms - 1 s for members) and quick reconnects after a broker outage.
// devkafka (the mock cluster) holds an empty fetch for the whole fetch.wait.max.ms even when
// records arrive meanwhile: with librdkafka's 500 ms default an op took ~0.3 s (p50) to reach
// Redis; with 10 ms it takes a few ms, at 100 idle fetches/s per broker (a real broker answers a
// fetch as soon as data arrives, so production keeps the default).
const std::vector<std::string> kConsumerProps = {
    "session.timeout.ms=6000", "heartbeat.interval.ms=500", "reconnect.backoff.max.ms=1000",
    "fetch.wait.max.ms=10"};

std::string ReadBootstrap(const std::string& path, const std::string& cluster) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(cluster + "=", 0) == 0 && line.size() > cluster.size() + 1) {
      return line.substr(cluster.size() + 1);
    }
  }
  return "";
}

// 128 random bits as 32 hex digits (std::random_device reads the kernel's CSPRNG).
std::string RandomToken() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", static_cast<uint32_t>(rd()));
  return out;
}

}  // namespace

DemoSystem::DemoSystem(const DemoConfig& config, std::string data_dir, std::string self_exe,
                       Supervisor& sup, Console& console, const std::atomic<bool>& stop)
    : config_(config),
      data_dir_(std::move(data_dir)),
      self_exe_(std::move(self_exe)),
      sup_(sup),
      console_(console),
      stop_(stop) {
  for (const auto& name : kRegions) regions_.push_back(RegionInfo{.name = name});
}

const RegionInfo& DemoSystem::region(const std::string& name) const {
  for (const auto& r : regions_) {
    if (r.name == name) return r;
  }
  throw std::invalid_argument("unknown region " + name);
}

RegionInfo& DemoSystem::MutableRegion(const std::string& name) {
  return const_cast<RegionInfo&>(region(name));
}

std::string DemoSystem::LogTail(const std::string& child, size_t lines) const {
  std::ifstream in(LogPath(child));
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += "\n    | " + all[i];
  }
  return out.empty() ? "\n    | (log empty)" : out;
}

Status DemoSystem::Spawn(ChildSpec spec) {
  if (spec.log_path.empty()) spec.log_path = LogPath(spec.name);
  auto pid = sup_.Start(spec);
  if (!pid) return pid.error();
  return Status::Ok();
}

Status DemoSystem::WaitFor(const std::string& child, const std::string& what,
                           const std::function<bool()>& check, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (stop_.load()) return Error(Errc::kInternal, "interrupted");
    if (check()) return Status::Ok();
    if (!child.empty() && !sup_.Running(child)) {
      const ChildInfo* c = sup_.Find(child);
      const int code = c != nullptr && c->exit_code ? *c->exit_code : -1;
      return Error(Errc::kUnavailable,
                   fmt::format("{} exited (code {}) while waiting for {}; log {}:{}", child, code,
                               what, LogPath(child), LogTail(child)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string msg =
          fmt::format("timed out after {} s waiting for {}",
                      std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), what);
      if (!child.empty()) msg += fmt::format("; log {}:{}", LogPath(child), LogTail(child));
      return Error(Errc::kTimeout, msg);
    }
    std::this_thread::sleep_for(50ms);
  }
}

Status DemoSystem::WaitHttpReady(const std::string& child, int port, const std::string& path,
                                 std::chrono::milliseconds timeout) {
  return WaitFor(
      child, fmt::format("{} on 127.0.0.1:{}{}", child, port, path),
      [&] {
        auto r = HttpGet("127.0.0.1", port, path, 1s);
        return r && r->status == 200;
      },
      timeout);
}

// The key shared by the demo's mirrors and appliers (walrus-src-mac, docs/mirror.md): a fresh
// random one per demo, in DATA/src-key (mode 0600).
Status DemoSystem::WriteSrcKey() {
  src_key_file_ = data_dir_ + "/src-key";
  std::random_device rd;  // /dev/urandom
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 64; ++i) key.push_back(kHex[rd() & 0xf]);
  {
    std::ofstream out(src_key_file_, std::ios::trunc);
    out << "# walrus demo: source key shared by the mirrors and appliers\n" << key << "\n";
    if (!out) return Error(Errc::kIo, "cannot write " + src_key_file_);
  }
  std::filesystem::permissions(src_key_file_, std::filesystem::perms::owner_read |
                                                  std::filesystem::perms::owner_write);
  return Status::Ok();
}

Status DemoSystem::Start() {
  if (Status st = WriteSrcKey(); !st) return st;
  auto program = FindProgram(config_.redis_server);
  if (!program) {
    return Error(Errc::kNotFound,
                 fmt::format("redis-server is needed (Debian package redis-server): {}",
                             program.error().message));
  }
  redis_program_ = *program;
  if (Status st = StartKafka(); !st) return st;
  if (Status st = StartRedis(); !st) return st;
  if (Status st = StartServices(); !st) return st;
  if (config_.no_gateway) {
    console_.Step("gateway skipped (--no-gateway)");
    return Status::Ok();
  }
  return StartGateway();
}

Status DemoSystem::StartKafka() {
  console_.Step("starting Kafka: one `walrus devkafka` cluster per region (us, eu, ap)");
  for (auto& r : regions_) {
    auto port = FreePort();
    if (!port) return port.error();
    r.kafka_admin_port = *port;
    ChildSpec s{.name = "devkafka-" + r.name, .component = "devkafka", .region = r.name};
    s.argv = {self_exe_,          "devkafka",
              "--cluster",        r.name,
              "--bootstrap-file", data_dir_ + "/devkafka-" + r.name + ".bootstrap",
              "--admin",          "127.0.0.1:" + std::to_string(*port),
              "--log-level",      config_.log_level};
    for (const auto& t : kRegions) {
      s.argv.push_back("--topic");
      s.argv.push_back(fmt::format("{}.events:{}", t, config_.partitions));
      s.argv.push_back("--topic");
      s.argv.push_back(fmt::format("{}:{}", protocol::DlqTopic(fmt::format("{}.events", t)),
                                   config_.partitions));
    }
    std::filesystem::remove(data_dir_ + "/devkafka-" + r.name + ".bootstrap");
    if (Status st = Spawn(std::move(s)); !st) return st;
  }
  for (auto& r : regions_) {
    const std::string file = data_dir_ + "/devkafka-" + r.name + ".bootstrap";
    Status st = WaitFor(
        "devkafka-" + r.name, "Kafka cluster " + r.name,
        [&] { return !(r.kafka = ReadBootstrap(file, r.name)).empty(); }, kKafkaTimeout);
    if (!st) return st;
    sup_.SetAddress("devkafka-" + r.name,
                    r.kafka + " (control 127.0.0.1:" + std::to_string(r.kafka_admin_port) + ")");
  }
  console_.Step(fmt::format("Kafka ready: us={} eu={} ap={}", regions_[0].kafka, regions_[1].kafka,
                            regions_[2].kafka));
  return Status::Ok();
}

Status DemoSystem::StartRedis() {
  console_.Step("starting Redis: one redis-server per region (" + redis_program_ + ")");
  for (auto& r : regions_) {
    auto port = FreePort();
    if (!port) return port.error();
    r.redis_port = *port;
    const std::string dir = data_dir_ + "/redis-" + r.name;
    std::filesystem::create_directories(dir);
    ChildSpec s{.name = "redis-" + r.name, .component = "redis", .region = r.name};
    s.argv = {redis_program_,
              "--port",
              std::to_string(*port),
              "--bind",
              "127.0.0.1",
              "--dir",
              dir,
              "--save",
              "",
              "--appendonly",
              "no",
              "--protected-mode",
              "no",
              "--daemonize",
              "no"};
    s.address = r.redis_url();
    if (Status st = Spawn(std::move(s)); !st) return st;
  }
  for (const auto& r : regions_) {
    Status st = WaitFor(
        "redis-" + r.name, "redis-server " + r.redis_url(),
        [&] {
          auto conn = Redis(r.name);
          if (!conn) return false;
          auto pong = (*conn)->Command({"PING"});
          return pong && pong->IsStatus("PONG");
        },
        kRedisTimeout);
    if (!st) return st;
  }
  console_.Step(fmt::format("Redis ready: us={} eu={} ap={}", regions_[0].redis_url(),
                            regions_[1].redis_url(), regions_[2].redis_url()));
  return Status::Ok();
}

// GC of crdt sidecars is off (--gc-horizon 0): a demo lives minutes, and the 24 h default
// horizon would never collect anything in it.
Status DemoSystem::SpawnApplier(const RegionInfo& r) {
  ChildSpec s{.name = "apply-" + r.name, .component = "apply", .region = r.name};
  s.argv = {self_exe_,      "apply",
            "--brokers",    r.kafka,
            "--group",      "walrus-demo-apply-" + r.name,
            "--redis",      r.redis_url(),
            "--mode",       "crdt",
            "--gc-horizon", "0",
            "--admin",      "127.0.0.1:" + std::to_string(r.apply_admin_port),
            "--log-level",  config_.log_level,
            "--src-key-file", src_key_file_};
  std::string trusted;
  for (const auto& t : kRegions) trusted += (trusted.empty() ? "" : ",") + t;
  s.argv.push_back("--trusted-source");
  s.argv.push_back(trusted);
  for (const auto& t : kRegions) {
    s.argv.push_back("--topic");
    s.argv.push_back(t + ".events");
  }
  for (const auto& p : kConsumerProps) {
    s.argv.push_back("-X");
    s.argv.push_back(p);
  }
  s.address = "admin 127.0.0.1:" + std::to_string(r.apply_admin_port);
  return Spawn(std::move(s));
}

Status DemoSystem::SpawnMirror(const RegionInfo& r, const std::vector<std::string>& sources) {
  ChildSpec s{.name = "mirror-" + r.name, .component = "mirror", .region = r.name};
  s.argv = {self_exe_,     "mirror",
            "--admin",     "127.0.0.1:" + std::to_string(r.mirror_admin_port),
            "--log-level", config_.log_level,
            "-X",          "reconnect.backoff.max.ms=1000",
            "--src-key-file", src_key_file_};
  for (const auto& c : regions_) {
    s.argv.push_back("--cluster");
    s.argv.push_back(c.name + "=" + c.kafka);
  }
  std::string from;
  for (const auto& src : sources) {
    s.argv.push_back("--flow");
    s.argv.push_back(src + ":" + r.name);
    from += (from.empty() ? "" : "+") + src;
  }
  s.address =
      fmt::format("{}.events -> {} (admin 127.0.0.1:{})", from, r.name, r.mirror_admin_port);
  return Spawn(std::move(s));
}

Status DemoSystem::StartServices() {
  console_.Step(
      "starting appliers (walrus apply --mode crdt, 3 topics each) and mirrors (walrus mirror, "
      "2 flows into each region)");
  for (auto& r : regions_) {
    auto a = FreePort();
    auto m = FreePort();
    if (!a) return a.error();
    if (!m) return m.error();
    r.apply_admin_port = *a;
    r.mirror_admin_port = *m;
    if (Status st = SpawnApplier(r); !st) return st;
    std::vector<std::string> sources;
    for (const auto& o : kRegions) {
      if (o != r.name) sources.push_back(o);
    }
    if (Status st = SpawnMirror(r, sources); !st) return st;
  }
  for (const auto& r : regions_) {
    if (Status st =
            WaitHttpReady("apply-" + r.name, r.apply_admin_port, "/readyz", kServiceTimeout);
        !st) {
      return st;
    }
    if (Status st =
            WaitHttpReady("mirror-" + r.name, r.mirror_admin_port, "/readyz", kServiceTimeout);
        !st) {
      return st;
    }
  }
  console_.Step("appliers and mirrors ready (consumer groups joined, flows running)");
  return Status::Ok();
}

Status DemoSystem::StartGateway() {
  auto hp = http::ParseHostPort(config_.http);
  if (!hp) return hp.error();
  gateway_.enabled = true;
  gateway_.token = RandomToken();
  gateway_.host = hp->host == "0.0.0.0" || hp->host.empty() ? "127.0.0.1" : hp->host;
  gateway_.port = hp->port;
  if (gateway_.port == 0) {
    auto port = FreePort();
    if (!port) return port.error();
    gateway_.port = *port;
  }
  console_.Step("starting the gateway (walrus gateway) on " + gateway_.url());
  ChildSpec s{.name = "gateway", .component = "gateway", .region = "-"};
  s.argv = {self_exe_,     "gateway",
            "--http",      fmt::format("{}:{}", hp->host, gateway_.port),
            "--hlc-dir",   data_dir_ + "/gateway-hlc",
            "--log-level", config_.log_level};
  std::filesystem::create_directories(data_dir_ + "/gateway-hlc");
  for (const auto& r : regions_) {
    s.argv.insert(s.argv.end(),
                  {"--region", r.name + "=" + r.kafka, "--redis", r.name + "=" + r.redis_url()});
  }
  s.env = {{"WALRUS_GATEWAY_TOKEN", gateway_.token}};
  s.address = gateway_.url();
  if (Status st = Spawn(std::move(s)); !st) return st;
  Status st = WaitHttpReady("gateway", gateway_.port, "/readyz", kServiceTimeout);
  if (!st) {
    return Error(st.error().code,
                 st.error().message + "\n  (is --http " + config_.http +
                     " free? pick another --http HOST:PORT, or run with --no-gateway)");
  }
  console_.Step("gateway ready");
  return Status::Ok();
}

Status DemoSystem::SetKafkaUp(const std::string& name, bool up) {
  const RegionInfo& r = region(name);
  const std::string path = fmt::format("/clusters/{}/brokers/1/{}", name, up ? "up" : "down");
  auto res = HttpPost("127.0.0.1", r.kafka_admin_port, path, "", "", 5s);
  if (!res) return res.error();
  if (res->status != 200) {
    return Error(Errc::kInternal,
                 fmt::format("devkafka {} {}: HTTP {} {}", name, path, res->status, res->body));
  }
  return Status::Ok();
}

void DemoSystem::KillApplier(const std::string& name) { sup_.Kill("apply-" + name); }

void DemoSystem::StopApplier(const std::string& name) { sup_.Stop("apply-" + name); }

Status DemoSystem::StartApplier(const std::string& name) {
  const RegionInfo& r = region(name);
  if (Status st = SpawnApplier(r); !st) return st;
  return WaitHttpReady("apply-" + name, r.apply_admin_port, "/readyz", kServiceTimeout);
}

Status DemoSystem::StartMirror(const std::string& name, const std::vector<std::string>& sources) {
  StopMirror(name);
  if (sources.empty()) return Status::Ok();
  const RegionInfo& r = region(name);
  if (Status st = SpawnMirror(r, sources); !st) return st;
  return WaitHttpReady("mirror-" + name, r.mirror_admin_port, "/readyz", kServiceTimeout);
}

void DemoSystem::StopMirror(const std::string& name) { sup_.Stop("mirror-" + name); }

Result<std::unique_ptr<redis::Connection>> DemoSystem::Redis(const std::string& name) const {
  redis::Endpoint ep;
  ep.host = "127.0.0.1";
  ep.port = region(name).redis_port;
  redis::ConnectOptions opts;
  opts.connect_timeout = 1s;
  opts.io_timeout = 10s;
  opts.client_name = "walrus-demo";
  return redis::Connection::Connect(ep, opts);
}

Status DemoSystem::FlushAll(const std::string& name) {
  auto conn = Redis(name);
  if (!conn) return conn.error();
  auto r = (*conn)->CommandOk({"FLUSHALL"});
  if (!r) return r.error();
  return Status::Ok();
}

Result<std::vector<int>> DemoSystem::RunWalrus(const std::vector<WalrusRun>& runs,
                                               std::chrono::milliseconds timeout) {
  for (const auto& run : runs) {
    ChildSpec s{
        .name = run.name, .component = run.name.substr(0, run.name.find('-')), .region = "-"};
    s.argv = {self_exe_};
    s.argv.insert(s.argv.end(), run.args.begin(), run.args.end());
    s.stdin_path = run.stdin_path;
    s.log_path = LogPath(run.name);
    std::filesystem::remove(s.log_path);
    if (Status st = Spawn(std::move(s)); !st) return st.error();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<int> codes;
  for (const auto& run : runs) {
    while (true) {
      auto code = sup_.WaitExit(run.name, 50ms);
      if (code) {
        codes.push_back(*code);
        break;
      }
      if (stop_.load() || std::chrono::steady_clock::now() >= deadline) {
        for (const auto& r : runs) sup_.Kill(r.name);
        return Error(
            stop_.load() ? Errc::kInternal : Errc::kTimeout,
            fmt::format("{} {}; log {}:{}", run.name, stop_.load() ? "interrupted" : "timed out",
                        LogPath(run.name), LogTail(run.name)));
      }
    }
  }
  return codes;
}

}  // namespace walrus::demo
