#pragma once

// The canonical form of a dataset and its digest: the one rendering that `walrus verify` (per
// key) and the gateway (per region, the dashboard's convergence) hash. Pure functions, any
// thread. The form is a contract (digests are compared across processes and versions); it is
// described in docs/dataset-digest.md and pinned by digest_test.cc.
//
//   KeyValue kv{.key = "s", .type = "set", .items = {"bb", "a"}};
//   Canonicalize(kv);                 // items sorted: {"a", "bb"}
//   std::string t;
//   AppendCanonical(kv, t);           // "1:s3:set2#1:a2:bb\n"
//   DigestOf({kv});                   // sha1 hex of the renderings of every key, in key order
//   KeyDigest(kv);                    // sha1 hex of this key's rendering alone
//
// Per key: the key, its type and its value; never its expiry (compared apart, by verify). Every
// item is length-prefixed, so no two different datasets render the same.

#include <string>
#include <string_view>
#include <vector>

#include "dataset/key_value.h"

namespace walrus::dataset {

// True for keys that are user data (not in the reserved namespace "walrus:", core/keyspace.h).
// A region's dataset, as the gateway digests it, is its user keys.
bool IsUserKey(std::string_view key);

// Sorts what has no order of its own: hash fields and set members (bytewise).
void Canonicalize(KeyValue& kv);

// Appends kv's canonical rendering to `out`. Precondition: Canonicalize(kv) was applied.
void AppendCanonical(const KeyValue& kv, std::string& out);

// SHA1 hex of kv's rendering alone. Precondition: Canonicalize(kv) was applied.
std::string KeyDigest(const KeyValue& kv);

// SHA1 hex over the canonical renderings of `sorted` (each canonicalized, sorted by key).
std::string DigestOf(const std::vector<KeyValue>& sorted);

}  // namespace walrus::dataset
