#pragma once

// StateReader: reads one region's Redis for the gateway — the whole user dataset (for
// /api/regions/<r>/state and the convergence digests), one key, or a PING for readiness.
//
//   StateReader reader(region.redis);
//   auto snap = reader.Read(/*max_listed=*/500);
//   if (snap) fmt::print("{} keys, digest {}\n", snap->keys, snap->digest);
//   auto kv = reader.ReadKey("cart:alice");        // nullopt: no such key
//
// Reading: the dataset reader (src/dataset/reader.h) over the user keys (`walrus:*` skipped),
// in chunks of 500 keys, remaining TTLs (PTTL), other types without a value; the digest is the
// canonical one (src/dataset/digest.h, docs/dataset-digest.md). Not a point-in-time snapshot: a
// key changed while it is read shows its newer value, a key deleted in between (or that cannot
// be read) is skipped. Cost grows with the dataset (the demo's is a few hundred keys).
//
// Threading: thread-safe; each call takes a connection from a small pool (connections that
// broke are dropped, new ones are made on demand). Owns its connections.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "gateway/key_json.h"
#include "redis/connection.h"
#include "redis/endpoint.h"

namespace walrus::gateway {

struct Snapshot {
  std::string digest;          // over every user key
  size_t keys = 0;             // user keys
  bool truncated = false;      // keys > max_listed
  std::vector<KeyValue> data;  // the first max_listed keys, sorted
};

class StateReader {
 public:
  explicit StateReader(redis::Endpoint ep,
                       std::chrono::milliseconds io_timeout = std::chrono::milliseconds(3000));

  // Errors: the connection's (kIo, kTimeout, kAuth...) or a Redis error reply.
  Result<Snapshot> Read(size_t max_listed);
  Result<std::optional<KeyValue>> ReadKey(std::string_view key);
  Status Ping();

 private:
  class Lease;  // a pooled connection, returned on destruction unless broken
  Result<std::unique_ptr<redis::Connection>> Acquire();
  void Release(std::unique_ptr<redis::Connection> c);
  // The keys of `keys` that exist, read; the others dropped.
  Result<std::vector<KeyValue>> Fill(redis::Connection& c, const std::vector<std::string>& keys);

  const redis::Endpoint ep_;
  const redis::ConnectOptions opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<redis::Connection>> idle_;
};

}  // namespace walrus::gateway
