#pragma once

// The dataset reader: the one walk of a Redis dataset — SCAN for the keys, then per chunk of
// keys two pipelined round trips: TYPE + the expiry, then one read of the value by type (GET,
// HGETALL, SMEMBERS, ZRANGE WITHSCORES, LRANGE, XRANGE; DUMP for other types when asked).
// Used by `walrus verify` (every instance, sidecars included, absolute expiries) and the
// gateway (a region's user keys, remaining TTLs). Binary-safe: keys and values are byte strings.
//
//   auto keys = dataset::ScanKeys(conn, dataset::IsUserKey);      // sorted, unique
//   auto kvs = dataset::ReadKeys(conn, *keys, {.expiry = dataset::Expiry::kTtl});
//   for (auto& kv : *kvs) if (kv.type != "none") ...              // canonicalized (digest.h)
//
// Not a point-in-time snapshot: a key changed while it is read shows its newer value; a key
// deleted (or expired) between the two round trips reads as type "none".
//
// Threading: the caller's thread; uses the caller's connection (which it leaves with nothing
// pending, or broken after an I/O error).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "dataset/key_value.h"
#include "redis/connection.h"

namespace walrus::dataset {

// Which expiry command fills KeyValue: PTTL -> ttl_ms (remaining, any Redis) or PEXPIRETIME ->
// expire_at_ms (absolute Unix ms, Redis 7.0+; comparable across instances).
enum class Expiry { kTtl, kExpireTime };

struct ReadOptions {
  Expiry expiry = Expiry::kTtl;
  // Read other types (modules) whole with DUMP into KeyValue::str (verify); false: type only.
  bool dump_other_types = false;
  // An error reply to a value read: false -> the read fails (naming the instance); true -> the key reads as "none" (it changed type meanwhile, or cannot be read).
  bool error_reads_as_missing = false;
};

// Every key for which `wanted(key)` holds, by SCAN (COUNT 1000), sorted bytewise, without the
// repeats SCAN may return. Errors: the connection's, or an error reply (its code by the reply's
// prefix, ReplyView::ToError; the message names the instance, "host:port: ERR ...").
Result<std::vector<std::string>> ScanKeys(redis::Connection& c,
                                          const std::function<bool(std::string_view)>& wanted);

// One KeyValue per key of `keys`, in that order, canonicalized (digest.h); type "none" for a key
// that does not exist. Two pipelined round trips whatever the number of keys: the caller chunks.
// Errors: the connection's; an error reply (as ScanKeys) to TYPE or the expiry, or to a value
// read unless opts.error_reads_as_missing.
Result<std::vector<KeyValue>> ReadKeys(redis::Connection& c, const std::vector<std::string>& keys,
                                       const ReadOptions& opts);

}  // namespace walrus::dataset
