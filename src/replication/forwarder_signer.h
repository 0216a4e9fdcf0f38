#pragma once

// ForwarderSigner: computes, on the prefetch thread (ForwarderPrefetch's per-record hook), the
// walrus-src-mac a replication::Forwarder will append to a record (core/src_mac.h), so that the MAC
// costs the copying thread nothing: that thread only appends the header. Knows each route's
// target topic, partition and provenance prefix (a copy of the routes, fixed at Assign()), and
// fixes the create time the copy is written with (the source's, or the wall clock for a record
// without one), which the MAC covers.
//
//   internal::ForwarderSigner signer(key, routes);
//   internal::ForwarderPrefetch pre(queue, [&](internal::PrefetchedRecord& r) { signer.Sign(r); });
//   // later, copying thread: if (rec.signed_mac) add header walrus-src-mac = rec.mac, ts = rec.ts
//
// Threading: Sign() on one thread (the prefetch thread) only. Ownership: owns its HMAC context
// and copies of the routes.

#include <cstdint>
#include <string>
#include <vector>

#include "core/src_mac.h"
#include "replication/forwarder.h"
#include "replication/forwarder_prefetch.h"

struct rd_kafka_topic_s;

namespace walrus::replication::internal {

class ForwarderSigner {
 public:
  ForwarderSigner(const SrcKey& key, const std::vector<Forwarder::Route>& routes);

  // For a routed record without error: sets rec.ts and rec.mac, then rec.signed_mac. Leaves an
  // unrouted record alone (the forwarder does not copy it).
  void Sign(PrefetchedRecord& rec);

  // The create time a copy is written with: the source record's, else the wall clock (unix ms).
  static int64_t CopyTimestamp(int64_t source_ts);

 private:
  struct Topic {
    std::string name;
    std::vector<int> route_of;  // by partition; -1: not routed
  };
  int RouteOf(const rd_kafka_topic_s* rkt, int32_t partition);

  std::vector<Forwarder::Route> routes_;
  std::vector<Topic> topics_;
  const rd_kafka_topic_s* last_rkt_ = nullptr;  // cache of the last topic looked up
  int last_topic_ = -1;
  SrcMac mac_;
  std::string src_;  // provenance value being built
};

}  // namespace walrus::replication::internal
