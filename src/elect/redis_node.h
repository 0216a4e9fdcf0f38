#pragma once

// RedisNode: the NodeControl of a real local Redis (the sidecar's node), over one lazily
// (re)connected walrus::redis::Connection.
//
//   RedisNode node({.local = *redis::ParseRedisUrl("redis://127.0.0.1:6379"),
//                   .fence_host = "192.0.2.1", .fence_port = 6379});
//   auto st = node.Probe();            // INFO server + INFO replication + GET walrus:epoch
//   node.Promote(42);                  // REPLICAOF NO ONE; SET walrus:epoch 42 (pipelined)
//   node.Follow("10.0.0.7", 6379);     // REPLICAOF 10.0.0.7 6379
//   node.Fence();                      // REPLICAOF 192.0.2.1 6379: read-only at once
//
// Fencing by REPLICAOF (rather than CLIENT PAUSE or min-replicas-to-write): the server refuses
// every write at once with -READONLY (a MULTI queued before is aborted at EXEC), the state is
// visible to every client and tool as ROLE slave, nothing has to be undone later (following the
// next leader is just another REPLICAOF), and the dataset is kept until a real primary syncs it.
// The fence target is an address that never answers (TEST-NET-1 by default).
//
// Any transport error drops the connection; the next call reconnects. The leader connection (for
// LeaderOffset) uses the local endpoint's credentials and TLS settings.
//
// Threading: one thread uses an object (the elector thread, or the guard process).

#include <chrono>
#include <memory>
#include <string>

#include "elect/lease_backend.h"
#include "protocol/redis_keys.h"
#include "redis/connection.h"
#include "redis/endpoint.h"

namespace walrus::elect {

inline constexpr const char* kEpochKey = protocol::kEpochKey.data();  // NUL-terminated literal

struct RedisNodeOptions {
  redis::Endpoint local;
  std::string fence_host = "192.0.2.1";
  int fence_port = 6379;
  std::chrono::milliseconds timeout{1000};  // connect and per-reply timeout
};

class RedisNode final : public NodeControl {
 public:
  explicit RedisNode(RedisNodeOptions opts) : opts_(std::move(opts)) {}

  Result<NodeState> Probe() override;
  Status Promote(int64_t epoch) override;
  Status Follow(const std::string& host, int port) override;
  Status Fence() override;
  Result<int64_t> LeaderOffset(const std::string& host, int port) override;

 private:
  // The connection, connecting if needed.
  Result<redis::Connection*> Conn();
  // Sends the pipelined commands in argvs, returns their replies; error replies become Errors
  // when `ok_only`.
  Result<std::vector<redis::Reply>> Pipeline(const std::vector<std::vector<std::string>>& argvs,
                                             bool ok_only);

  const RedisNodeOptions opts_;
  std::unique_ptr<redis::Connection> conn_;
  std::unique_ptr<redis::Connection> leader_conn_;
  std::string leader_addr_;
};

// "key:value" lines of an INFO reply -> the value of `key` ("" if absent).
std::string InfoField(std::string_view info, std::string_view key);

}  // namespace walrus::elect
