// redis_bench: pipelined SET throughput of Connection against a real redis-server.
//
//   redis_bench [--url redis://127.0.0.1:6379] [--n 1000000] [--batch 5000] [--size 64]
//
// Without --url it starts its own redis-server (walrus_testing). Prints commands/s for plain
// pipelined batches and for MULTI/EXEC-wrapped batches (the applier's shape). Compare with
// `redis-benchmark -t set -P 64 -n 1000000 -d 64`.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "redis/connection.h"
#include "testing/redis_server.h"

namespace {

using walrus::redis::Connection;
using walrus::redis::Reply;

struct Args {
  std::string url;
  long n = 1000000;
  long batch = 5000;
  long size = 64;
};

// Writes `v` as 10 zero-padded digits at `out`, no allocation.
void FormatKey(long v, char* out) {
  for (int i = 9; i >= 0; --i, v /= 10) out[i] = static_cast<char>('0' + v % 10);
}

// Appends one batch of `count` SETs starting at `first` (wrapped in MULTI/EXEC if `multi`).
void AppendBatch(Connection& c, long first, long count, bool multi, const std::string& value,
                 std::string& key) {
  if (multi) c.Append({"MULTI"});
  for (long i = 0; i < count; ++i) {
    FormatKey((first + i) % 100000, key.data() + 4);
    c.AppendArgs("SET", std::string_view(key), std::string_view(value));
  }
  if (multi) c.Append({"EXEC"});
}

void Check(const walrus::Status& st, const std::vector<Reply>& replies, bool multi, long count) {
  if (!st) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    std::exit(1);
  }
  const Reply& last = replies.back();
  if (last.IsError() || (multi && last.size() != static_cast<size_t>(count))) {
    std::fprintf(stderr, "unexpected reply: %s\n", last.DebugString().c_str());
    std::exit(1);
  }
}

// Sends `n` SETs in batches, with `depth` batches in flight (1: append, read, repeat;
// 2: the next batch is sent before the previous one's replies are read). Returns SETs/s.
double Run(Connection& c, const Args& a, bool multi, int depth) {
  const std::string value(static_cast<size_t>(a.size), 'x');
  std::string key = "key:0000000000";
  std::vector<Reply> replies;
  std::vector<long> in_flight;  // sizes of sent, unread batches
  const size_t extra = multi ? 2 : 0;
  const auto start = std::chrono::steady_clock::now();
  for (long done = 0; done < a.n || !in_flight.empty();) {
    if (done < a.n && in_flight.size() < static_cast<size_t>(depth)) {
      const long count = std::min(a.batch, a.n - done);
      AppendBatch(c, done, count, multi, value, key);
      done += count;
      in_flight.push_back(count);
      if (auto st = c.Flush(); !st) Check(st, replies, multi, count);
      if (done < a.n && in_flight.size() < static_cast<size_t>(depth)) continue;
    }
    const long count = in_flight.front();
    in_flight.erase(in_flight.begin());
    Check(c.ReadReplies(static_cast<size_t>(count) + extra, &replies), replies, multi, count);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(a.n) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--url"))
      a.url = argv[i + 1];
    else if (!std::strcmp(argv[i], "--n"))
      a.n = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      a.batch = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--size"))
      a.size = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  std::unique_ptr<walrus::test::RedisServer> server;
  if (a.url.empty()) {
    auto srv = walrus::test::RedisServer::Start();
    if (!srv) {
      std::fprintf(stderr, "start redis-server: %s\n", srv.error().message.c_str());
      return 1;
    }
    server = std::move(*srv);
    a.url = server->url();
  }
  auto ep = walrus::redis::ParseRedisUrl(a.url);
  if (!ep) {
    std::fprintf(stderr, "%s\n", ep.error().message.c_str());
    return 2;
  }
  auto conn = Connection::Connect(*ep);
  if (!conn) {
    std::fprintf(stderr, "%s\n", conn.error().message.c_str());
    return 1;
  }
  std::printf("redis_bench url=%s n=%ld batch=%ld size=%ld\n", walrus::redis::Redacted(*ep).c_str(),
              a.n, a.batch, a.size);
  Args warm = a;
  warm.n = std::min(a.n, 100000L);
  Run(**conn, warm, false, 1);
  for (int depth : {1, 2}) {
    std::printf("depth %d  pipelined SET:      %10.0f SET/s\n", depth,
                Run(**conn, a, false, depth));
    std::printf("depth %d  MULTI/EXEC batches: %10.0f SET/s\n", depth, Run(**conn, a, true, depth));
  }
  return 0;
}
