#pragma once

// ArrivalDedup: makes sure each record of a region's own topic becomes exactly one `op` event
// in that region, although two paths can report it: the producer's acknowledgement (the gateway
// wrote it: it arrived in its origin region the moment Kafka acknowledged it) and the region's
// consumer reading it back. Whichever comes first wins; the other is told to skip.
//
//   ArrivalDedup d(100000);
//   if (d.FirstFromAck(partition, offset)) hub.Publish("op", ...);       // producer thread
//   if (d.FirstFromConsumer(partition, offset)) hub.Publish("op", ...);  // consumer thread
//
// Memory is bounded: each side remembers at most `capacity` coordinates the other side has not
// reported yet (oldest forgotten first; a record whose other report never comes — written by
// another producer, or acknowledged before the consumer started — costs one slot until evicted).
// Threading: thread-safe (one mutex).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <utility>

namespace walrus::gateway {

class ArrivalDedup {
 public:
  explicit ArrivalDedup(size_t capacity) : capacity_(capacity) {}

  // True if the consumer has not reported (partition, offset) yet.
  bool FirstFromAck(int32_t partition, int64_t offset);
  // True if no acknowledgement reported (partition, offset) yet.
  bool FirstFromConsumer(int32_t partition, int64_t offset);

 private:
  using Coord = std::pair<int32_t, int64_t>;
  struct Side {
    std::set<Coord> set;
    std::deque<Coord> order;  // insertion order, for eviction
  };
  bool First(Side& mine, Side& other, Coord c);

  const size_t capacity_;
  std::mutex mu_;
  Side acked_, consumed_;
};

}  // namespace walrus::gateway
