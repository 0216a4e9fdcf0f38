// crdt_bench: crdt-mode apply throughput of CrdtPlanner + our pipelined client against a real
// redis-server, in the applier's shape (per batch: MULTI, SCRIPT LOAD, one EVALSHA per record,
// EXEC). bench/crdt_bench.py compares it with redis-benchmark EVALSHA of the same script.
//
//   crdt_bench --url redis://127.0.0.1:6379 [--variant set|incr|sadd] [--n 200000]
//              [--batch 500] [--keys 1000000]
//
// Keys and stamps are random (like redis-benchmark's __rand_int__), so about half of the LWW
// writes lose against a newer stamp already there. Prints "<variant> <ops/s>".

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "crdt/crdt_planner.h"
#include "redis/connection.h"

namespace {

using walrus::Argv;
using walrus::Hlc;
using walrus::Op;
using walrus::Write;

struct Args {
  std::string url = "redis://127.0.0.1:6379";
  std::string variant = "set";
  long n = 200000;
  long batch = 500;
  long keys = 1000000;
};

Write Make(const Args& a, std::mt19937_64& rng) {
  std::uniform_int_distribution<long> key(0, a.keys - 1);
  std::uniform_int_distribution<int64_t> ms(0, 999999);
  Write w;
  w.origin = "us";
  w.hlc = walrus::EncodeHlc(Hlc{ms(rng), 0});
  Op op;
  if (a.variant == "set") {
    op = Op{.cmd = "SET", .key = "k:" + std::to_string(key(rng)), .args = {std::string(64, 'x')}};
  } else if (a.variant == "incr") {
    op = Op{.cmd = "INCR", .key = "c:" + std::to_string(key(rng))};
  } else {
    op = Op{.cmd = "SADD", .key = "s:{x}", .args = {"m" + std::to_string(key(rng))}};
  }
  w.ops.push_back(std::move(op));
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--url")
      a.url = argv[i + 1];
    else if (f == "--variant")
      a.variant = argv[i + 1];
    else if (f == "--n")
      a.n = std::atol(argv[i + 1]);
    else if (f == "--batch")
      a.batch = std::atol(argv[i + 1]);
    else if (f == "--keys")
      a.keys = std::atol(argv[i + 1]);
  }
  auto ep = walrus::redis::ParseRedisUrl(a.url);
  if (!ep) {
    std::fprintf(stderr, "%s\n", ep.error().message.c_str());
    return 2;
  }
  auto conn = walrus::redis::Connection::Connect(*ep);
  if (!conn) {
    std::fprintf(stderr, "%s\n", conn.error().message.c_str());
    return 2;
  }
  walrus::crdt::CrdtPlanner planner;
  const auto scripts = planner.Scripts();
  std::mt19937_64 rng(42);
  // Records are generated up front (they arrive decoded in the applier); planning is timed.
  std::vector<Write> writes;
  writes.reserve(static_cast<size_t>(a.n));
  for (long i = 0; i < a.n; ++i) writes.push_back(Make(a, rng));

  auto& c = **conn;
  std::vector<Argv> cmds;
  std::vector<walrus::redis::Reply> replies;
  const auto start = std::chrono::steady_clock::now();
  for (long first = 0; first < a.n; first += a.batch) {
    const long end = std::min(a.n, first + a.batch);
    cmds.clear();
    for (long i = first; i < end; ++i) {
      if (auto st = planner.Plan(writes[static_cast<size_t>(i)], 0, cmds); !st) {
        std::fprintf(stderr, "plan: %s\n", st.error().message.c_str());
        return 1;
      }
    }
    c.Append({"MULTI"});
    for (const auto& s : scripts) c.Append({"SCRIPT", "LOAD", s});
    for (const auto& cmd : cmds) c.Append(cmd);
    c.Append({"EXEC"});
    if (auto st = c.ReadReplies(c.pending(), &replies); !st) {
      std::fprintf(stderr, "redis: %s\n", st.error().message.c_str());
      return 1;
    }
    const auto& exec = replies.back();
    for (size_t i = 0; i < exec.size(); ++i) {
      if (exec.element(i).IsError()) {
        std::fprintf(stderr, "script error: %s\n", exec.element(i).DebugString().c_str());
        return 1;
      }
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %.0f\n", a.variant.c_str(), static_cast<double>(a.n) / secs);
  return 0;
}
