#pragma once

// The op model: what one Kafka record asks walrus to do to Redis.
//
// A record value decodes (see decoder.h) into one Write holding one Op, or several when the
// producer used `multi` (applied atomically together). Ops are plain values; they are produced by
// a decoder on a consumer thread and consumed by the planner (planner.h) on the same thread.
//
//   walrus::Op op{.cmd = "SET", .key = "orders:42", .args = {"paid"}, .ttl_ms = 30000};
//   walrus::Write w;
//   w.ops.push_back(std::move(op));
//   std::string json = walrus::EncodeJson(w);  // json_codec.h

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace walrus {

// One single-key Redis write command.
struct Op {
  std::string cmd;                      // canonical upper-case name, e.g. "SET"
  std::string key;                      // the Redis key (binary-safe)
  std::vector<std::string> args;        // arguments after the key, decoded (binary-safe)
  std::optional<int64_t> ttl_ms;        // relative TTL; absolute expiry = record timestamp + ttl_ms
  std::optional<int64_t> expire_at_ms;  // absolute expiry (unix ms)

  bool operator==(const Op&) const = default;
};

// Everything one Kafka record carries.
struct Write {
  std::vector<Op> ops;  // exactly 1 unless multi
  bool multi = false;   // ops must be applied atomically together
  std::string origin;   // active-active: origin region ("" if absent)
  std::string hlc;      // active-active: HLC stamp as text ("" if absent; opaque here)

  bool operator==(const Write&) const = default;
};

}  // namespace walrus
